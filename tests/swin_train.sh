#!/bin/sh
# SwinUNETR through the product on one device: `glia train --model swinunetr`
# on small synthetic BraTS data lowers the training loss; `glia infer`
# segments a case with the result; the weights as a plain state_dict file (no
# glia metadata, no optimizer state, as PyTorch's safetensors writes it) are
# recognised by `glia infer` and `glia train --init`.
#   swin_train.sh GLIA DEVICE WORKDIR
# Exit 77 (a skip) when DEVICE is absent and GLIA_REQUIRE_BACKENDS does not
# name its backend.
set -u
glia=$1 device=$2 work=$3
fail() { echo "FAIL: $*"; exit 1; }
backend=${device%%:*}
listed=$device
case $device in *:*) ;; *) listed=$device:0 ;; esac
if ! "$glia" devices 2>/dev/null | grep -Eq "^[* ] +$listed "; then
    case ",${GLIA_REQUIRE_BACKENDS-cpu}," in
    *",$backend,"*) fail "device $device is required (GLIA_REQUIRE_BACKENDS) but absent" ;;
    esac
    echo "skip: no $device"; exit 77
fi
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"
"$glia" synth -o "$work/data" --cases 3 --size 40x40x32 --no-tumour 0 --seed 2 --threads 1 >/dev/null ||
    fail "glia synth"
# feature_size 12 and 32^3 patches: the smallest SwinUNETR; validation off (--folds 0) to keep it short.
"$glia" train --data "$work/data" --out "$work/run" --model swinunetr --feature-size 12 --size 32,32,32 \
    --batch 1 --epochs 3 --steps-per-epoch 4 --folds 0 --optimizer adamw --lr 3e-3 --weight-decay 1e-5 \
    --loss dice+bce --fg-fraction 1 --loader-threads 1 --seed 3 --device "$device" >"$work/train.txt" 2>&1 ||
    { cat "$work/train.txt"; fail "glia train on $device"; }
# log.csv: epoch,train_loss,...; the last epoch's loss below the first's
awk -F, 'NR == 2 { first = $2 } NR > 1 { last = $2 } END {
    printf "train loss %s -> %s\n", first, last; exit !(NR >= 4 && last < first) }' "$work/run/log.csv" ||
    fail "the training loss did not fall on $device"
case1=$(ls -d "$work/data"/*/ | head -n 1)
"$glia" infer --weights "$work/run/last.safetensors" --device "$device" -o "$work/pred" "$case1" \
    >"$work/infer.txt" 2>&1 || { cat "$work/infer.txt"; fail "glia infer on $device"; }
ls "$work/pred" | grep -q "nii.gz" || fail "glia infer wrote no mask: $(ls "$work/pred")"
# A plain file: the same tensors, no __metadata__, no optimizer.* entries.
python3 - "$work/run/last.safetensors" "$work/plain.safetensors" <<'EOF' || fail "writing the plain file"
import json, struct, sys
src, dst = sys.argv[1:3]
with open(src, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    head = json.loads(f.read(n))
    data = f.read()
head.pop("__metadata__", None)
keep = sorted((k for k in head if not k.startswith("optimizer.")), key=lambda k: head[k]["data_offsets"][0])
out, blobs, off = {}, [], 0
for k in keep:
    b, e = head[k]["data_offsets"]
    out[k] = dict(head[k], data_offsets=[off, off + e - b])
    blobs.append(data[b:e])
    off += e - b
text = json.dumps(out).encode()
text += b" " * (-len(text) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
EOF
"$glia" info "$work/plain.safetensors" >"$work/info.txt" 2>&1 || { cat "$work/info.txt"; fail "glia info plain"; }
grep -q "feature_size 12" "$work/info.txt" || { cat "$work/info.txt"; fail "feature_size not recognised"; }
# Told what glia's metadata said (window, regions in order, modalities), the plain file segments the
# case as the checkpoint did: the same volumes per region.
"$glia" infer --weights "$work/plain.safetensors" --device "$device" -o "$work/pred_plain" --window 32,32,32 \
    --channels WT,TC,ET --modalities t1,t1ce,t2,flair "$case1" >"$work/infer_plain.txt" 2>&1 ||
    { cat "$work/infer_plain.txt"; fail "glia infer with the plain file"; }
a=$(sed -n 's/ -> .*//p' "$work/infer.txt") b=$(sed -n 's/ -> .*//p' "$work/infer_plain.txt")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "the plain file segments differently: '$a' vs '$b'"
# MONAI's order names the same outputs differently, and the modalities go in in another order
"$glia" infer --weights "$work/plain.safetensors" --device "$device" -o "$work/pred_monai" --window 32,32,32 \
    --channels TC,WT,ET --modalities flair,t1ce,t1,t2 "$case1" >"$work/infer_monai.txt" 2>&1 ||
    { cat "$work/infer_monai.txt"; fail "glia infer with MONAI's channel and modality order"; }
grep -q ": TC .* mL, WT .* mL, ET .* mL" "$work/infer_monai.txt" || fail "outputs not named TC, WT, ET"
"$glia" train --data "$work/data" --out "$work/run2" --model swinunetr --feature-size 12 --size 32,32,32 \
    --batch 1 --epochs 1 --steps-per-epoch 1 --folds 0 --loss dice --loader-threads 1 \
    --init "$work/plain.safetensors" --device "$device" >"$work/train2.txt" 2>&1 ||
    { cat "$work/train2.txt"; fail "glia train --init with the plain file"; }
# An ensemble with another 3-D model trained on the same data, patch and preprocessing (cpu only: the
# ensemble code is backend-independent, and the other backends' time goes to the Swin runs above)
if [ "$backend" = cpu ]; then
    "$glia" train --data "$work/data" --out "$work/unet3d" --model unet3d --features 4,8 --size 32,32,32 \
        --batch 1 --epochs 1 --steps-per-epoch 2 --folds 0 --loss dice+bce --fg-fraction 1 --loader-threads 1 \
        --device cpu >"$work/train3d.txt" 2>&1 || { cat "$work/train3d.txt"; fail "glia train unet3d"; }
    "$glia" infer --weights "$work/run/last.safetensors" "$work/unet3d/last.safetensors" --device cpu \
        -o "$work/pred_ens" "$case1" >"$work/infer_ens.txt" 2>&1 ||
        { cat "$work/infer_ens.txt"; fail "glia infer with an ensemble of swinunetr and unet3d"; }
    grep -q ": WT .* mL, TC .* mL, ET .* mL" "$work/infer_ens.txt" || fail "the ensemble wrote no regions"
    # glia eval runs the plain file told what it means, and scores it as it scores the checkpoint
    for w in run/last plain; do
        extra=""
        [ "$w" = plain ] && extra="--window 32,32,32 --channels WT,TC,ET --modalities t1,t1ce,t2,flair"
        "$glia" eval --data "$work/data" --weights "$work/$w.safetensors" --device cpu --no-hd95 $extra \
            --out "$work/eval_${w%%/*}" >"$work/eval_${w%%/*}.txt" 2>&1 ||
            { cat "$work/eval_${w%%/*}.txt"; fail "glia eval --weights $w"; }
    done
    cmp -s "$work/eval_run/eval.csv" "$work/eval_plain/eval.csv" ||
        fail "glia eval scores the plain file differently: $(diff "$work/eval_run/eval.csv" "$work/eval_plain/eval.csv")"
fi
echo "ok: swinunetr trains and segments on $device"
