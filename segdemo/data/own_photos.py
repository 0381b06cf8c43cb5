"""The class's own labelled photos, kept in the dataset's own layout.

``<root>/images/<id>.jpg`` beside ``<root>/labels/<id>.regions.txt`` (a matrix of class
indices, -1 where nobody said), exactly as in iccv09Data, so whatever reads Stanford
Background reads a class's schoolyard too.  ``<root>/labelling.json`` remembers, per photo,
who labelled it (a browser's token, so each student finds their own after a reload), how, in
how many seconds, and whether it is held out: every third photo saved is, so the fine-tuned
model is judged on photos it never trained on, and a photo never changes side as more arrive.

The folder outlives the server (it is in the user's cache unless ``$SEGDEMO_OWN_PHOTOS``
says where); keeping it (``archive``) or clearing it is the teacher's.
"""
import io
import json
import os
import re
import shutil
import threading
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from segdemo.data.labels import REGIONS, UNKNOWN
from segdemo.data.layout import DatasetError
from segdemo.data.stanford import StanfordBackground, read_example
from segdemo.imaging import fit_within
from segdemo.paths import cache_dir

OWN_PHOTOS_ENV = "SEGDEMO_OWN_PHOTOS"
RECORD_FILE = "labelling.json"
MAX_SIDE = 640  # longest side kept: Stanford's photos are about 320x240, a phone's 4032x3024 needs no more
MAX_PHOTOS = 300  # a class's photos at most (a full folder refuses more, it never drops any)
HELD_OUT_EVERY = 3  # the 3rd, 6th, 9th... photo saved is held out
TOKEN = re.compile(r"^[0-9a-f]{6,32}$")


def own_photos_root():
    """``$SEGDEMO_OWN_PHOTOS``, else ``own-photos`` in the user's cache: a class's labels survive a restart."""
    return Path(os.environ.get(OWN_PHOTOS_ENV) or cache_dir() / "own-photos")


@dataclass(frozen=True)
class Labelled:
    """What the folder remembers of one labelled photo."""

    id: str
    owner: str
    source: str  # "editor", "labelme", "cvat" or "index-png"
    seconds: float | None  # time spent labelling it in the editor (None for an import)
    held_out: bool
    saved: float  # time.time() when it was saved
    sequence: int


def labelling_seconds(entries):
    """The seconds each of ``entries`` (``OwnPhotos.entries``) took in the editor; imported masks were not timed."""
    return [entry.seconds for entry in entries if entry.seconds]


class OwnPhotos:
    """A class's labelled photos on disk, safe to use from Gradio's threads."""

    def __init__(self, root=None, label_set=REGIONS):
        self.root, self.label_set = Path(root) if root else own_photos_root(), label_set
        self._lock = threading.Lock()

    def _record(self):
        path = self.root / RECORD_FILE
        if not path.exists():
            return {}
        return {key: Labelled(**value) for key, value in json.loads(path.read_text()).items()}

    def _write_record(self, record):
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".{RECORD_FILE}.tmp"
        temporary.write_text(json.dumps({key: asdict(value) for key, value in record.items()}, indent=1))
        temporary.replace(self.root / RECORD_FILE)

    def entries(self, owner=None):
        """The labelled photos, oldest first (only ``owner``'s when given)."""
        with self._lock:
            entries = sorted(self._record().values(), key=lambda entry: entry.sequence)
        return [entry for entry in entries if owner is None or entry.owner == owner]

    def add(self, image, mask, owner, source="editor", seconds=None):
        """Save a photo (uint8 RGB) with its mask (class indices, -1 unknown); returns its ``Labelled``.

        A photo larger than ``MAX_SIDE`` is kept smaller, its mask by nearest neighbour.
        """
        if not TOKEN.match(owner or ""):
            raise ValueError(f"owner token {owner!r} is not 6-32 hexadecimal digits")
        mask = np.asarray(mask)
        if mask.shape != image.shape[:2]:
            raise ValueError(f"mask {mask.shape[::-1]} and photo {image.shape[1::-1]} differ in size")
        if mask.max(initial=UNKNOWN) >= self.label_set.num_classes or mask.min(initial=0) < UNKNOWN:
            raise ValueError(f"mask holds values outside -1..{self.label_set.num_classes - 1}")
        image, mask = fit_within(image, MAX_SIDE), fit_within(mask.astype(np.int16), MAX_SIDE, nearest=True)
        with self._lock:
            record = self._record()
            if len(record) >= MAX_PHOTOS:
                raise OverflowError(f"the class already has {MAX_PHOTOS} labelled photos")
            sequence = max((entry.sequence for entry in record.values()), default=0) + 1
            entry = Labelled(f"{owner[:6]}-{sequence:04d}", owner, source, None if seconds is None else round(seconds, 1),
                             sequence % HELD_OUT_EVERY == 0, time.time(), sequence)
            (self.root / "images").mkdir(parents=True, exist_ok=True)
            (self.root / "labels").mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(self.image_path(entry.id)), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
            np.savetxt(self.label_path(entry.id), mask, fmt="%d")
            record[entry.id] = entry
            self._write_record(record)
        return entry

    def image_path(self, image_id):
        return self.root / "images" / f"{image_id}.jpg"

    def label_path(self, image_id):
        return self.root / "labels" / f"{image_id}.{self.label_set.suffix}.txt"

    def read(self, image_id):
        """(photo, mask) of one labelled photo."""
        return read_example(self.root, image_id, self.label_set)

    def remove(self, image_id, owner=None):
        """Forget one photo (only if ``owner``'s, when given); True when it was there."""
        with self._lock:
            record = self._record()
            entry = record.get(image_id)
            if entry is None or (owner is not None and entry.owner != owner):
                return False
            del record[image_id]
            self.image_path(image_id).unlink(missing_ok=True)
            self.label_path(image_id).unlink(missing_ok=True)
            self._write_record(record)
        return True

    def clear(self):
        """Forget every photo of the class (the teacher's call)."""
        with self._lock:
            shutil.rmtree(self.root, ignore_errors=True)

    def split(self):
        """(training ids, held-out ids), in the order they were saved."""
        entries = self.entries()
        return [e.id for e in entries if not e.held_out], [e.id for e in entries if e.held_out]

    def dataset(self, ids=None):
        """The photos as a ``StanfordBackground`` (all of them, or ``ids``), for training and scoring."""
        ids = [entry.id for entry in self.entries()] if ids is None else list(ids)
        if not ids:
            raise DatasetError(f"{self.root} holds no labelled photos")
        examples = [self.read(image_id) for image_id in ids]
        return StanfordBackground(ids=ids, images=[e[0] for e in examples], masks=[e[1] for e in examples],
                                  label_set=self.label_set)

    def archive(self):
        """The class's photos as a zip in the dataset's layout (bytes): what the teacher keeps."""
        buffer = io.BytesIO()
        with self._lock, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(self.root.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    archive.write(path, Path("own-photos") / path.relative_to(self.root))
            classes = "\n".join(f"{index} {name}" for index, name in enumerate(self.label_set.classes))
            archive.writestr("own-photos/classes.txt", f"-1 unknown\n{classes}\n")
        return buffer.getvalue()
