"""Stanford Background as the Dataset and Error-analysis tabs show it.

Any photo with its three labellings (regions, surfaces and the layers' region ids), which
split it belongs to, which classes it contains, and dataset-wide statistics.  Loaded once
per process, from the same cache the training uses.
"""
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from segdemo.data import load_dataset, load_split, read_label_matrix, resolve_data_root
from segdemo.data.labels import REGIONS, SURFACES

GOLDEN_RATIO = 0.618033988749895


@dataclass
class DatasetView:
    """Both label sets of every photo, the recorded split and per-photo class lists."""

    root: object
    regions: object
    surfaces: object
    val_ids: set
    _rows: dict = field(default_factory=dict)
    _digests: dict = field(default_factory=dict)

    def __post_init__(self):
        self._rows = {image_id: i for i, image_id in enumerate(self.regions.ids)}

    @property
    def ids(self):
        return self.regions.ids

    def has(self, image_id):
        return image_id in self._rows

    def split_of(self, image_id):
        return "validation" if image_id in self.val_ids else "training"

    def classes_present(self, image_id):
        """Region classes with at least one pixel in the photo, in class order."""
        values = np.unique(self.regions.masks[self._rows[image_id]])
        return [REGIONS.classes[v] for v in values if v >= 0]

    def ids_with(self, classes):
        """Ids of the photos that contain every one of ``classes`` (all ids for none)."""
        wanted = {REGIONS.classes.index(name) for name in classes}
        return [image_id for image_id, mask in zip(self.ids, self.regions.masks)
                if wanted <= set(np.unique(mask).tolist())]

    def photo(self, image_id):
        return self.regions.images[self._rows[image_id]]

    def truth(self, image_id, label_set="regions"):
        dataset = self.regions if label_set == "regions" else self.surfaces
        return dataset.masks[self._rows[image_id]].astype(np.int32)

    def photo_path(self, image_id):
        return self.root / "images" / f"{image_id}.jpg"

    def id_of_file(self, path):
        """The id of a dataset photo given a copy of its file (Gradio copies uploads), else None."""
        if not self._digests:
            self._digests = {file_digest(self.photo_path(i)): i for i in self.ids}
        try:
            return self._digests.get(file_digest(path))
        except OSError:
            return None

    def layers(self, image_id):
        """The layer (region id) of every pixel; negative ids are unlabelled."""
        return read_label_matrix(self.root / "labels" / f"{image_id}.layers.txt")

    def statistics(self):
        """Pixel share per class in each split, image sizes, and each photo's unknown share."""
        shares = {}
        for split in ("training", "validation"):
            counts = np.zeros(REGIONS.num_classes, np.int64)
            for image_id, mask in zip(self.ids, self.regions.masks):
                if self.split_of(image_id) == split:
                    counts += np.bincount(mask[mask >= 0].reshape(-1), minlength=REGIONS.num_classes)
            shares[split] = (counts / max(counts.sum(), 1)).tolist()
        sizes = Counter((image.shape[1], image.shape[0]) for image in self.regions.images)
        unknown = [float(np.mean(mask < 0)) for mask in self.regions.masks]
        return {"class_shares": shares, "sizes": dict(sizes), "unknown_share": unknown}


def file_digest(path):
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def layer_colours(count):
    """``count`` well-separated colours (golden-ratio hues), for region ids with no meaning of their own."""
    import colorsys

    return [tuple(int(255 * c) for c in colorsys.hsv_to_rgb((i * GOLDEN_RATIO) % 1.0, 0.65, 0.95))
            for i in range(count)]


@lru_cache(maxsize=1)
def open_dataset_view(root=None):
    """The dataset, loaded once; raises ``DatasetError`` (with where it looked) when absent."""
    root = resolve_data_root(root)
    regions, surfaces = load_dataset(REGIONS, root), load_dataset(SURFACES, root)
    _, val_ids = load_split(regions.ids)
    return DatasetView(root=root, regions=regions, surfaces=surfaces, val_ids=set(val_ids))
