#!/usr/bin/env bash
# Train, evaluate and tabulate the shipped checkpoints on the real Stanford Background data.
# Safe to re-run: every run resumes after its last finished epoch, so it can span sessions.
#   nohup bash scripts/train_checkpoints.sh > train.log 2>&1 &
# Data: found by segdemo itself (--data, $SEGDEMO_DATA, ../shared, or the cache); the
# pretrained encoders: ../shared/weights/ (or $WEIGHTS): MobileNetV2 and EfficientNet-B0 arrays.
#
# The three regions models share the ImageNet MobileNetV2 encoder and the 288x384 input, so
# Compare is a fair comparison of decoders. They train on 192x288 windows of photos scaled to
# 288x384 (1.9x faster than whole 288x384 inputs on a 2-core CPU; the saved models take
# 288x384); each then continues for 6 epochs on whole 288x384 photos (its cosine schedule
# stretched by 6 epochs), which lifted U-Net's and PSPNet's mIoU by 0.02 (README). FPN uses 128
# pyramid channels instead of 256: 2.8x less compute, see README.
set -euo pipefail
cd "$(dirname "$0")/.."
WEIGHTS=${WEIGHTS:-../shared/weights}
COMMON=(--labels regions --size 288x384 --batch 8 --loss ce+dice --class-weights inverse-sqrt --resume)
MOBILENET=(--backbone mobilenetv2 --encoder-weights "$WEIGHTS/mobilenet_v2_1.0_224_slim_npy")
EFFICIENTNET=(--backbone efficientnetb0 --encoder-weights "$WEIGHTS/efficientnet_b0_imagenet_bnfolded_npy")
# DeepLabV3+ starts from a whole segmentation network (ADE20K), not an ImageNet encoder: half the peak rate,
# and only its head and decoder learn (its encoder frozen keeps what ADE20K taught it of mountains)
DEEPLAB=(--backbone mobilenetv2 --encoder-weights "$WEIGHTS/deeplabv3_mnv2_ade20k32" --lr 5e-4 --freeze-encoder)

python -m segdemo.data split
epochs_done() {  # FOLDER: epochs recorded in FOLDER/history.json
  python -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$1/history.json" 2>/dev/null || echo 0
}
train_and_evaluate() {  # FOLDER ARCH EPOCHS EXTRA-ARGS...: train until EPOCHS are done, then evaluate
  local folder=$1 arch=$2 epochs=$3
  shift 3
  if [ "$(epochs_done "$folder")" -lt "$epochs" ] || [ ! -f "$folder/metrics.json" ] || ! ls "$folder"/weights.npz* >/dev/null 2>&1; then
    nice -n 10 python -m segdemo.networks.train --arch "$arch" "${COMMON[@]}" --epochs "$epochs" "$@" --out "$folder"
    python -m segdemo.serving.evaluate "$folder"
  fi
}
train_and_evaluate checkpoints/unet unet 26 --crop 192x288 "${MOBILENET[@]}"
train_and_evaluate checkpoints/unet unet 32 "${MOBILENET[@]}"
train_and_evaluate checkpoints/pspnet pspnet 40 --crop 192x288 "${MOBILENET[@]}"
train_and_evaluate checkpoints/pspnet pspnet 46 "${MOBILENET[@]}"
train_and_evaluate checkpoints/fpn fpn 30 --crop 192x288 --fpn-filters 128 "${MOBILENET[@]}"
train_and_evaluate checkpoints/fpn fpn 36 --fpn-filters 128 "${MOBILENET[@]}"
# the same three decoders on the ImageNet EfficientNet-B0 encoder (same recipe), "same decoder, two encoders"
train_and_evaluate checkpoints/unet-efficientnetb0 unet 26 --crop 192x288 "${EFFICIENTNET[@]}"
train_and_evaluate checkpoints/unet-efficientnetb0 unet 32 "${EFFICIENTNET[@]}"
train_and_evaluate checkpoints/fpn-efficientnetb0 fpn 30 --crop 192x288 --fpn-filters 128 "${EFFICIENTNET[@]}"
train_and_evaluate checkpoints/fpn-efficientnetb0 fpn 36 --fpn-filters 128 "${EFFICIENTNET[@]}"
train_and_evaluate checkpoints/pspnet-efficientnetb0 pspnet 40 --crop 192x288 "${EFFICIENTNET[@]}"
train_and_evaluate checkpoints/pspnet-efficientnetb0 pspnet 46 "${EFFICIENTNET[@]}"
# the same three decoders on the ADE20K network's MobileNetV2 (segmentation pre-training), the shipped recipe
# epoch for epoch: "same decoder, classification vs segmentation pre-training"
ADE20K=(--backbone mobilenetv2 --encoder-weights "$WEIGHTS/deeplabv3_mnv2_ade20k32")
train_and_evaluate checkpoints/fpn-ade20k fpn 30 --crop 192x288 --fpn-filters 128 "${ADE20K[@]}"
train_and_evaluate checkpoints/fpn-ade20k fpn 36 --fpn-filters 128 "${ADE20K[@]}"
train_and_evaluate checkpoints/unet-ade20k unet 26 --crop 192x288 "${ADE20K[@]}"
train_and_evaluate checkpoints/unet-ade20k unet 32 "${ADE20K[@]}"
train_and_evaluate checkpoints/pspnet-ade20k pspnet 40 --crop 192x288 "${ADE20K[@]}"
train_and_evaluate checkpoints/pspnet-ade20k pspnet 46 "${ADE20K[@]}"
# DeepLabV3+ from the ADE20K network (segmentation pre-training): few epochs, it starts from what it knew;
# then two runs on from there keep the mean of their epochs' weights (one with the encoder frozen, one whole),
# and the shipped model is the mean of the two (a soup: segdemo/networks/soup.py)
START=studies/frozen-encoder/deeplabv3plus
train_and_evaluate "$START" deeplabv3plus 14 --crop 192x288 "${DEEPLAB[@]}"
train_and_evaluate "$START" deeplabv3plus 20 "${DEEPLAB[@]}"
AVERAGED=(--init-from "$START" --schedule constant --average-weights)
train_and_evaluate studies/soup/deeplabv3plus-frozen-averaged deeplabv3plus 10 "${AVERAGED[@]}" --lr 2e-4 --freeze-encoder
train_and_evaluate studies/soup/deeplabv3plus-whole-averaged deeplabv3plus 10 "${AVERAGED[@]}" --lr 1e-4
if [ ! -f checkpoints/deeplabv3plus/metrics.json ] \
   || [ studies/soup/deeplabv3plus-whole-averaged/metrics.json -nt checkpoints/deeplabv3plus/metrics.json ]; then
  python -m segdemo.networks.soup studies/soup/deeplabv3plus-frozen-averaged studies/soup/deeplabv3plus-whole-averaged \
    --out checkpoints/deeplabv3plus
  python -m segdemo.serving.evaluate checkpoints/deeplabv3plus
fi
# the seed notebook's recipe, for the "tutorial vs ours" comparison (its own sorted 80/20 split)
if [ ! -f checkpoints/seed-recipe/metrics.json ]; then
  nice -n 10 python -m segdemo.networks.train --arch unet --backbone resnet34 --labels surfaces --size 224x224 --epochs 20 \
    --batch 16 --loss ce --lr 1e-3 --schedule constant --weight-decay 0 --encoder-weights none --split sorted80 \
    --no-augment --bn-momentum 0 --out checkpoints/seed-recipe --resume
  python -m segdemo.serving.evaluate checkpoints/seed-recipe --split sorted80
fi
python -m segdemo.data examples --count 6
# the fastest way to run each one that keeps its float32 answers (network.tflite + engine.json);
# checkpoints exported from their current weights keep the figures measured then
python -m segdemo.serving.export --stale-only checkpoints/unet checkpoints/pspnet checkpoints/fpn checkpoints/seed-recipe \
  checkpoints/unet-efficientnetb0 checkpoints/fpn-efficientnetb0 checkpoints/pspnet-efficientnetb0 checkpoints/deeplabv3plus \
  checkpoints/fpn-ade20k checkpoints/unet-ade20k checkpoints/pspnet-ade20k
python -m tools.report --readme
