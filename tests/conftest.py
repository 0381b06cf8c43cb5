"""Shared fixtures: a tiny dataset in the real file format and small checkpoints trained on it; and
the guard that keeps every test's connections on this machine."""
import functools
import ipaddress
import os
import socket
from pathlib import Path

import pytest
import synthetic

from tools.loadtest import QUIET, free_port  # free_port: shared with the benchmark; tests import it from here

HERE = Path(__file__).parent

TINY_SIZE = "96x96"  # a multiple of 32 (U-Net, FPN) and of 48 (PSPNet)
SHARED_ARCHIVE = HERE.parent.parent / "shared" / "data" / "iccv09Data.tar.gz"


class OffLoopback(RuntimeError):
    """A test tried to reach another machine. Not an OSError, so no retry loop takes it for a server still starting."""


REFUSED = []  # the addresses refused since the last test ended; that test fails


def refuse_off_loopback(address):
    """Raise OffLoopback unless ``address`` (host, port, ...) is a loopback address or ``localhost``.

    Any other name is refused as it is: looking it up would already send a query off this machine.
    """
    host = address[0]
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        REFUSED.append(address)
        raise OffLoopback(f"tests talk to this machine only (127.0.0.1, localhost, ::1), not to {address}")


def loopback_only(connect):
    """``connect`` (``socket.socket.connect`` or ``connect_ex``) refusing TCP off this machine before it is called.

    Every client ends there: urllib, httpx and gradio_client, asyncio and anyio, TLS. The method it
    calls is looked up in ``__wrapped__`` at each call, so a test can put a stub there.
    """
    @functools.wraps(connect)
    def guarded(sock, address):
        if sock.type == socket.SOCK_STREAM and sock.family in (socket.AF_INET, socket.AF_INET6):
            refuse_off_loopback(address)
        return guarded.__wrapped__(sock, address)
    return guarded


def loopback_only_before_lookup(create_connection):
    """``socket.create_connection`` refusing a name or address off this machine before it is looked up."""
    @functools.wraps(create_connection)
    def guarded(address, *args, **kwargs):
        refuse_off_loopback(address)
        return guarded.__wrapped__(address, *args, **kwargs)
    return guarded


def pytest_configure(config):
    """Tests talk to this machine only (issue 29), from the first import on: TCP off loopback is refused, and
    neither the UI some tests build nor their gradio_client sessions report to Gradio or Hugging Face."""
    os.environ.update(QUIET)
    socket.socket.connect = loopback_only(socket.socket.connect)
    socket.socket.connect_ex = loopback_only(socket.socket.connect_ex)
    socket.create_connection = loopback_only_before_lookup(socket.create_connection)


@pytest.fixture(autouse=True)
def nothing_sent_off_loopback():
    """Fails a test whose process tried to reach another machine, even where its code caught the refusal."""
    yield
    refused = REFUSED.copy()
    REFUSED.clear()
    if refused:
        pytest.fail(f"tests talk to this machine only; refused: {refused}")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for a module's pages, resolving no name but this machine's (``tools.browser``)."""
    from playwright.sync_api import sync_playwright

    from tools.browser import CHROMIUM, LOOPBACK_ONLY

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", LOOPBACK_ONLY])
        yield launched
        launched.close()


@pytest.fixture
def float32_policy():
    """Exactness checks are float32's: in-process training elsewhere in the suite leaves mixed_bfloat16 set."""
    import segdemo  # noqa: F401  (before TensorFlow: it chooses the legacy tf.keras)
    import tensorflow as tf

    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy("float32")
    yield
    tf.keras.mixed_precision.set_global_policy(previous)


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
