"""Proof that ``pretrained_deeplab`` rebuilt the ADE20K DeepLabV3+ exactly, measured on the validation photos.

``python -m segdemo.networks.deeplab_proof [--limit N] [--json FILE]`` runs every validation photo
(the recorded 143) through the LiteRT interpreter on the shared TFLite file and through the
rebuilt float32 Keras network, both on the same 512x512 input (the photo scaled to 512 on its
long side, padded with mid-grey, which the network sees as 0), and reports:

- per-photo agreement of the two label maps (the file computes in 8 bits, so they differ where
  two classes are close: the gap is the file's quantization, not the rebuild);
- each one's zero-shot score on Stanford Background regions, its 32 classes mapped onto the 8
  (``pretrained_deeplab.REGIONS_FROM_ADE20K``), unknown pixels ignored.
"""
import argparse
import json

import cv2
import numpy as np

from segdemo.data import load_dataset, load_split
from segdemo.data.labels import REGIONS
from segdemo.networks import deeplab, metrics, pretrained_deeplab
from segdemo.networks.checkpoint import score_text
from segdemo.networks.pretrained import sample_photos

SIDE = 512  # the file's input
GREY = 127.5


def letterbox(photo):
    """(the photo scaled to SIDE on its long side and padded to SIDE x SIDE, its scaled height, width)."""
    height, width = photo.shape[:2]
    scale = SIDE / max(height, width)
    new_height, new_width = round(height * scale), round(width * scale)
    canvas = np.full((SIDE, SIDE, 3), GREY, np.float32)
    canvas[:new_height, :new_width] = cv2.resize(photo, (new_width, new_height), interpolation=cv2.INTER_LINEAR)
    return canvas, new_height, new_width


def back_to_photo(labels, shape, new_height, new_width):
    """A SIDE x SIDE label map cropped to the photo and resized (nearest) to its own size."""
    crop = labels[:new_height, :new_width].astype(np.uint8)
    return cv2.resize(crop, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


class InterpreterLabels:
    """The TFLite file's own answer: its uint8 input, its int32 arg-max."""

    def __init__(self, path):
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 (no Windows wheels)

        self.interpreter = Interpreter(model_path=str(path))
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]

    def __call__(self, canvas):
        self.interpreter.set_tensor(self.input, np.clip(np.round(canvas), 0, 255).astype(np.uint8)[None])
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output)[0]


def rebuilt_network(path):
    """The float32 Keras rebuild with the file's 32 classes, batch norms set from scikit-image's photos."""
    network = deeplab.DeepLabV3Plus("mobilenetv2", (SIDE, SIDE, 3), len(pretrained_deeplab.ADE20K_CLASSES))
    calibration = np.stack([letterbox(photo)[0] for photo in sample_photos(SIDE)]) / GREY - 1
    pretrained_deeplab.load_weights(network, calibration, pretrained_deeplab.ADE20K_CLASSES, path)
    return lambda canvas: network(canvas[None] / GREY - 1, training=False)[0].numpy().argmax(-1)


def prove(path, limit=0):
    dataset = load_dataset(REGIONS)
    _, val_ids = load_split(dataset.ids)
    val = dataset.subset(val_ids[:limit] if limit else val_ids)
    to_regions = np.array(pretrained_deeplab.regions_of_ade20k(list(REGIONS.classes)), np.uint8)
    interpreter, rebuilt = InterpreterLabels(path), rebuilt_network(path)
    agreement, matrices = [], {"interpreter": 0, "rebuilt": 0}
    for photo, truth in zip(val.images, val.masks):
        canvas, new_height, new_width = letterbox(np.asarray(photo, np.float32))
        answers = {"interpreter": interpreter(canvas), "rebuilt": rebuilt(canvas)}
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
    parser.add_argument("file", nargs="?", help="the TFLite file (default: the shared int8 one)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N validation photos")
    parser.add_argument("--json", help="also write the figures (per-photo agreement, scores) to this file")
    args = parser.parse_args(argv)
    result = prove(pretrained_deeplab.tflite_path(args.file), args.limit)
    print(report(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
