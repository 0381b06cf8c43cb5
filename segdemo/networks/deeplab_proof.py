"""Proof that ``pretrained_deeplab`` rebuilt the ADE20K DeepLabV3+ exactly, measured on the validation photos.

``python -m segdemo.networks.deeplab_proof [--limit N] [--json FILE]`` runs every validation photo
(the recorded 143) through the LiteRT interpreter on the shared TFLite file and through the
rebuilt float32 Keras network, both on the same 512x512 input (the photo scaled to 512 on its
long side, padded with mid-grey, which the network sees as 0), and reports:

- per-photo agreement of the two label maps (the file computes in 8 bits, so they differ where
  two classes are close: the gap is the file's quantization, not the rebuild);
- each one's zero-shot score on Stanford Background regions, its 32 classes mapped onto the 8
  (``ade20k_network.REGIONS_FROM_ADE20K``), unknown pixels ignored.
"""
import argparse
import json

import numpy as np

from segdemo.data import load_dataset, load_split
from segdemo.data.labels import REGIONS
from segdemo.networks import deeplab, metrics, pretrained_deeplab
from segdemo.networks.ade20k_network import (ADE20K_CLASSES, GREY, SIDE, ADE20KInterpreter, back_to_photo, letterbox,
                                             regions_of_ade20k, tflite_path)
from segdemo.networks.checkpoint import score_text
from segdemo.networks.pretrained import sample_photos

def rebuilt_network(path):
    """The float32 Keras rebuild with the file's 32 classes, batch norms set from scikit-image's photos."""
    network = deeplab.DeepLabV3Plus("mobilenetv2", (SIDE, SIDE, 3), len(ADE20K_CLASSES))
    calibration = np.stack([letterbox(photo)[0] for photo in sample_photos(SIDE)]) / GREY - 1
    pretrained_deeplab.load_weights(network, calibration, ADE20K_CLASSES, path)
    return lambda canvas: network(canvas[None] / GREY - 1, training=False)[0].numpy().argmax(-1)


def prove(path, limit=0):
    dataset = load_dataset(REGIONS)
    _, val_ids = load_split(dataset.ids)
    val = dataset.subset(val_ids[:limit] if limit else val_ids)
    to_regions = np.array(regions_of_ade20k(list(REGIONS.classes)), np.uint8)
    interpreter, rebuilt = ADE20KInterpreter(path), rebuilt_network(path)
    agreement, matrices = [], {"interpreter": 0, "rebuilt": 0}
    for photo, truth in zip(val.images, val.masks):
        canvas, new_height, new_width = letterbox(np.asarray(photo, np.float32))
        answers = {"interpreter": interpreter.canvas_labels(canvas), "rebuilt": rebuilt(canvas)}
        labels = {k: back_to_photo(v, photo.shape, new_height, new_width) for k, v in answers.items()}
        agreement.append(float(np.mean(labels["interpreter"] == labels["rebuilt"])))
        for key, value in labels.items():
            matrices[key] = matrices[key] + metrics.confusion_matrix(truth, to_regions[value], REGIONS.num_classes)
    scores = {key: metrics.summarize(matrix, REGIONS.classes) for key, matrix in matrices.items()}
    return {"file": path.name, "photos": len(val), "agreement": agreement, "scores": scores}


def report(result):
    agreement = np.array(result["agreement"])
    lines = [f"{result['file']} on {result['photos']} validation photos (512x512, letterboxed)",
             f"labels of the rebuilt float32 network equal the interpreter's: mean {agreement.mean():.4f}, "
             f"median {np.median(agreement):.4f}, worst photo {agreement.min():.4f}"]
    for key, summary in result["scores"].items():
        per_class = " ".join(f"{name} {score_text(values['iou'])}" for name, values in summary["per_class"].items())
        lines.append(f"{key:11s} zero-shot pixel accuracy {summary['pixel_accuracy']:.4f} mIoU {summary['miou']:.4f} "
                     f"({per_class})")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m segdemo.networks.deeplab_proof", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", help="the TFLite file (default: the bundled int8 one, the same bytes as the shared one)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N validation photos")
    parser.add_argument("--json", help="also write the figures (per-photo agreement, scores) to this file")
    args = parser.parse_args(argv)
    result = prove(tflite_path(args.file), args.limit)
    print(report(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
