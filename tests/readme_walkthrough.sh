#!/bin/sh
# Checks that the README's copy of examples/embed.c is the file, then runs the
# README's walk-through exactly as written: the ```sh block between
# the markers "<!-- walkthrough" and "<!-- /walkthrough -->", in an empty
# folder, with the built glia first on PATH; any command that fails fails.
#   readme_walkthrough.sh README.md GLIA WORKDIR
set -eu
readme=$1 glia=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
awk '/<!-- walkthrough/ {on = 1; next} /<!-- \/walkthrough -->/ {on = 0} on && !/^```/' "$readme" >"$work/walkthrough.sh"
[ -s "$work/walkthrough.sh" ] || { echo "FAIL: no walk-through block in $readme"; exit 1; }
# the example program shown in the README is examples/embed.c, which the install test builds and runs
awk '/<!-- embed.c -->/ {on = 1; next} /<!-- \/embed.c -->/ {on = 0} on && !/^```/' "$readme" >"$work/embed.c"
cmp -s "$work/embed.c" "$(dirname "$readme")/examples/embed.c" ||
    { echo "FAIL: the README's embed.c differs from examples/embed.c"; exit 1; }
cat "$work/walkthrough.sh"
cd "$work"
PATH="$(dirname "$glia"):$PATH" sh -ex ./walkthrough.sh
echo "ok: the README's walk-through ran as written"
