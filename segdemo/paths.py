"""Where segdemo finds and keeps things: the project folder, the shared folder beside it
(dataset archive, ImageNet arrays), the bundled assets and the per-user cache.

One home for these, so that neither the data, the networks nor the server has to ask
another group of modules where the project is.
"""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"  # what the project's owners keep beside it (not committed)
ASSETS = Path(__file__).resolve().parent / "assets"
CACHE_ENV = "SEGDEMO_CACHE"


def cache_dir() -> Path:
    """The per-user cache (``$SEGDEMO_CACHE`` or ``~/.cache/segdemo``): unpacked data, resume state, certificates."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "segdemo"))
