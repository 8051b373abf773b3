#!/bin/sh
# Runs the README's walk-through exactly as written: the ```sh block between
# the markers "<!-- walkthrough" and "<!-- /walkthrough -->", in an empty
# folder, with the built glia first on PATH; any command that fails fails.
#   readme_walkthrough.sh README.md GLIA WORKDIR
set -eu
readme=$1 glia=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
awk '/<!-- walkthrough/ {on = 1; next} /<!-- \/walkthrough -->/ {on = 0} on && !/^```/' "$readme" >"$work/walkthrough.sh"
[ -s "$work/walkthrough.sh" ] || { echo "FAIL: no walk-through block in $readme"; exit 1; }
cat "$work/walkthrough.sh"
cd "$work"
PATH="$(dirname "$glia"):$PATH" sh -ex ./walkthrough.sh
echo "ok: the README's walk-through ran as written"
