#!/bin/sh
# Data-parallel training and inference under a real MPI launcher (Open MPI or
# MPICH), two ranks on this machine, against one process:
#   mpi_test.sh CASE GLIA MPIEXEC PYTHON WORKDIR
# CASE:
#   nobn    2 ranks x batch 2 against 1 process x batch 4, no batch norm, cpu
#   syncbn  the same with batch norm and --sync-bn
#   mixed   --sync-bn with rank 0 on opencl:0 (PoCL) and rank 1 on vulkan:0 (lavapipe)
#   kill    rank 1 killed mid-run: the job ends non-zero, last.safetensors resumes
#   term    SIGTERM to the launcher mid-epoch (batch norm per rank): every rank stops at one step,
#           rank 0 saves a checkpoint the ranks agree on, and it resumes
#   infer   distributed glia infer writes the masks one process writes; glia eval the same table
#   bench   glia bench: the allreduce table, and a model training step with gradients averaged
# Weights agree when ||A - B|| <= 1e-3 ||A - W0|| (tests/mpi/weights.py): the
# difference is rounding, float32 sums taken in another order (the two
# ranks' halves, then their sum), ~1e-7 of a value per step, which the 6 SGD
# steps here carry into the weights at the same relative size; a wrong share
# of the batch, a gradient summed rather than averaged, or batch-norm
# statistics of the wrong samples move the weights by the size of the update
# itself (ratio ~1). SGD with momentum, since Adam divides by the root of
# squared gradients and so enlarges rounding in gradients that are zero up to
# rounding (a convolution's bias before batch norm) to full-size steps.
# Exit 77 (a skip) when a device the case needs is absent and
# GLIA_REQUIRE_BACKENDS does not name its backend.
set -u
case_=$1 glia=$2 mpiexec=$3 python=$4 work=$5
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"

# Open MPI refuses root (CI runs as root; even for --version) and more ranks than cores without these;
# MPICH needs neither and ignores the variables.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
launch="$mpiexec -n 2"
if "$mpiexec" --version 2>&1 | grep -q "Open MPI"; then
    launch="$mpiexec --oversubscribe -n 2"
fi

need_device() {
    if ! "$glia" devices 2>/dev/null | grep -Eq "^[* ] +$1 "; then
        case ",${GLIA_REQUIRE_BACKENDS-cpu}," in
        *",${1%%:*},"*) fail "device $1 is required (GLIA_REQUIRE_BACKENDS) but absent" ;;
        esac
        echo "skip: no $1"; exit 77
    fi
}

"$glia" synth -o "$work/data" --layout lgg --cases 6 --size 64x64x8 --seed 1 --threads 1 >/dev/null || fail "glia synth"
common="--data $work/data --target wt --model unet2d --features 4,8 --size 32,32 --folds 3 --loss dice+bce
        --optimizer sgd --momentum 0.9 --lr 0.05 --threads 1 --loader-threads 1 --seed 5"

# train_pair NAME FLAGS: the 2-rank and 1-process (on $ref) runs of NAME, weights compared
# A two-rank run that would last for ever, in the background as $job, output
# in $work/$1.txt; returns a second after its first checkpoint.
start_long_run() {
    # shellcheck disable=SC2086
    $launch "$glia" train $common --epochs 100000 --steps-per-epoch 20 --batch 2 --device cpu \
        --out "$work/run" >"$work/$1.txt" 2>&1 &
    job=$!
    i=0
    while [ ! -f "$work/run/last.safetensors" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    [ -f "$work/run/last.safetensors" ] || { kill $job; fail "no checkpoint after 60 s"; }
    sleep 1
}

train_pair() {
    name=$1
    shift
    # shellcheck disable=SC2086
    $launch "$glia" train $common --epochs 2 --steps-per-epoch 3 --batch 2 "$@" --out "$work/$name-2" \
        >"$work/$name-2.txt" 2>&1 || { cat "$work/$name-2.txt"; fail "2 ranks: glia train $*"; }
    # shellcheck disable=SC2086
    "$glia" train $common --epochs 2 --steps-per-epoch 3 --batch 4 --device $ref $bn --out "$work/$name-1" \
        >"$work/$name-1.txt" 2>&1 || { cat "$work/$name-1.txt"; fail "1 process: glia train"; }
    # shellcheck disable=SC2086
    "$glia" init unet2d --features 4,8 $bn --in-channels 3 --out-channels 1 --seed 5 -o "$work/w0.safetensors" \
        >/dev/null || fail "glia init"
    "$python" "$(dirname "$0")/weights.py" "$work/$name-1/last.safetensors" "$work/$name-2/last.safetensors" \
        --start "$work/w0.safetensors" --tol 1e-3 || fail "$name: 2 ranks x 2 and 1 x 4 trained different weights"
    grep -q "data parallel: 2 ranks" "$work/$name-2.txt" || fail "$name: no data-parallel report from rank 0"
}

case $case_ in
nobn)
    bn=--no-batchnorm ref=cpu
    train_pair nobn --device cpu --no-batchnorm ;;
syncbn)
    bn= ref=cpu
    train_pair syncbn --device cpu --sync-bn ;;
mixed)
    need_device opencl:0
    need_device vulkan:0
    # the reference on opencl:0: PoCL and lavapipe agree to ~1e-6 here, the CPU backend's own kernels
    # (other summation orders) differ from both by ~5e-4 after these steps, rounding all the same
    bn= ref=opencl:0
    train_pair mixed --device opencl:0,vulkan:0 --sync-bn
    grep -q "rank 1 of 2: training unet2d on vulkan:0" "$work/mixed-2.txt" || fail "rank 1 was not on vulkan:0" ;;
kill)
    start_long_run kill
    # the ranks are the processes whose command line starts with glia itself (mpiexec's starts with mpiexec)
    victim=$(pgrep -f "^$glia train .*$work/run" | tail -n 1)
    [ -n "$victim" ] || fail "no rank to kill"
    start=$(date +%s)
    kill -9 "$victim"
    # a hung job would run on forever: 60 s bounds that, far above the few seconds it takes
    i=0
    while kill -0 $job 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 $job 2>/dev/null; then
        pkill -9 -f "$work/run"
        fail "the job still runs 60 s after a rank was killed"
    fi
    wait $job
    rc=$?
    echo "the job ended $(($(date +%s) - start)) s after rank 1 was killed, exit $rc"
    [ $rc -ne 0 ] || fail "the job exited 0 though a rank was killed"
    done_epochs=$(($(wc -l <"$work/run/log.csv") - 1))
    [ "$done_epochs" -ge 1 ] || fail "log.csv holds no epoch"
    $launch "$glia" train --resume "$work/run" --epochs $((done_epochs + 2)) >"$work/resume.txt" 2>&1 ||
        { cat "$work/resume.txt"; fail "the last checkpoint did not resume"; }
    [ "$(($(wc -l <"$work/run/log.csv") - 1))" -eq $((done_epochs + 2)) ] || fail "the resumed run did not add 2 epochs"
    echo "resumed after epoch $done_epochs and trained 2 more" ;;
term)
    start_long_run term
    kill -TERM $job
    wait $job
    grep -q "interrupted: .* saved after" "$work/term.txt" || { cat "$work/term.txt"; fail "no interrupted save"; }
    grep -q "disagree" "$work/term.txt" && fail "the ranks' checkpoint did not agree"
    done_epochs=$(($(wc -l <"$work/run/log.csv") - 1))
    $launch "$glia" train --resume "$work/run" --epochs $((done_epochs + 1)) >"$work/resume.txt" 2>&1 ||
        { cat "$work/resume.txt"; fail "the interrupted run did not resume"; }
    echo "stopped after epoch $done_epochs on SIGTERM, saved, resumed" ;;
infer)
    # shellcheck disable=SC2086
    "$glia" train $common --epochs 2 --steps-per-epoch 5 --batch 4 --device cpu --out "$work/run" >/dev/null 2>&1 ||
        fail "glia train"
    w="$work/run/best.safetensors"
    "$glia" infer --weights "$w" "$work/data" -o "$work/one" --device cpu --no-overlays >/dev/null ||
        fail "glia infer, 1 process"
    $launch "$glia" infer --weights "$w" "$work/data" -o "$work/two" --device cpu --threads 1 --no-overlays \
        >"$work/infer2.txt" 2>&1 || { cat "$work/infer2.txt"; fail "glia infer, 2 ranks"; }
    grep -q "wrote 6 cases" "$work/infer2.txt" || fail "2 ranks: the job's case count is not 6"
    n=0
    for f in "$work"/one/*_seg.nii.gz; do
        cmp -s "$f" "$work/two/$(basename "$f")" || fail "$(basename "$f") differs between 1 process and 2 ranks"
        n=$((n + 1))
    done
    [ $n -eq 6 ] || fail "1 process wrote $n masks, not 6"
    [ "$(ls "$work/two" | wc -l)" -eq "$(ls "$work/one" | wc -l)" ] || fail "2 ranks wrote other files"
    "$glia" eval --data "$work/data" --weights "$w" --out "$work/eval1" --device cpu >/dev/null || fail "eval 1"
    $launch "$glia" eval --data "$work/data" --weights "$w" --out "$work/eval2" --device cpu --threads 1 \
        >"$work/eval2.txt" 2>&1 || { cat "$work/eval2.txt"; fail "glia eval, 2 ranks"; }
    cmp "$work/eval1/eval.csv" "$work/eval2/eval.csv" || fail "eval.csv differs between 1 process and 2 ranks"
    echo "6 masks and the evaluation table identical" ;;
bench)
    $launch "$glia" bench --suite allreduce --device cpu --threads 1 --repeat 2 >"$work/ar.txt" 2>&1 ||
        { cat "$work/ar.txt"; fail "glia bench --suite allreduce"; }
    grep -q "allreduce over 2 rank" "$work/ar.txt" || fail "the allreduce table is not over 2 ranks"
    [ "$(grep -Ec '^ +[0-9]+ +[0-9.]+ +[0-9.]+' "$work/ar.txt")" -eq 8 ] || { cat "$work/ar.txt"; fail "not 8 sizes"; }
    $launch "$glia" bench --suite models --filter unet2d.train --batch 1 --size 64 --device cpu --threads 1 \
        --no-peak --repeat 1 >"$work/models.txt" 2>&1 || { cat "$work/models.txt"; fail "glia bench --suite models"; }
    grep -q "data parallel over 2 ranks" "$work/models.txt" || fail "no data-parallel note"
    [ "$(grep -c '^model.unet2d.train_step' "$work/models.txt")" -eq 1 ] || fail "not one train_step row (rank 0's)"
    echo "allreduce table and a data-parallel training step" ;;
*)
    fail "unknown case $case_" ;;
esac
echo "ok: $case_"
