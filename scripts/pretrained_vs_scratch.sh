#!/usr/bin/env bash
# The encoder loader's proof on the task itself: U-Net trained for the same few epochs with the
# shipped recipe, once from the shared ImageNet arrays and once from scratch; prints each run's
# validation pixel accuracy and mIoU per epoch.
# Usage: bash scripts/pretrained_vs_scratch.sh [EPOCHS] [mobilenetv2|efficientnetb0]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-3}
BACKBONE=${2:-mobilenetv2}
case "$BACKBONE" in
  mobilenetv2) ARRAYS=../shared/weights/mobilenet_v2_1.0_224_slim_npy ;;
  efficientnetb0) ARRAYS=../shared/weights/efficientnet_b0_imagenet_bnfolded_npy ;;
  *) echo "no ImageNet arrays for $BACKBONE" >&2; exit 2 ;;
esac
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for init in none "$ARRAYS"; do
  name=$([ "$init" = none ] && echo scratch || echo imagenet)
  nice -n 10 python -m segdemo.networks.train --arch unet --backbone "$BACKBONE" --labels regions --size 288x384 \
    --crop 192x288 --batch 8 --loss ce+dice --class-weights inverse-sqrt --epochs "$EPOCHS" \
    --encoder-weights "$init" --out "$OUT/$name" --resume-dir "$OUT/$name-resume"
done
python - "$OUT" "$BACKBONE" <<'PY'
import json, sys
from pathlib import Path
for run in ("scratch", "imagenet"):
    history = json.loads((Path(sys.argv[1]) / run / "history.json").read_text())
    print(f"{sys.argv[2]} {run:9s} validation pixel accuracy / mIoU by epoch: "
          + ", ".join(f"{e['val_pixel_accuracy']:.3f} / {e['val_miou']:.3f}" for e in history))
PY
