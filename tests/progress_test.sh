#!/bin/sh
# Long commands show progress on a terminal and stay silent in a pipe:
# glia synth, glia dataset and glia infer under a pseudo-terminal (script(1),
# util-linux) print their progress line; piped, none has an escape sequence.
#   progress_test.sh GLIA WORKDIR
set -u
glia=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
command -v script >/dev/null || { echo "skip: no script(1)"; exit 77; }
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"
tty() { script -qec "$1" /dev/null </dev/null | tr '\r' '\n'; }
tty "$glia synth -o $work/data --cases 2 --size 32x32x16 --threads 1" | grep -aq "writing cases \[" ||
    fail "glia synth showed no progress on a terminal"
tty "$glia dataset $work/data" | grep -aq "checking cases \[" || fail "glia dataset showed no progress"
"$glia" init unet3d --features 4,8 --in-channels 4 --out-channels 3 -o "$work/u.safetensors" >/dev/null || fail init
tty "$glia infer --weights $work/u.safetensors $work/data -o $work/out --device cpu --window 16,16,8 --no-overlays" |
    grep -aq "BraTS2021_00000 \[.*\] [0-9]*/[0-9]*  ETA" || fail "glia infer showed no progress within a case"
out=$("$glia" synth -o "$work/data2" --cases 2 --size 32x32x16 --threads 1 2>&1
      "$glia" infer --weights "$work/u.safetensors" "$work/data2" -o "$work/out2" --device cpu --window 16,16,8 \
          --no-overlays 2>&1)
printf '%s' "$out" | grep -q "$(printf '\033')" && fail "progress escapes in piped output: $out"
echo "ok: progress on a terminal, none in a pipe"
