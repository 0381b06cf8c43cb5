"""Shared fixtures: a tiny dataset in the real file format and small checkpoints trained on it."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import synthetic  # noqa: E402

TINY_SIZE = "96x96"  # a multiple of 32 (U-Net, FPN) and of 48 (PSPNet)
REAL_DATA = HERE.parent.parent / "shared" / "iccv09Data"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Keep dataset caches of the tests out of the user's ~/.cache."""
    os.environ["SEGDEMO_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    return synthetic.make_dataset(tmp_path_factory.mktemp("iccv09Data"), count=16)


@pytest.fixture(scope="session")
def trained_checkpoints(tiny_data, tmp_path_factory):
    """U-Net, PSPNet and FPN trained for two epochs on the tiny dataset (about 30 s in all)."""
    from segdemo import train

    root = tmp_path_factory.mktemp("checkpoints")
    for arch in ("unet", "pspnet", "fpn"):
        status = train.main(["--data", str(tiny_data), "--arch", arch, "--size", TINY_SIZE, "--epochs", "2",
                             "--batch", "4", "--lr", "3e-3", "--out", str(root / arch)])
        assert status == 0
    return root


def needs_real_data():
    return pytest.mark.skipif(not (REAL_DATA / "images").is_dir(),
                              reason=f"Stanford Background is not at {REAL_DATA} (see README: python -m segdemo.data fetch)")
