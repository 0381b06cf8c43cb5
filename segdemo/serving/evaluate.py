"""``python -m segdemo.serving.evaluate checkpoints/NAME``: score a checkpoint on the validation split.

Every validation image is segmented at its own resolution (exactly as the app does) and
compared with its full-resolution labels.  One confusion matrix over all images gives the
pixel-level metrics; probability histograms give average precision; Hausdorff distances
(95th percentile) are averaged over the images where a class is in both truth and
prediction.  Each image's own pixel accuracy and mIoU are kept too, to rank the photos.  The result is printed and written to ``metrics.json`` in the folder.

Each image's own confusion matrix goes to ``confusions.json`` beside it: the Error analysis tab
finds the photos behind any cell of the matrix from it, instead of running the model over the
validation photos when a student first asks.

``--test-time scales-and-flip`` scores DeepLab's evaluation protocol instead of the app's one pass
(``segdemo.serving.augmented``); its figures go to their own file, ``metrics-scales-and-flip.json``,
and the one pass's records, which the app reads, stay as they are.
"""
import argparse
import hashlib
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from segdemo.data import DatasetError, load_dataset, load_split
from segdemo.data.labels import get_label_set
from segdemo.networks import metrics
from segdemo.networks.checkpoint import (CONFUSIONS_FILE, METRICS_FILE, REPORTED_METRICS, protocol_metrics_file,
                                         record_command, write_record)
from segdemo.networks.models import CheckpointError
from segdemo.serving.augmented import PROTOCOLS, AugmentedNetwork
from segdemo.serving.inference import Segmenter


def evaluate(segmenter, dataset):
    """(all metrics of ``segmenter`` on ``dataset`` (a StanfordBackground subset), the record of each image's confusion matrix)."""
    classes = segmenter.config.classes
    counts = np.zeros((len(classes), len(classes)), np.int64)
    average_precision = metrics.AveragePrecision(len(classes))
    distances, per_image, confusions = [], [], {}
    started = time.perf_counter()
    for image_id, image, mask in zip(dataset.ids, dataset.images, dataset.masks):
        result = segmenter.segment(image, keep_probabilities=True)
        image_counts = metrics.confusion_matrix(mask, result.labels, len(classes))
        counts += image_counts
        confusions[image_id] = image_counts.tolist()
        per_image.append({"id": image_id, "pixel_accuracy": metrics.json_number(metrics.pixel_accuracy(image_counts)),
                          "miou": metrics.json_number(metrics.nan_mean(metrics.iou(image_counts)))})
        average_precision.update(mask, result.probabilities)
        distances.append(metrics.hausdorff_per_class(mask, result.labels, len(classes)))
    seconds = time.perf_counter() - started
    summary = metrics.summarize(counts, classes)
    ap = average_precision.result()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a class never present: NaN is the answer
        hd95 = np.nanmean(np.array(distances), axis=0) if distances else np.full(len(classes), np.nan)
    for i, name in enumerate(classes):
        summary["per_class"][name]["average_precision"] = metrics.json_number(ap[i])
        summary["per_class"][name]["hausdorff95"] = metrics.json_number(hd95[i])
    summary["mean_average_precision"] = metrics.nan_mean(ap)
    summary["mean_hausdorff95"] = metrics.nan_mean(hd95)
    summary["images"] = len(dataset)
    summary["per_image"] = per_image  # for the error-analysis tab: worst photos first, without a network pass
    summary["ids_sha1"] = hashlib.sha1(",".join(dataset.ids).encode()).hexdigest()
    summary["milliseconds_per_image"] = 1000 * seconds / max(len(dataset), 1)
    return summary, {"classes": list(classes), "ids_sha1": summary["ids_sha1"], "per_image": confusions}


def format_report(name, summary):
    lines = [
        f"{name}: {summary['images']} validation images",
        "  " + "   ".join(f"{metric.title} {metric.formatted(summary)}" for metric in REPORTED_METRICS),
        f"  {'class':<18}{'IoU':>7}{'F1':>7}{'AP':>7}{'HD95':>8}",
    ]
    for name, row in summary["per_class"].items():
        cells = [row["iou"], row["f1"], row["average_precision"]]
        text = "".join(f"{'-' if v is None else f'{v:.3f}':>7}" for v in cells)
        hd = row["hausdorff95"]
        lines.append(f"  {name:<18}{text}{'-' if hd is None else f'{hd:.1f}':>8}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m segdemo.serving.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--data", help="data folder (default: $SEGDEMO_DATA, then ../shared, then the cache)")
    parser.add_argument("--split", default="fixed", choices=["fixed", "sorted80"])
    parser.add_argument("--out", type=Path, help=f"where to write (default: CHECKPOINT/{METRICS_FILE})")
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16", "auto"],
                        help="float32 (default) gives the same figures on every machine; auto is what the app uses")
    parser.add_argument("--test-time", default="one-pass", choices=list(PROTOCOLS),
                        help="one-pass (default) is what the app does; flip adds the mirror image; scales-and-flip is "
                             "DeepLab's protocol (six scales, each mirrored: about eleven passes a photo)")
    args = parser.parse_args(argv)
    augmented = args.test_time != "one-pass"
    try:
        network = AugmentedNetwork(args.checkpoint, *PROTOCOLS[args.test_time], args.precision) if augmented else None
        segmenter = Segmenter(args.checkpoint, precision=args.precision, network=network)
        dataset = load_dataset(get_label_set(segmenter.config.label_set), args.data)
        _, val_ids = load_split(dataset.ids, args.split)
        summary, confusions = evaluate(segmenter, dataset.subset(val_ids))
    except (CheckpointError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    summary["split"] = args.split
    summary["precision"] = segmenter.precision
    summary["test_time"] = args.test_time
    out = args.out or args.checkpoint / (protocol_metrics_file(args.test_time) if augmented else METRICS_FILE)
    write_record(out.parent, out.name, summary)
    if not augmented:  # Error analysis explains the app's answers: the one pass's
        write_record(out.parent, CONFUSIONS_FILE, confusions)
    if args.out is None:
        record_command(args.checkpoint, "python -m segdemo.serving.evaluate " + shlex.join(argv if argv is not None else sys.argv[1:]))
    print(format_report(segmenter.name, summary))
    print(f"written to {out}" + ("" if augmented else f" and {out.parent / CONFUSIONS_FILE}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
