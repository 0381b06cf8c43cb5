"""``python -m tools.own_photos_study``: what fine-tuning on a class's own photos gains, measured with a stand-in.

A class that labels its own place (the Label tab) has photos the shipped models never saw, of one
kind of scene.  The stand-in: Stanford Background validation photos (never trained on) of one kind,
those where grass fills at least a tenth of the labelled pixels (parks and lawns: the nearest the
dataset comes to a schoolyard), saved as a class's own photos in the Label tab's order, so every
third is held out.  A shipped checkpoint is fine-tuned on the rest (``train --own --init-from``, with Stanford
training photos mixed in so it does not forget), and scored before and after on the held-out
photos and on the other validation photos (what it might have forgotten).  ``--readme`` writes the
table into the README.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from segdemo.data import load_dataset, load_split
from segdemo.data.labels import REGIONS
from segdemo.data.own_photos import OwnPhotos
from segdemo.serving.evaluate import evaluate
from segdemo.serving.inference import Segmenter
from tools.report import write_into_readme

KIND = "grass"
LEAST_SHARE = 0.1
OWNER = "5a5a5a5a"  # the stand-in class's token


def scene_photos(dataset, ids, kind=KIND, least=LEAST_SHARE):
    """The ids among ``ids`` whose labelled pixels are at least ``least`` of class ``kind``, in id order."""
    index, chosen = REGIONS.classes.index(kind), []
    for image_id in ids:
        mask = dataset.masks[dataset.ids.index(image_id)]
        labelled = mask[mask >= 0]
        if labelled.size and np.mean(labelled == index) >= least:
            chosen.append(image_id)
    return chosen


def run(checkpoint, own_count, epochs, mix, lr, scratch):
    """One fine-tune on ``own_count`` photos: (figures, folder of the fine-tuned model)."""
    from segdemo.networks import train

    dataset = load_dataset(REGIONS)
    _, val_ids = load_split(dataset.ids)
    kind = scene_photos(dataset, val_ids)
    held_out_count = own_count // 2  # every third saved photo is held out: n photos give n // 3
    chosen = kind[: own_count + held_out_count]
    if len(chosen) < own_count + held_out_count:
        raise SystemExit(f"only {len(kind)} validation photos of {KIND} scenes; asked for {own_count + held_out_count}")
    photos = OwnPhotos(Path(scratch) / f"own-{own_count}")
    for image_id in chosen:
        index = dataset.ids.index(image_id)
        photos.add(dataset.images[index], dataset.masks[index], OWNER, source="stanford-stand-in")
    train_ids, held_out = photos.split()
    out = Path(scratch) / f"fine-tuned-{own_count}"
    started = time.perf_counter()
    status = train.main(["--own", str(photos.root), "--mix-stanford", str(mix), "--init-from", str(checkpoint),
                         "--size", "288x384", "--epochs", str(epochs), "--batch", "8", "--lr", str(lr),
                         "--warmup-epochs", "0", "--loss", "ce+dice", "--class-weights", "inverse-sqrt",
                         "--out", str(out), "--resume-dir", str(Path(scratch) / f"resume-{own_count}")])
    minutes = (time.perf_counter() - started) / 60
    if status != 0:
        raise SystemExit(f"fine-tuning failed ({status})")
    history = json.loads((out / "history.json").read_text())
    before = json.loads((out / "before.json").read_text())["val_miou"]
    others = sorted(set(val_ids) - set(chosen))
    forgetting = {name: evaluate(Segmenter(folder, precision="float32"), dataset.subset(others))[0]["miou"]
                  for name, folder in (("before", checkpoint), ("after", out))}
    return {"own_photos": len(train_ids), "held_out": len(held_out), "mixed_stanford": mix, "epochs": epochs,
            "held_out_before": before, "held_out_after": max(row["val_miou"] for row in history),
            "held_out_after_last": history[-1]["val_miou"], "minutes": minutes,
            "other_val_before": forgetting["before"], "other_val_after": forgetting["after"],
            "other_val_count": len(others), "scene_photos": len(kind)}


def markdown(rows, command, checkpoint):
    lines = [f"Measured with `{command}` (starting from `{checkpoint}`; {rows[0]['scene_photos']} validation photos "
             f"are {KIND} scenes):", "",
             "| own photos trained on | held out | Stanford photos mixed in | epochs | held-out mIoU before | after "
             "(best epoch / last) | other validation photos' mIoU before / after | minutes on 2 cores |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['own_photos']} | {row['held_out']} | {row['mixed_stanford']} | {row['epochs']} "
                     f"| {row['held_out_before']:.3f} | {row['held_out_after']:.3f} / {row['held_out_after_last']:.3f} "
                     f"| {row['other_val_before']:.3f} / {row['other_val_after']:.3f} ({row['other_val_count']} photos) "
                     f"| {row['minutes']:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/fpn"))
    parser.add_argument("--own", default="8", help="comma-separated counts of own training photos, e.g. 2,4,8")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--mix", type=int, default=16, help="Stanford training photos mixed in")
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    command = "python -m tools.own_photos_study " + " ".join(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="segdemo-own-study-") as scratch:
        rows = [run(args.checkpoint, int(count), args.epochs, args.mix, args.lr, scratch) for count in args.own.split(",")]
    text = markdown(rows, command.strip(), args.checkpoint)
    print(text)
    if args.readme:
        write_into_readme(text, "<!-- own-photos:start -->", "<!-- own-photos:end -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
