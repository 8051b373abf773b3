#!/bin/sh
# Data-parallel scaling on one machine: training samples/s of the LGG study's
# U-Net (preset lgg-unet, here on 128x128 crops, no augmentation) for
#   1 process, 1 thread, batch B          (one core)
#   2 ranks under mpirun, 1 thread each, batch B per rank (global 2B)
#   1 process, 2 threads, batch 2B         (the same global batch, threads instead of ranks)
# and rank 0's report of the gradient allreduce (time per step, the part not
# hidden behind backward, host staging). Run it alone on an idle machine.
#   tools/bench_dist.sh GLIA WORKDIR [B] [STEPS] [DEVICE]
set -eu
glia=$1 work=$2 b=${3:-4} steps=${4:-12} device=${5:-cpu}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
launch="mpiexec -n 2"
mpiexec --version 2>&1 | grep -q "Open MPI" && launch="mpiexec --oversubscribe -n 2"
mkdir -p "$work"
[ -d "$work/data" ] || "$glia" synth -o "$work/data" --layout lgg --cases 8 --size 128x128x16 --seed 1 >/dev/null
common="--data $work/data --preset lgg-unet --size 128,128 --no-augment --folds 0 --epochs 2
        --steps-per-epoch $steps --loader-threads 1 --device $device"
# samples/s of the second epoch (the first warms the allocator and the loader's cache)
rate() { grep "^epoch *2 " "$1" | sed 's/.* \([0-9.]*\) img\/s.*/\1/'; }
run() {
    name=$1
    shift
    rm -rf "$work/$name"
    "$@" --out "$work/$name" >"$work/$name.txt" 2>&1 || { cat "$work/$name.txt"; exit 1; }
}
# shellcheck disable=SC2086
run one "$glia" train $common --threads 1 --batch "$b"
# shellcheck disable=SC2086
run ranks $launch "$glia" train $common --threads 1 --batch "$b"
# shellcheck disable=SC2086
run threads "$glia" train $common --threads 2 --batch $((2 * b))
one=$(rate "$work/one.txt") ranks=$(rate "$work/ranks.txt") threads=$(rate "$work/threads.txt")
echo "samples/s (epoch 2 of ${steps} steps, unet2d 32..256 on 128x128, $device):"
echo "  1 process, 1 thread,  batch $b:           $one"
echo "  2 ranks,   1 thread each, batch $b each: $ranks ($(echo "$ranks / $one" | bc -l | cut -c1-4)x)"
echo "  1 process, 2 threads, batch $((2 * b)):          $threads ($(echo "$threads / $one" | bc -l | cut -c1-4)x)"
grep "^data parallel" "$work/ranks.txt"
