#!/bin/sh
# Seed corpora of the fuzz targets: a few small valid files per target, made
# by the glia CLI given (so that the seeds follow what glia writes today and
# nothing is downloaded), into OUTDIR/<target>/. Every seed stays under 100 kB
# (8x8x4 and 16x16x8 volumes, models of 2 and 4 features).
# usage: seeds.sh GLIA OUTDIR
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 GLIA OUTDIR" >&2
    exit 2
fi
glia=$1
out=$2
work=$out/work
rm -rf "$out"
mkdir -p "$work"
for t in nifti nifti_gz png tiff npy safetensors config_json split_json bench_report dataset_json; do
    mkdir -p "$out/$t"
done
# The CLI only writes here; its output is noise in a build log.
run() {
    "$glia" "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; echo "seeds.sh: glia $* failed" >&2; exit 1; }
}

# Images: one phantom of each kind of volume (float image, integer label), in every format.
run synth -o "$work/nn16" --layout nnunet --cases 1 --size 16x16x8 --threads 1
img=$work/nn16/imagesTr/GLIA_000_0000.nii.gz
seg=$work/nn16/labelsTr/GLIA_000.nii.gz
cp "$img" "$out/nifti_gz/image.nii.gz"
cp "$seg" "$out/nifti_gz/label.nii.gz"
run convert "$img" "$out/nifti_gz/image2.nii.gz" --nifti 2
run convert "$img" "$out/nifti/image.nii"
run convert "$seg" "$out/nifti/label-uint8.nii" --dtype uint8
run convert "$img" "$out/nifti/image2-int16.nii" --nifti 2 --dtype int16
run convert "$img" "$out/npy/image.npy"
run convert "$img" "$out/png/slice.png" --slice 4 --dtype uint8
run convert "$img" "$out/png/slice16.png" --slice 4 --dtype uint16
run convert "$seg" "$out/tiff/label.tif" --slice 4 --dtype uint8
run convert "$img" "$out/tiff/slice16.tif" --slice 4 --dtype uint16

# Checkpoints: fresh models, and a trained one (with its optimiser state and
# run metadata) from a one-step run whose config.json and split.json seed the
# JSON targets. The dataset is the one fuzz_split_json makes (4 cases, 8x8x4),
# so the split's case ids match it.
run init unet2d -o "$out/safetensors/unet2d.safetensors" --in-channels 1 --out-channels 1 --features 2,4
run init r2unet -o "$out/safetensors/r2unet.safetensors" --in-channels 1 --out-channels 1 --features 2,4 --t 1
run synth -o "$work/nn8" --layout nnunet --cases 4 --size 8x8x4 --threads 1
run dataset "$work/nn8" --save-split "$out/split_json/split.json"
run train --data "$work/nn8" --out "$work/run" --model unet2d --features 2,4 --epochs 1 --batch 2 \
    --steps-per-epoch 1 --device cpu --threads 1 --loader-threads 1
cp "$work/run/last.safetensors" "$out/safetensors/trained.safetensors"
cp "$work/run/config.json" "$out/config_json/config.json"
cp "$work/run/split.json" "$out/split_json/run-split.json"
printf '{"model": "unet3d", "features": "4,8", "optimizer": "sgd", "lr": 0.01, "nesterov": true}\n' \
    >"$out/config_json/small.json"

# Datasets: the nnU-Net v2 dataset.json synth writes, and a Decathlon (v1) one.
cp "$work/nn8/dataset.json" "$out/dataset_json/nnunet.json"
cat >"$out/dataset_json/decathlon.json" <<'JSON'
{"name": "BRATS", "modality": {"0": "FLAIR", "1": "T1w", "2": "t1gd", "3": "T2w"},
 "labels": {"0": "background", "1": "edema", "2": "non-enhancing tumor", "3": "enhancing tumour"},
 "numTraining": 1, "numTest": 1,
 "training": [{"image": "./imagesTr/BRATS_001.nii.gz", "label": "./labelsTr/BRATS_001.nii.gz"}],
 "test": ["./imagesTs/BRATS_002.nii.gz"]}
JSON

# A benchmark report: one small GEMM, timed once, with its memory peak.
run bench --filter op.gemm.64x4096x1728 --repeat 1 --warmup 0 --device cpu --threads 1 \
    --json "$out/bench_report/report.json"

rm -rf "$work"
