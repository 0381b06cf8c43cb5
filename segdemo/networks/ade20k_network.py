"""The ADE20K DeepLabV3+ file as it is: its classes, where it is, and its own answer by the LiteRT interpreter.

The file (``PROVENANCE.md``) predicts 32 classes of ADE20K on a 512x512 input.  It ships in
``segdemo/assets/ade20k`` (so a Space has it) and lies in ``../shared/weights`` beside the
project.  ``pretrained_deeplab`` reads its weights; this module runs it whole, to show what the
network knew before it saw Stanford Background and to prove the rebuild against it.
"""
from pathlib import Path

import cv2
import numpy as np

from segdemo.networks.pretrained import PretrainedWeightsError
from segdemo.paths import ASSETS, SHARED

SHARED_FOLDER = SHARED / "weights" / "deeplabv3_mnv2_ade20k32"
BUNDLED_FOLDER = ASSETS / "ade20k"
DEFAULT_FILE = "deeplabv3_mnv2_ade20k_int8.tflite"  # per-channel weight scales: the closer to the float network
SIDE = 512  # the file's input
GREY = 127.5  # padding: the network sees it as 0

# the file's 32 classes (PROVENANCE.md): 0 = other, then ADE20K's first 31
ADE20K_CLASSES = ("other", "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass",
                  "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair",
                  "car", "water", "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field", "armchair")
# what each regions class is made of in ADE20K (PROVENANCE.md's mapping; the first is its start when fine-tuned)
REGIONS_FROM_ADE20K = {
    "sky": ("sky",), "tree": ("tree", "plant"), "road": ("road", "sidewalk", "earth", "floor"),
    "grass": ("grass", "field"), "water": ("water", "sea"),
    "building": ("building", "house", "wall", "windowpane", "door", "ceiling"), "mountain": ("mountain",),
}
FOREGROUND = "foreground object"  # everything else


def regions_of_ade20k(regions_classes):
    """For each of the 32 ADE20K classes, the index of the regions class it counts as."""
    owner = {ade: regions_classes.index(region) for region, parts in REGIONS_FROM_ADE20K.items() for ade in parts}
    return [owner.get(name, regions_classes.index(FOREGROUND)) for name in ADE20K_CLASSES]


# ADE20K's usual palette for these classes (the one its benchmark's tools draw with); "other" black
ADE20K_COLOURS = ((0, 0, 0), (120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3), (120, 120, 80),
                  (140, 140, 140), (204, 5, 255), (230, 230, 230), (4, 250, 7), (224, 5, 255), (235, 255, 7), (150, 5, 61),
                  (120, 120, 70), (8, 255, 51), (255, 6, 82), (143, 255, 140), (204, 255, 4), (255, 51, 7), (204, 70, 3),
                  (0, 102, 200), (61, 230, 250), (255, 6, 51), (11, 102, 255), (255, 7, 71), (255, 9, 224), (9, 7, 230),
                  (220, 220, 220), (255, 9, 92), (112, 9, 255), (8, 255, 214))


def tflite_path(source=None):
    """The TFLite file: ``source`` itself, the default file in ``source`` (a folder), else the bundled copy."""
    path = Path(source) if source else BUNDLED_FOLDER
    path = path / DEFAULT_FILE if path.is_dir() else path
    if not path.is_file():
        raise PretrainedWeightsError(f"DeepLabV3+ weights file {path} does not exist")
    return path


def letterbox(photo):
    """(the photo scaled to SIDE on its long side and padded with grey to SIDE x SIDE, its scaled height, width)."""
    height, width = photo.shape[:2]
    scale = SIDE / max(height, width)
    new_height, new_width = max(1, round(height * scale)), max(1, round(width * scale))
    canvas = np.full((SIDE, SIDE, 3), GREY, np.float32)
    canvas[:new_height, :new_width] = cv2.resize(np.asarray(photo, np.float32), (new_width, new_height),
                                                 interpolation=cv2.INTER_LINEAR)
    return canvas, new_height, new_width


def back_to_photo(labels, shape, new_height, new_width):
    """A SIDE x SIDE label map cropped to the photo and resized (nearest) to its own size."""
    crop = labels[:new_height, :new_width].astype(np.uint8)
    return cv2.resize(crop, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


class ADE20KInterpreter:
    """The file's own answer: its uint8 input, its int32 arg-max over the 32 classes."""

    def __init__(self, path=None):
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 (no Windows wheels)

        self.interpreter = Interpreter(model_path=str(tflite_path(path)), num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]

    def canvas_labels(self, canvas):
        """ADE20K class per pixel of a SIDE x SIDE canvas (RGB 0-255)."""
        self.interpreter.set_tensor(self.input, np.clip(np.round(canvas), 0, 255).astype(np.uint8)[None])
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output)[0]

    def labels(self, photo):
        """ADE20K class per pixel of an RGB photo of any size."""
        canvas, new_height, new_width = letterbox(photo)
        return back_to_photo(self.canvas_labels(canvas), photo.shape, new_height, new_width)
