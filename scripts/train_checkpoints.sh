#!/usr/bin/env bash
# Train, evaluate and tabulate the shipped checkpoints on the real Stanford Background data.
# Safe to re-run: every run resumes after its last finished epoch, so it can span sessions.
#   nohup bash scripts/train_checkpoints.sh > train.log 2>&1 &
# Needs the data (../shared/iccv09Data, $SEGDEMO_DATA or --data) and, for the pretrained
# encoder, ../shared/weights/mobilenet_v2_1.0_224_slim_npy.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-40}
ENCODER=${ENCODER:-../shared/weights/mobilenet_v2_1.0_224_slim_npy}

python -m segdemo.data split
for arch in unet pspnet fpn; do
  nice -n 10 python -m segdemo.train --arch "$arch" --backbone mobilenetv2 --labels regions --size 288x384 \
    --epochs "$EPOCHS" --batch 8 --loss ce+dice --encoder-weights "$ENCODER" --out "checkpoints/$arch" --resume
  python -m segdemo.evaluate "checkpoints/$arch"
done
# the seed notebook's recipe, for the "tutorial vs ours" comparison (its own sorted 80/20 split)
nice -n 10 python -m segdemo.train --arch unet --backbone resnet34 --labels surfaces --size 224x224 --epochs 20 \
  --batch 16 --loss ce --lr 1e-3 --schedule constant --weight-decay 0 --encoder-weights none --split sorted80 \
  --no-augment --out checkpoints/seed-recipe --resume
python -m segdemo.evaluate checkpoints/seed-recipe --split sorted80
python -m segdemo.data examples --count 6
python -m segdemo.report --readme
