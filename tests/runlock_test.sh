#!/bin/sh
# One run per run folder, through the CLI: while glia train --out R runs, a
# second --out R and a --resume R fail at once, naming its PID, and it ends
# cleanly with its own configuration; a run killed before its first
# checkpoint resumes from the beginning, and the temporary files of dead
# writers go (a live writer's stay).
#   runlock_test.sh GLIA WORKDIR
set -u
glia=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "cannot make $work"
"$glia" synth -o data --cases 2 --size 32x32x16 --threads 1 >/dev/null 2>&1 || fail "glia synth"
tiny="--data data --model unet2d --features 4,8 --target wt --folds 0 --size 32,32 --batch 2 --device cpu
      --threads 1 --loader-threads 1"
# waits up to 60 s for file $1
wait_for() {
    i=0
    while [ ! -f "$1" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    [ -f "$1" ]
}

# shellcheck disable=SC2086
"$glia" train $tiny --epochs 1000000 --steps-per-epoch 2 --out R >first.txt 2>&1 &
first=$!
wait_for R/config.json || { kill $first; fail "no config.json after 60 s"; }
cp R/config.json config-first.json
# shellcheck disable=SC2086
timeout 30 "$glia" train $tiny --epochs 1 --lr 0.5 --out R >second.txt 2>&1
rc=$?
[ $rc -eq 1 ] || { kill $first; cat second.txt; fail "a second --out R exited $rc"; }
grep -q "R is in use: another glia (PID $first)" second.txt || { kill $first; cat second.txt; fail "message"; }
timeout 30 "$glia" train --resume R >resume.txt 2>&1
rc=$?
[ $rc -eq 1 ] || { kill $first; cat resume.txt; fail "--resume R of a running R exited $rc"; }
grep -q "PID $first" resume.txt || { kill $first; cat resume.txt; fail "--resume message"; }
kill -INT $first
wait $first
rc=$?
[ $rc -eq 130 ] || { cat first.txt; fail "the first run exited $rc after Ctrl-C"; }
cmp -s R/config.json config-first.json || fail "config.json changed under the first run"
ls -A R | grep -q tmp && fail "temporary files left: $(ls -A R)"
done_epochs=$(($(wc -l <R/log.csv) - 1))
"$glia" train --resume R --epochs $((done_epochs + 1)) >again.txt 2>&1 || { cat again.txt; fail "resume after"; }

# killed before its first checkpoint (an epoch far longer than the wait for config.json)
# shellcheck disable=SC2086
"$glia" train $tiny --epochs 1 --steps-per-epoch 3000 --out K >killed.txt 2>&1 &
victim=$!
wait_for K/config.json || { kill $victim; fail "no config.json in K after 60 s"; }
kill -9 $victim
wait $victim
[ ! -f K/last.safetensors ] || fail "K has a checkpoint: the kill came too late"
# what a killed write leaves, and a live writer's file
touch "K/.glia-tmp-$victim-0" "K/last.safetensors.tmp.$victim.0" "K/.glia-tmp-$$-0"
"$glia" train --resume K >k.txt 2>&1 || { cat k.txt; fail "--resume of a run killed before its first checkpoint"; }
grep -q "training it from the beginning" k.txt || { cat k.txt; fail "the resume did not say it starts over"; }
[ -f K/last.safetensors ] || fail "no checkpoint after the resume"
[ "$(($(wc -l <K/log.csv) - 1))" -eq 1 ] || fail "the resumed run did not train its epoch"
[ ! -e "K/.glia-tmp-$victim-0" ] && [ ! -e "K/last.safetensors.tmp.$victim.0" ] || fail "dead writers' files stayed"
[ -e "K/.glia-tmp-$$-0" ] || fail "a live writer's file was removed"
echo "ok: a busy folder turns runs away; a run without a checkpoint resumes; stale temporary files go"
