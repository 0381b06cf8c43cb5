"""``python -m segdemo.serving.teacher CHECKPOINT``: a checkpoint's answers for the training photos, to learn from.

The app answers each photo in one pass; DeepLab's protocol (six scales, each mirrored: twelve
passes, ``segdemo.serving.augmented``) scores higher on the same network, but costs eleven times
the time.  Knowledge distillation trains a one-pass network to give the protocol's answer: this
command writes the protocol's class probabilities for every training photo at the photo's own size
(``segdemo.data.soft_targets``), including the pixels the dataset leaves unlabelled, and
``python -m segdemo.networks.train --teacher FILE`` learns from them beside the labels.  Only the
training photos are answered: the validation photos stay unseen.
"""
import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

from segdemo.data import DatasetError, load_dataset, load_split
from segdemo.data.labels import get_label_set
from segdemo.networks import metrics
from segdemo.networks.models import CheckpointError
from segdemo.data.soft_targets import quantized, write_soft_targets
from segdemo.paths import cache_dir
from segdemo.serving.augmented import PROTOCOLS, AugmentedNetwork
from segdemo.serving.inference import Segmenter


def default_path(checkpoint, protocol):
    """Where the soft targets of ``checkpoint`` under ``protocol`` are kept: the segdemo cache (tens of MB, never
    committed), one file per checkpoint folder (its name and a hash of its path) and protocol."""
    folder = Path(checkpoint).resolve()
    return cache_dir() / "teachers" / f"{folder.name}-{hashlib.sha1(str(folder).encode()).hexdigest()[:8]}-{protocol}.npz"


def teach(segmenter, dataset, log_every=50):
    """({photo id: (H, W, C) probabilities, quantized as stored}, the teacher's confusion matrix on ``dataset``'s labels)."""
    classes = segmenter.config.classes
    counts = np.zeros((len(classes), len(classes)), np.int64)
    answers = {}
    started = time.perf_counter()
    for done, (image_id, image, mask) in enumerate(zip(dataset.ids, dataset.images, dataset.masks), start=1):
        result = segmenter.segment(image, keep_probabilities=True)
        answers[image_id] = quantized(result.probabilities)  # as stored: 1.4 GB of float32 for 572 photos otherwise
        counts += metrics.confusion_matrix(mask, result.labels, len(classes))
        if done % log_every == 0 or done == len(dataset):
            print(f"{done}/{len(dataset)} photos, {(time.perf_counter() - started) / done:.2f} s each", flush=True)
    return answers, counts


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m segdemo.serving.teacher", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--test-time", default="scales-and-flip", choices=list(PROTOCOLS),
                        help="how the teacher answers (default: DeepLab's protocol, twelve passes a photo)")
    parser.add_argument("--data", help="data folder (default: $SEGDEMO_DATA, then ../shared, then the cache)")
    parser.add_argument("--split", default="fixed", choices=["fixed", "sorted80"])
    parser.add_argument("--limit", type=int, default=0, help="answer only the first N training photos (smoke runs)")
    parser.add_argument("--out", type=Path, help="where to write (default: ~/.cache/segdemo/teachers/CHECKPOINT-HASH-PROTOCOL.npz)")
    args = parser.parse_args(argv)
    try:
        network = AugmentedNetwork(args.checkpoint, *PROTOCOLS[args.test_time]) if args.test_time != "one-pass" else None
        segmenter = Segmenter(args.checkpoint, precision="float32", network=network)
        dataset = load_dataset(get_label_set(segmenter.config.label_set), args.data)
        train_ids, _ = load_split(dataset.ids, args.split)
        training = dataset.subset(train_ids[: args.limit] if args.limit else train_ids)
    except (CheckpointError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    answers, counts = teach(segmenter, training)
    out = args.out or default_path(args.checkpoint, args.test_time)
    teacher = f"{args.checkpoint} ({args.test_time}, {args.split} split)"
    write_soft_targets(out, answers, teacher)
    summary = metrics.summarize(counts, segmenter.config.classes)
    print(f"teacher {teacher} on its {len(training)} training photos: pixel accuracy {summary['pixel_accuracy']:.4f}, "
          f"mIoU {summary['miou']:.4f}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
