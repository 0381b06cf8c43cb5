"""Labels made in the tools the seed article lists, read into the dataset's index masks.

Three formats, each the one its tool exports for semantic segmentation:

- **LabelMe** JSON: ``shapes`` of polygons (also rectangles and circles), each with a class name,
  painted in file order so a later shape covers an earlier one (as LabelMe's own converter does);
  the photo is embedded (``imageData``) or uploaded beside it (``imagePath``).
- **CVAT** "Segmentation mask" zip: ``labelmap.txt`` (``name:r,g,b::``) and ``SegmentationClass/*.png``
  in those colours, photos in ``JPEGImages/`` or uploaded beside it.
- **PNG index masks**: one channel whose values are classes, named by a class map
  (``0 sky`` lines, or JSON ``{"0": "sky"}``; without one, segdemo's own order and 255 unknown),
  named like the photo (``photo.png`` or ``photo_mask.png`` for ``photo.jpg``).

Class names are matched without regard to case, spaces, hyphens or underscores; ``unknown``,
``background``, ``void`` and ``ignore`` mean "nobody said" (-1).  Anything else is refused with a
message that names the file and what is wrong (``ImportMessage``, in the page's language).
"""
import base64
import binascii
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
from PIL import Image

from segdemo.data.labels import REGIONS, UNKNOWN
from segdemo.imaging import ImageError, Message, load_photo, packed_rgb, unpacked_rgb

UNLABELLED_NAMES = {"unknown", "background", "void", "ignore", "unlabeled", "unlabelled"}
UNKNOWN_VALUE = 255  # what an index mask without a class map uses for "nobody said"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
MASK_SUFFIX = re.compile(r"[._-](mask|label|labels|gt)$")
FILLED_SHAPES = ("polygon", "rectangle", "circle")
MAX_FILES = 200


class ImportMessage(Message):
    """An import's error or note: ``import.<key>`` in ``segdemo/locales``."""

    namespace = "import"


class LabelImportError(ValueError):
    """One file cannot become a label; ``message`` names it and says why."""

    def __init__(self, key, **values):
        self.message = ImportMessage(key, **values)
        super().__init__(self.message)


@dataclass
class Imported:
    """A photo with its mask (class indices, -1 unknown), and the format it came in."""

    name: str
    image: np.ndarray
    mask: np.ndarray
    source: str


def normalised(name):
    return re.sub(r"[\s_\-]+", " ", str(name)).strip().lower()


def class_indices(names, label_set, file_name):
    """{name: class index, -1 for the unlabelled names}; refuses names the label set does not have."""
    known = {normalised(c): i for i, c in enumerate(label_set.classes)}
    unknown = sorted({n for n in names if normalised(n) not in known and normalised(n) not in UNLABELLED_NAMES})
    if unknown:
        raise LabelImportError("unknown_classes", file=file_name, names=", ".join(map(repr, unknown[:8])),
                               known=", ".join(label_set.classes))
    return {n: known.get(normalised(n), UNKNOWN) for n in names}


def read_json(data, file_name):
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LabelImportError("not_json", file=file_name, detail=str(error)[:80]) from None


def paint_shape(mask, shape, value, file_name):
    """Fill one LabelMe shape into ``mask`` with ``value``."""
    kind = shape.get("shape_type") or "polygon"
    try:
        points = np.asarray(shape.get("points", []), dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise LabelImportError("bad_points", file=file_name, label=shape.get("label")) from None
    if kind not in FILLED_SHAPES:
        raise LabelImportError("shape_type", file=file_name, kind=kind, label=shape.get("label"),
                               filled=", ".join(FILLED_SHAPES))
    needed = {"polygon": 3, "rectangle": 2, "circle": 2}[kind]
    if len(points) < needed:
        raise LabelImportError("bad_points", file=file_name, label=shape.get("label"))
    if kind == "polygon":
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], int(value))
    elif kind == "rectangle":
        (x0, y0), (x1, y1) = np.round(points[:2]).astype(int)
        cv2.rectangle(mask, (x0, y0), (x1, y1), int(value), thickness=-1)
    else:
        centre, edge = points[:2]
        cv2.circle(mask, tuple(np.round(centre).astype(int)), int(round(np.hypot(*(edge - centre)))), int(value), -1)


def labelme_mask(document, file_name, label_set=REGIONS):
    """(mask, embedded photo or None, the photo's file name) of one LabelMe document."""
    if not isinstance(document, dict) or not isinstance(document.get("shapes"), list):
        raise LabelImportError("not_labelme", file=file_name)
    photo = None
    if document.get("imageData"):
        try:
            photo = load_photo(base64.b64decode(document["imageData"], validate=False)).image
        except (binascii.Error, ImageError):
            raise LabelImportError("bad_embedded", file=file_name) from None
    try:
        height, width = int(document["imageHeight"]), int(document["imageWidth"])
    except (KeyError, TypeError, ValueError):
        if photo is None:
            raise LabelImportError("no_size", file=file_name) from None
        height, width = photo.shape[:2]
    shapes = [s for s in document["shapes"] if isinstance(s, dict)]
    indices = class_indices([s.get("label", "") for s in shapes], label_set, file_name)
    mask = np.full((height, width), UNKNOWN, np.int16)
    for shape in shapes:
        paint_shape(mask, shape, indices[shape.get("label", "")], file_name)
    return mask, photo, PurePosixPath(str(document.get("imagePath") or "").replace("\\", "/")).name


def parse_class_map(text, file_name):
    """{mask value: class name} from ``0 sky`` / ``0: sky`` lines, or a JSON object (as text or already read)."""
    if not isinstance(text, (dict, str)):  # JSON that is not an object
        raise LabelImportError("bad_class_map", file=file_name)
    if isinstance(text, dict):
        pairs = text.items()
    elif text.lstrip().startswith("{"):
        pairs = read_json(text, file_name).items()
    else:
        pairs = [re.split(r"\s*[:=,\t ]\s*", line.strip(), maxsplit=1) for line in text.splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
    try:
        return {int(value): str(name).strip() for value, name in pairs}
    except (TypeError, ValueError):
        raise LabelImportError("bad_class_map", file=file_name) from None


def index_mask(values, class_map, label_set, file_name):
    """Class indices from a one-channel mask and ``class_map`` (None: segdemo's order, 255 unknown)."""
    if class_map is None:
        class_map = {i: name for i, name in enumerate(label_set.classes)} | {UNKNOWN_VALUE: "unknown"}
    indices = class_indices(list(class_map.values()), label_set, file_name)
    present = np.unique(values)
    unmapped = [int(v) for v in present if int(v) not in class_map]
    if unmapped:
        raise LabelImportError("unmapped_values", file=file_name, values=", ".join(map(str, unmapped[:10])))
    lookup = {value: indices[name] for value, name in class_map.items()}
    mask = np.full(values.shape, UNKNOWN, np.int16)
    for value in present:
        mask[values == value] = lookup[int(value)]
    return mask


def parse_labelmap(text, file_name):
    """{(r, g, b): class name} from CVAT's ``labelmap.txt`` (``name:r,g,b:parts:actions``)."""
    colours = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, rest = line.partition(":")
        try:
            colour = tuple(int(c) for c in rest.split(":")[0].split(","))
        except ValueError:
            raise LabelImportError("bad_labelmap", file=file_name) from None
        if len(colour) != 3:
            raise LabelImportError("bad_labelmap", file=file_name)
        colours[colour] = name.strip()
    if not colours:
        raise LabelImportError("bad_labelmap", file=file_name)
    return colours


def colour_mask(rgb, colours, label_set, file_name):
    """Class indices from a mask painted in the labelmap's ``colours``."""
    indices = class_indices(list(colours.values()), label_set, file_name)
    packed = packed_rgb(rgb)
    lookup = {int(packed_rgb(colour)): indices[name] for colour, name in colours.items()}
    mask = np.full(rgb.shape[:2], UNKNOWN, np.int16)
    for value in np.unique(packed):
        if int(value) not in lookup:
            raise LabelImportError("unknown_colour", file=file_name, colour=tuple(map(int, unpacked_rgb(value))))
        mask[packed == value] = lookup[int(value)]
    return mask


def one_channel(data, file_name):
    """The values of a one-channel picture (a mask), or None for a colour picture (a photo or colour mask)."""
    try:
        picture = Image.open(io.BytesIO(data))
        if picture.mode not in ("L", "P", "I", "I;16", "1"):
            return None
        picture.load()
    except (OSError, SyntaxError, ValueError):
        raise LabelImportError("not_picture", file=file_name) from None
    return np.asarray(picture.convert("L") if picture.mode == "1" else picture).astype(np.int64)


def cvat_masks(data, file_name, label_set):
    """[(stem, mask, photo or None)] of a CVAT segmentation-mask zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except zipfile.BadZipFile:
        raise LabelImportError("not_zip", file=file_name) from None
    labelmap = next((n for n in names if PurePosixPath(n).name == "labelmap.txt"), None)
    masks = [n for n in names if "SegmentationClass/" in n and n.lower().endswith(".png")]
    if labelmap is None or not masks:
        raise LabelImportError("not_cvat", file=file_name)
    colours = parse_labelmap(archive.read(labelmap).decode("utf-8", "replace"), f"{file_name}/labelmap.txt")
    photos = {PurePosixPath(n).stem.lower(): n for n in names if "JPEGImages/" in n}
    found = []
    for name in masks:
        inner = f"{file_name}/{PurePosixPath(name).name}"
        data = archive.read(name)
        if one_channel(data, inner) is not None:
            raise LabelImportError("not_cvat", file=inner)
        try:
            rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        except (OSError, SyntaxError, ValueError):
            raise LabelImportError("not_picture", file=inner) from None
        stem = PurePosixPath(name).stem
        photo = photos.get(stem.lower())
        found.append((stem, colour_mask(rgb, colours, label_set, inner),
                      load_photo(archive.read(photo)).image if photo else None))
    return found


def photo_stem(name, photos):
    """The name of the photo a label file belongs to: its own ("street-gt.png" for "street-gt.jpg"), else
    the name without a mask suffix ("street_mask.png" for "street.jpg")."""
    own = Path(name).stem.lower()
    return own if own in photos else MASK_SUFFIX.sub("", own)


def import_files(paths, label_set=REGIONS):
    """(imported photos, problems) from uploaded files: photos, LabelMe JSON, CVAT zips, PNG masks and
    a class map; each problem is an ``ImportMessage`` naming its file, and the good files still count."""
    paths = [Path(p) for p in paths or []]
    if not paths:
        return [], [ImportMessage("nothing")]
    if len(paths) > MAX_FILES:
        return [], [ImportMessage("too_many", count=len(paths), most=MAX_FILES)]
    problems, photos, labels, class_map = [], {}, [], None
    for path in paths:  # first the class map and the photos, which the labels are matched against
        suffix = path.suffix.lower()
        try:
            if suffix == ".json":
                document = read_json(path.read_bytes(), path.name)
                if isinstance(document, dict) and "shapes" in document:
                    labels.append(("labelme", path, document))
                else:
                    class_map = parse_class_map(document, path.name)
            elif suffix == ".txt":
                class_map = parse_class_map(path.read_text(encoding="utf-8-sig", errors="replace"), path.name)
            elif suffix == ".zip":
                labels.append(("cvat", path, None))
            elif suffix in PHOTO_SUFFIXES:
                values = one_channel(path.read_bytes(), path.name)
                if values is not None:
                    labels.append(("index-png", path, values))
                else:
                    photos[path.stem.lower()] = load_photo(path).image
            else:
                problems.append(ImportMessage("unsupported", file=path.name))
        except (LabelImportError, ImageError) as error:
            problems.append(error.message)
    imported, used = [], set()
    for source, path, content in labels:
        try:
            for name, mask, photo in read_labels(source, path, content, class_map, label_set):
                stem = photo_stem(name, photos)
                used.add(stem)  # a photo whose label was refused is not also "without a label"
                photo = photo if photo is not None else photos.get(stem)
                if photo is None:
                    raise LabelImportError("no_photo", file=path.name, photo=name)
                if photo.shape[:2] != mask.shape:
                    raise LabelImportError("size_mismatch", file=path.name, width=mask.shape[1], height=mask.shape[0],
                                           photo_width=photo.shape[1], photo_height=photo.shape[0])
                imported.append(Imported(Path(name).stem, photo, mask, source))
        except (LabelImportError, ImageError) as error:
            problems.append(error.message)
    problems += [ImportMessage("photo_unlabelled", file=stem) for stem in sorted(set(photos) - used)]
    return imported, problems


def read_labels(source, path, content, class_map, label_set):
    """[(photo name, mask, embedded photo or None)] of one label file (``content``: what was already read)."""
    if source == "index-png":
        return [(path.name, index_mask(content, class_map, label_set, path.name), None)]
    if source == "cvat":
        return cvat_masks(path.read_bytes(), path.name, label_set)
    mask, photo, photo_name = labelme_mask(content, path.name, label_set)
    return [(photo_name or path.name, mask, photo)]
