"""Read the Stanford Background layout and cache it as one compact array file.

The dataset ships its labels as 715 whitespace-separated text matrices per label set;
parsing them takes tens of seconds, so the first load writes every image and mask into a
single ``.npz`` whose name carries a fingerprint of the source files.  Later loads take
about a second, and any change to the files (size or modification time) makes a new cache.
"""
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from segdemo.data.fetch import SHARED_ARCHIVE, fetched_root, unpack_once
from segdemo.data.labels import UNKNOWN, LabelSet
from segdemo.data.layout import DatasetError, list_ids
from segdemo.paths import SHARED, cache_dir

SHARED_DATA = SHARED / "iccv09Data"
DATA_ENV = "SEGDEMO_DATA"
CACHE_FORMAT = 1
PHOTO_COUNT = 715  # the dataset's photos, each labelled by hand (Gould et al., 2009)


@dataclass
class StanfordBackground:
    """Images (uint8 RGB) and masks (int8, -1 = unknown) of one label set, in id order."""

    ids: list
    images: list
    masks: list
    label_set: LabelSet

    def __len__(self):
        return len(self.ids)

    def subset(self, ids):
        index = {image_id: i for i, image_id in enumerate(self.ids)}
        missing = [image_id for image_id in ids if image_id not in index]
        if missing:
            raise DatasetError(f"ids not in the dataset: {missing[:5]} ({len(missing)} in all)")
        rows = [index[image_id] for image_id in ids]
        return StanfordBackground(
            ids=list(ids),
            images=[self.images[i] for i in rows],
            masks=[self.masks[i] for i in rows],
            label_set=self.label_set,
        )


def resolve_data_root(explicit=None) -> Path:
    """The data folder, from the first source that has one.

    ``explicit`` (``--data``), then ``$SEGDEMO_DATA``, then ``../shared/iccv09Data``, then
    the archive ``../shared/data/iccv09Data.tar.gz`` (unpacked once into the cache and
    checked file by file), then the copy ``python -m segdemo.data fetch`` put in the cache.
    """
    for candidate, origin in ((explicit, "--data"), (os.environ.get(DATA_ENV), f"${DATA_ENV}")):
        if candidate:
            path = Path(candidate).expanduser()
            if path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar")):
                return unpack_once(path)
            if not ((path / "images").is_dir() and (path / "labels").is_dir()):
                raise DatasetError(f"{path} (from {origin}) has no images/ and labels/ folders")
            return path
    if (SHARED_DATA / "images").is_dir() and (SHARED_DATA / "labels").is_dir():
        return SHARED_DATA
    if SHARED_ARCHIVE.exists():
        return unpack_once(SHARED_ARCHIVE)
    fetched = fetched_root()
    if (fetched / "images").is_dir():
        return fetched
    raise DatasetError(
        f"Stanford Background not found (tried --data, ${DATA_ENV}, {SHARED_DATA}, {SHARED_ARCHIVE} "
        f"and {fetched}). Get it with `python -m segdemo.data fetch` or pass --data / set ${DATA_ENV}."
    )


def read_label_matrix(path: Path) -> np.ndarray:
    """Parse one ``labels/*.txt`` matrix (rows of integers) into an int32 array."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise DatasetError(f"cannot read label file {path}: {error}") from None
    rows = [row for row in text.splitlines() if row.strip()]
    try:
        values = np.array(text.split(), dtype=np.int32)
    except ValueError:
        raise DatasetError(f"label file {path} holds something other than integers") from None
    if not rows or values.size % len(rows) or len(rows[0].split()) != values.size // len(rows):
        raise DatasetError(f"label file {path} is not a rectangular matrix")
    return values.reshape(len(rows), -1)


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"cannot decode image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_example(root: Path, image_id: str, label_set: LabelSet):
    """One image and its mask, with labels checked against the label set."""
    image = read_image(root / "images" / f"{image_id}.jpg")
    label_path = root / "labels" / f"{image_id}.{label_set.suffix}.txt"
    if not label_path.exists():
        raise DatasetError(f"missing label file {label_path}")
    labels = read_label_matrix(label_path)
    if labels.shape != image.shape[:2]:
        raise DatasetError(
            f"label file {label_path} is {labels.shape[1]}x{labels.shape[0]} "
            f"but its image is {image.shape[1]}x{image.shape[0]}"
        )
    if labels.max() >= label_set.num_classes:
        raise DatasetError(
            f"label file {label_path} has class {labels.max()}, "
            f"but {label_set.name} has only {label_set.num_classes} classes"
        )
    mask = np.where(labels < 0, UNKNOWN, labels).astype(np.int8)
    return image, mask


def source_fingerprint(root: Path, ids, label_set: LabelSet) -> str:
    digest = hashlib.sha1(f"{CACHE_FORMAT}:{label_set.name}".encode())
    for image_id in ids:
        for path in (root / "images" / f"{image_id}.jpg", root / "labels" / f"{image_id}.{label_set.suffix}.txt"):
            stat = path.stat() if path.exists() else None
            digest.update(f"{path.name}:{stat and stat.st_size}:{stat and stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def _write_cache(path: Path, dataset: StanfordBackground):
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f"stanford-{dataset.label_set.name}-*.npz"):
        stale.unlink()
    shapes = np.array([mask.shape for mask in dataset.masks], dtype=np.int32)
    partial = path.with_suffix(".partial.npz")
    np.savez(
        partial,
        ids=np.array(dataset.ids),
        shapes=shapes,
        images=np.concatenate([image.reshape(-1) for image in dataset.images]),
        masks=np.concatenate([mask.reshape(-1) for mask in dataset.masks]),
    )
    partial.replace(path)


def _read_cache(path: Path, label_set: LabelSet) -> StanfordBackground:
    with np.load(path) as cache:
        ids, shapes = [str(i) for i in cache["ids"]], cache["shapes"]
        flat_images, flat_masks = cache["images"], cache["masks"]
    sizes = shapes[:, 0] * shapes[:, 1]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    masks = [flat_masks[a:b].reshape(h, w) for a, b, (h, w) in zip(offsets, offsets[1:], shapes)]
    images = [
        flat_images[3 * a : 3 * b].reshape(h, w, 3) for a, b, (h, w) in zip(offsets, offsets[1:], shapes)
    ]
    return StanfordBackground(ids=ids, images=images, masks=masks, label_set=label_set)


def load_dataset(label_set: LabelSet, root=None) -> StanfordBackground:
    """All images with their masks for one label set, through the cache."""
    root = resolve_data_root(root)
    ids = list_ids(root)
    cache_path = cache_dir() / f"stanford-{label_set.name}-{source_fingerprint(root, ids, label_set)}.npz"
    if cache_path.exists():
        return _read_cache(cache_path, label_set)
    examples = [read_example(root, image_id, label_set) for image_id in ids]
    dataset = StanfordBackground(
        ids=ids, images=[e[0] for e in examples], masks=[e[1] for e in examples], label_set=label_set
    )
    _write_cache(cache_path, dataset)
    return dataset
