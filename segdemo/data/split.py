"""The fixed train/validation split, so every model is judged on the same images.

The split is a seeded permutation of the sorted image ids (572 train / 143 validation on
the full dataset).  ``python -m segdemo.data split`` records the validation ids in
``val_ids.txt`` beside this file; once recorded, that file is the split.
"""
import warnings
from pathlib import Path

import numpy as np

from segdemo.data.stanford import DatasetError

SPLIT_FILE = Path(__file__).with_name("val_ids.txt")
VAL_FRACTION = 0.2  # 143 of the 715 images
SEED = 2009  # the year of the dataset's paper


def seeded_split(ids, val_fraction=VAL_FRACTION, seed=SEED):
    """Deterministic (train, val) id lists from a seeded permutation of the sorted ids."""
    ids = sorted(ids)
    order = np.random.RandomState(seed).permutation(len(ids))
    val_count = max(1, round(len(ids) * val_fraction))
    val = sorted(ids[i] for i in order[:val_count])
    val_set = set(val)
    return [i for i in ids if i not in val_set], val


def sorted_prefix_split(ids, train_fraction=0.8):
    """The seed notebook's split: the first 80% of the sorted ids train, the rest validate."""
    ids = sorted(ids)
    cut = int(len(ids) * train_fraction)
    return ids[:cut], ids[cut:]


def read_split_file(path=SPLIT_FILE):
    return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]


def write_split_file(ids, path=SPLIT_FILE):
    _, val = seeded_split(ids)
    Path(path).write_text("\n".join(val) + "\n")
    return val


def load_split(ids, scheme="fixed", path=SPLIT_FILE):
    """(train_ids, val_ids) for ``scheme`` 'fixed' (the recorded split) or 'sorted80' (the seed's)."""
    if scheme == "sorted80":
        return sorted_prefix_split(ids)
    if scheme != "fixed":
        raise ValueError(f"unknown split scheme {scheme!r}; use 'fixed' or 'sorted80'")
    if not Path(path).exists():
        return seeded_split(ids)
    recorded = read_split_file(path)
    present = set(ids)
    found = [i for i in recorded if i in present]
    if not found:
        warnings.warn(f"{path} names none of these {len(ids)} images; using the seeded split instead")
        return seeded_split(ids)
    if len(found) != len(recorded):
        raise DatasetError(f"{len(recorded) - len(found)} validation ids from {path} are missing from the data")
    val_set = set(recorded)
    return [i for i in sorted(ids) if i not in val_set], sorted(recorded)
