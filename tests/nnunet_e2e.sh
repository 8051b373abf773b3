#!/bin/sh
# A newcomer's first hour: `glia dataset`, `glia train` with no --target and
# no --folds, `glia infer` and `glia eval` on an nnU-Net v2 raw dataset
# (region labels and plain labels) and on a small kaggle_3m LGG folder; the
# chosen target and folds are told and recorded in config.json, and a resumed
# run keeps them.
#   nnunet_e2e.sh GLIA WORKDIR
set -u
glia=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"
cd "$work" || fail "cannot enter $work"
quick="--size 32,32 --epochs 1 --steps-per-epoch 2 --features 4,8 --batch 2 --device cpu --threads 2 --loader-threads 1"
# config.json's value of key $2 in run $1
value() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1/config.json"; }
train() { # train RUN DATA TARGET FOLDS: trains with no --target and checks what was chosen
    "$glia" train --data "$2" --out "$1" $quick >"$1.txt" 2>&1 || { cat "$1.txt"; fail "glia train on $2"; }
    grep -q "target auto: $3 " "$1.txt" || { cat "$1.txt"; fail "$1: no note of target $3"; }
    [ "$(value "$1" target)" = "$3" ] || fail "$1: config.json target '$(value "$1" target)', expected $3"
    [ "$(value "$1" folds)" = "$4" ] || fail "$1: config.json folds '$(value "$1" folds)', expected $4"
}

"$glia" synth --layout nnunet -o reg --cases 4 --unlabelled 1 --size 32x32x8 --seed 3 --threads 1 >/dev/null ||
    fail "glia synth --layout nnunet"
[ -f reg/dataset.json ] && [ -f reg/imagesTr/GLIA_000_0003.nii.gz ] && [ -f reg/labelsTr/GLIA_000.nii.gz ] &&
    [ -f reg/imagesTs/GLIA_003_0000.nii.gz ] || fail "synth wrote no nnU-Net tree: $(find reg | head)"
"$glia" dataset reg >dataset.txt 2>&1 || { cat dataset.txt; fail "glia dataset"; }
for want in "layout: nnunet (detected)" "3 labelled, 1 without labels" "modalities: T1 T1ce T2 FLAIR" \
    "problems: none"; do
    grep -qF "$want" dataset.txt || { cat dataset.txt; fail "glia dataset lacks '$want'"; }
done

# region labels: the regions target named as dataset.json names them, 3 folds for 3 patients
train r_reg reg regions 3
grep -q "folds auto: 3 (3 labelled patients)" r_reg.txt || { cat r_reg.txt; fail "no note of the folds"; }
grep -q "dice whole tumor .* tumor core .* enhancing tumor" r_reg.txt || { cat r_reg.txt; fail "region names"; }
"$glia" train --resume r_reg --epochs 2 >resume.txt 2>&1 || { cat resume.txt; fail "glia train --resume"; }
! grep -q "auto" resume.txt || { cat resume.txt; fail "a resumed run chose again"; }
[ "$(value r_reg target)" = regions ] && [ "$(value r_reg folds)" = 3 ] || fail "resume changed config.json"
"$glia" infer --weights r_reg/last.safetensors --device cpu -o pred reg >infer.txt 2>&1 ||
    { cat infer.txt; fail "glia infer on the nnU-Net folder"; }
[ "$(ls pred/*_seg.nii.gz | wc -l)" -eq 4 ] || fail "glia infer wrote $(ls pred) for 4 cases"
grep -q "^GLIA_003: whole tumor .* mL, tumor core" infer.txt || { cat infer.txt; fail "the imagesTs case"; }
"$glia" eval --run r_reg --device cpu --no-hd95 >eval.txt 2>&1 || { cat eval.txt; fail "glia eval --run"; }
grep -q "^mean Dice" eval.txt || { cat eval.txt; fail "glia eval printed no mean Dice"; }

# plain labels: softmax classes, with the loss that fits them
cp -r reg plain && rm -rf plain/imagesTs
sed -e '/regions_class_order/d' -e 's/"whole tumor":.*/"edema": 1,/' -e 's/"tumor core":.*/"necrosis": 2,/' \
    -e 's/"enhancing tumor":.*/"enhancing tumor": 3/' reg/dataset.json >plain/dataset.json
train r_plain plain labels 3
[ "$(value r_plain loss)" = "dice+ce" ] || fail "labels target with loss $(value r_plain loss)"
"$glia" infer --weights r_plain/last.safetensors --device cpu -o pred_plain plain >infer_plain.txt 2>&1 ||
    { cat infer_plain.txt; fail "glia infer (plain labels)"; }
grep -q "edema .* mL, necrosis .* mL, enhancing tumor" infer_plain.txt || { cat infer_plain.txt; fail "class names"; }

# LGG: wt, the only target it has; 2 patients make 2 folds, 1 patient none
"$glia" synth --layout lgg -o lgg --cases 2 --size 32x32x4 --seed 3 --threads 1 >/dev/null || fail "glia synth lgg"
train r_lgg lgg wt 2
rm -rf "lgg/$(ls lgg | head -n 1)"
train r_lgg1 lgg wt 0
grep -q "no validation (1 labelled patient" r_lgg1.txt || { cat r_lgg1.txt; fail "no note of no validation"; }
echo "ok: nnU-Net and LGG folders train with the dataset's defaults"
