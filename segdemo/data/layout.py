"""The dataset's folder layout (``images/<id>.jpg`` beside ``labels/<id>.<set>.txt``) and the
error every reader raises, shared by the code that fetches the data and the code that reads it."""
from pathlib import Path


class DatasetError(RuntimeError):
    """The dataset is missing, incomplete or malformed; the message names the file."""


def list_ids(root: Path) -> list:
    ids = sorted(path.stem for path in (root / "images").glob("*.jpg"))
    if not ids:
        raise DatasetError(f"{root / 'images'} holds no .jpg images")
    return ids
