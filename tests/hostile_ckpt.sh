#!/bin/sh
# Hostile files (the security review's issue):
# 1. a small checkpoint whose metadata claims a huge model (features 4096 x 4)
#    makes `glia info` and `glia forward` fail at once, naming the first tensor
#    that differs, without building the model (which took ~50 s and 6.5 GB);
# 2. `glia train --resume A` refuses another run's last.safetensors (same
#    model: the run id differs; an older run without an id: the model differs)
#    and leaves every file of A as it was.
#   hostile_ckpt.sh GLIA WORKDIR
set -u
glia=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"
cd "$work" || fail "cannot enter $work"

# n as 8 little-endian bytes (the safetensors header length)
le64() {
    n=$1 i=0
    while [ $i -lt 8 ]; do
        printf "\\$(printf %03o $((n % 256)))"
        n=$((n / 256)) i=$((i + 1))
    done
}
# run CMD... with at most 2 GB of address space, so a model built after all fails rather than swaps
limited() { (ulimit -v 2000000 && "$@"); }

"$glia" init unet2d --features 4,8 -o small.safetensors >/dev/null || fail "glia init"
hlen=$(od -A n -t u8 -N 8 small.safetensors | tr -d ' ')
tail -c +9 small.safetensors | head -c "$hlen" |
    sed 's/\\"features\\": \[4,8\]/\\"features\\": [4096,4096,4096,4096]/' >header.json
grep -q '4096,4096,4096,4096' header.json || fail "the metadata was not rewritten: $(head -c 300 header.json)"
{ le64 "$(wc -c <header.json)"; cat header.json; tail -c +$((9 + hlen)) small.safetensors; } >huge.safetensors

limited "$glia" info huge.safetensors >info.txt 2>&1 && { cat info.txt; fail "glia info accepted the hostile file"; }
grep -q "features 4096,4096,4096,4096" info.txt || { cat info.txt; fail "info did not print the claimed config"; }
grep -q "tensor 'enc.0.conv1.weight' is F32 \[4, 3, 3, 3\] in the file, its model configuration needs F32 \[4096, 3, 3, 3\]" \
    info.txt || { cat info.txt; fail "info: no message naming the first differing tensor"; }
grep -q "^tensors (76):" info.txt || { cat info.txt; fail "info stopped listing the tensors"; }

# a (1, 3, 8, 8) float32 .npy of zeros: 10 header bytes + 118 of dictionary = 128
dict="{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 8, 8), }"
{ printf '\223NUMPY\001\000\166\000%s' "$dict"; printf "%$((117 - ${#dict}))s\n" ""; head -c 768 /dev/zero; } >x.npy
"$glia" forward --weights small.safetensors --device cpu --threads 1 x.npy y.npy >fwd.txt 2>&1 ||
    { cat fwd.txt; fail "glia forward on the genuine file"; }
limited "$glia" forward --weights huge.safetensors --device cpu --threads 1 x.npy z.npy >fwd.txt 2>&1 &&
    { cat fwd.txt; fail "glia forward accepted the hostile file"; }
grep -q "loading weights.*tensor 'enc.0.conv1.weight' is F32 \[4, 3, 3, 3\] in the file" fwd.txt ||
    { cat fwd.txt; fail "forward: no message naming the first differing tensor"; }
[ ! -e z.npy ] || fail "forward wrote an output"

# two tiny runs: A (features 4,8) and B (4,16)
quick="--size 32,32 --epochs 1 --steps-per-epoch 2 --batch 2 --device cpu --threads 2 --loader-threads 1"
"$glia" synth -o data --cases 3 --size 32x32x8 --seed 1 --threads 1 >/dev/null || fail "glia synth"
"$glia" train --data data --out A --features 4,8 $quick >A.txt 2>&1 || { cat A.txt; fail "train A"; }
"$glia" train --data data --out B --features 4,16 $quick >B.txt 2>&1 || { cat B.txt; fail "train B"; }
grep -q '"run_id":' A/config.json || fail "A/config.json has no run_id"
cp B/last.safetensors A/last.safetensors || fail "cp"
snapshot() { for f in A/*; do cksum "$f"; done; }
snapshot >before.txt
"$glia" train --resume A --epochs 2 >resume.txt 2>&1 && { cat resume.txt; fail "resumed from B's checkpoint"; }
grep -q "A/last.safetensors is not this run's checkpoint: its run id is [0-9a-f]*, config.json's [0-9a-f]*" \
    resume.txt || { cat resume.txt; fail "no message naming the run id"; }
snapshot | cmp -s - before.txt || { snapshot | diff before.txt -; fail "the refused resume changed A"; }

# a run from before run ids: the whole model configuration is compared
# (the key is the last: the line before it loses its comma)
awk '{ l[NR] = $0 } END { for (i = 1; i <= NR; i++) { if (l[i] ~ /"run_id":/) continue;
     if (l[i + 1] ~ /"run_id":/ && l[i + 2] ~ /^}/) sub(/,$/, "", l[i]); print l[i] } }' A/config.json >config.old &&
    cp config.old A/config.json || fail "cannot strip the run id"
snapshot >before.txt
"$glia" train --resume A --epochs 2 >resume.txt 2>&1 && { cat resume.txt; fail "resumed from B's checkpoint (no id)"; }
grep -q "A/last.safetensors is not this run's checkpoint: its model has features 4,16, the run's .* features 4,8" \
    resume.txt || { cat resume.txt; fail "no message naming the differing field"; }
snapshot | cmp -s - before.txt || { snapshot | diff before.txt -; fail "the refused resume changed A"; }

# the run's own checkpoint still resumes, and a run's config.json still serves as --config
cp B/config.json B.config.json
"$glia" train --resume B --epochs 2 >resume.txt 2>&1 || { cat resume.txt; fail "B does not resume its own run"; }
"$glia" train --config B.config.json --data data --out C $quick >C.txt 2>&1 ||
    { cat C.txt; fail "a run's config.json as --config"; }
[ "$(grep '"run_id":' C/config.json)" != "$(grep '"run_id":' B/config.json)" ] || fail "C took B's run id"
echo "ok"
