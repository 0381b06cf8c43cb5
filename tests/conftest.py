"""Shared fixtures: a tiny dataset in the real file format and small checkpoints trained on it."""
import os
from pathlib import Path

import pytest
import synthetic

HERE = Path(__file__).parent

TINY_SIZE = "96x96"  # a multiple of 32 (U-Net, FPN) and of 48 (PSPNet)
SHARED_ARCHIVE = HERE.parent.parent / "shared" / "data" / "iccv09Data.tar.gz"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Keep dataset caches of the tests out of the user's ~/.cache."""
    os.environ["SEGDEMO_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    return synthetic.make_dataset(tmp_path_factory.mktemp("iccv09Data"), count=16)


@pytest.fixture(scope="session")
def trained_checkpoints(tiny_data, tmp_path_factory):
    """U-Net, PSPNet and FPN trained for two epochs on the tiny dataset and evaluated (about 40 s in all)."""
    from segdemo.networks import train
    from segdemo.serving import evaluate

    root = tmp_path_factory.mktemp("checkpoints")
    for arch in ("unet", "pspnet", "fpn"):
        status = train.main(["--data", str(tiny_data), "--arch", arch, "--size", TINY_SIZE, "--epochs", "2",
                             "--batch", "4", "--lr", "3e-3", "--out", str(root / arch)])
        assert status == 0
        assert evaluate.main([str(root / arch), "--data", str(tiny_data)]) == 0
    return root


@pytest.fixture(scope="session")
def real_data():
    """The real Stanford Background, unpacked from the shared archive into the test cache.

    Skips only where the archive is absent (a user's clone without ../shared); CI has it.
    """
    if not SHARED_ARCHIVE.exists():
        pytest.skip(f"Stanford Background archive not at {SHARED_ARCHIVE} (see README: python -m segdemo.data fetch)")
    from segdemo.data import resolve_data_root

    return resolve_data_root(SHARED_ARCHIVE)


from tools.loadtest import free_port  # noqa: E402  (shared with the benchmark; tests import it from here)


@pytest.fixture(scope="session")
def app_examples(tiny_data, tmp_path_factory):
    """Two validation images of the tiny dataset bundled as the app's examples."""
    from segdemo.data import load_dataset, load_split
    from segdemo.data.examples import export_examples
    from segdemo.data.labels import REGIONS

    dataset = load_dataset(REGIONS, tiny_data)
    _, val = load_split(dataset.ids)
    return export_examples(dataset, val[:2], tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="session")
def user_cache():
    """A segdemo cache where a user's is (under ~/.cache), outside the working and temporary folders.

    Gradio serves files only from those two, so a dataset unpacked in a user's cache must be
    copied before the page can show it; a cache under /tmp would hide that.
    """
    import shutil
    import uuid

    folder = Path.home() / ".cache" / f"segdemo-tests-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def running_app(trained_checkpoints, app_examples, tiny_data, user_cache, tmp_path_factory):
    """``python app.py`` on a free loopback port, with one deliberately broken checkpoint.

    Its Dataset and Error-analysis tabs browse the tiny dataset the models were trained on,
    unpacked in the app's cache under the home folder, as ``segdemo.data`` unpacks the real one.
    """
    import shutil

    from tools.loadtest import start_app

    root = tmp_path_factory.mktemp("served")
    checkpoints = root / "checkpoints"
    shutil.copytree(trained_checkpoints, checkpoints)
    broken = checkpoints / "broken"
    shutil.copytree(checkpoints / "unet", broken)
    (broken / "weights.npz").write_bytes(b"truncated")
    data = user_cache / "unpacked" / "iccv09Data"
    shutil.copytree(tiny_data, data)
    port = free_port()
    process, startup_seconds = start_app(port, root / "app.log", SEGDEMO_CHECKPOINTS=str(checkpoints),
                                         SEGDEMO_EXAMPLES=str(app_examples), SEGDEMO_DATA=str(data),
                                         SEGDEMO_CACHE=str(user_cache))
    url = f"http://127.0.0.1:{port}/"
    yield {"url": url, "process": process, "checkpoints": checkpoints, "examples": app_examples, "data": data,
           "startup_seconds": startup_seconds}
    process.terminate()
    process.wait(timeout=30)
