#!/usr/bin/env bash
# The loss study (README, "Which loss when, measured"): U-Nets that differ only in the loss, each
# trained and then scored by segdemo.serving.evaluate on the recorded split, into studies/losses/RUN/.
# Safe to re-run: a run with a metrics.json is skipped, an interrupted one resumes after its last
# finished epoch.   nohup nice -n 10 bash scripts/loss_study.sh > /tmp/loss_study.log 2>&1 &
# The recipe is smaller than the shipped models' (README says why). A smoke run of every loss:
#   STUDY=/tmp/loss-smoke EPOCHS=1 TRAIN_ARGS="--limit 16 --size 64x96" bash scripts/loss_study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WEIGHTS=${WEIGHTS:-../shared/weights}
STUDY=${STUDY:-studies/losses}
EPOCHS=${EPOCHS:-8}
read -ra EXTRA <<< "${TRAIN_ARGS:-}"
RECIPE=(--arch unet --backbone mobilenetv2 --encoder-weights "$WEIGHTS/mobilenet_v2_1.0_224_slim_npy"
        --labels regions --size 128x192 --batch 8 --schedule cosine --epochs "$EPOCHS" --resume)

study_run() {  # NAME SEED LOSS CLASS-WEIGHTS: train (or finish training) and evaluate, unless evaluated
  local out=$STUDY/$1
  if [ ! -f "$out/metrics.json" ]; then
    python -m segdemo.networks.train "${RECIPE[@]}" --seed "$2" --loss "$3" --class-weights "$4" "${EXTRA[@]}" --out "$out"
    python -m segdemo.serving.evaluate "$out"
  fi
}
study_run ce 0 ce none
study_run ce-dice 0 ce+dice none
study_run ce-dice-seed1 1 ce+dice none  # the same run with another seed: run-to-run noise
study_run ce-weighted 0 ce inverse-sqrt
study_run focal 0 focal none
study_run dice 0 dice none
study_run tversky 0 tversky none
study_run boundary 0 boundary none
