"""The Live tab's in-page path: vendored runtime, page network, the app serving both, and a real
Chromium running the network itself with every request leaving the app's origin blocked."""
import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from segdemo.serving import page_runtime
from tools.browser import CHROMIUM, CHROMIUM_MISSING
from tools.vendor_web import MANIFEST, VENDOR

SPACES_FILE_LIMIT = 10 * 1024 * 1024


def test_vendored_files_are_those_npm_gave():
    """Every file vendor.json lists is there with its SHA-256 (python -m tools.vendor_web reproduces them
    from npm; --check compares with a fresh download), none over the Spaces' 10 MB, and nothing unlisted."""
    manifest = json.loads(MANIFEST.read_text())
    on_disk = {path.relative_to(VENDOR).as_posix() for path in VENDOR.rglob("*") if path.is_file()} - {MANIFEST.name}
    assert on_disk == set(manifest["files"])
    for name, entry in manifest["files"].items():
        content = (VENDOR / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], name
        assert len(content) <= SPACES_FILE_LIMIT, name
    for compressed in VENDOR.rglob("*.wasm.gz"):
        assert gzip.decompress(compressed.read_bytes()) == compressed.with_suffix("").read_bytes()
    assert all(package["licence"] == "Apache-2.0" for package in manifest["packages"].values())
    assert "Apache License" in (VENDOR / "litertjs" / "LICENSE").read_text()


@pytest.fixture
def client(tmp_path, monkeypatch):
    """The runtime routes on a bare Starlette app, with one page network offered."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / page_runtime.PAGE_NETWORK_FILE).write_bytes(b"network bytes")
    monkeypatch.setattr(page_runtime, "page_network", lambda path: path / page_runtime.PAGE_NETWORK_FILE)
    monkeypatch.setattr(page_runtime, "SERVED", page_runtime.PageNetworks())
    assert page_runtime.SERVED.offer("tiny", folder) == "segdemo-models/tiny.tflite"
    return TestClient(Starlette(**page_runtime.app_options()))


def test_webassembly_goes_out_compressed_and_cached(client):
    path = "/segdemo-web/vendor/litertjs/wasm/litert_wasm_internal.wasm"
    raw = (VENDOR / "litertjs/wasm/litert_wasm_internal.wasm").read_bytes()
    zipped = client.get(path, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["content-type"] == "application/wasm"
    assert zipped.content == raw  # the client undoes the encoding
    assert int(zipped.headers["content-length"]) < len(raw) / 2
    plain = client.get(path, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == raw
    again = client.get(path, headers={"accept-encoding": "gzip", "if-none-match": zipped.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert zipped.headers["cross-origin-opener-policy"] == "same-origin"
    assert zipped.headers["cross-origin-embedder-policy"] == "credentialless"


def test_only_the_runtime_and_offered_networks_are_served(client):
    assert client.get("/segdemo-web/live.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/segdemo-models/tiny.tflite").content == b"network bytes"
    for refused in ("/segdemo-models/other.tflite", "/segdemo-web/%2e%2e/%2e%2e/paths.py",
                    "/segdemo-web/vendor/litertjs/wasm/litert_wasm_internal.wasm.gz", "/segdemo-web/nothing.js"):
        assert client.get(refused).status_code == 404, refused


@pytest.fixture(scope="module")
def page_checkpoint(trained_checkpoints, tmp_path_factory):
    """The tiny PSPNet alone in a checkpoints folder, with its page network exported."""
    from segdemo.serving.export import export_page

    root = tmp_path_factory.mktemp("page-checkpoints")
    shutil.copytree(trained_checkpoints / "pspnet", root / "pspnet")
    export_page(root / "pspnet")
    return root


def test_page_network_gives_the_float32_labels_their_colours_and_counts(page_checkpoint, tiny_data):
    from ai_edge_litert.interpreter import Interpreter

    from segdemo.imaging import load_photo, resize
    from segdemo.serving.inference import Segmenter

    folder = page_checkpoint / "pspnet"
    reference = Segmenter(folder, precision="float32")
    runner = Interpreter(model_path=str(folder / page_runtime.PAGE_NETWORK_FILE)).get_signature_runner()
    photo = load_photo(sorted(tiny_data.rglob("*.jpg"))[0]).image
    height, width = reference.size
    frame = resize(photo, width, height)
    answer = runner(frame=np.concatenate([frame, np.full((height, width, 1), 255, np.uint8)], -1)[None])
    labels = answer["labels"][0]
    expected = reference.predict(frame[None])[0].numpy()[0]
    assert np.mean(labels == expected) >= 0.99
    palette = np.array([[*colour, 255] for colour in reference.config.colours], np.uint8)
    assert np.array_equal(answer["colours"][0], palette[labels])
    assert np.array_equal(answer["counts"], np.bincount(labels.ravel(), minlength=len(palette)))


def test_a_page_network_from_other_weights_is_not_offered(page_checkpoint, tmp_path):
    stale = tmp_path / "pspnet"
    shutil.copytree(page_checkpoint / "pspnet", stale)
    assert page_runtime.page_network(stale) is not None
    record = json.loads((stale / page_runtime.PAGE_RECORD_FILE).read_text())
    (stale / page_runtime.PAGE_RECORD_FILE).write_text(json.dumps({**record, "weights_sha256": "0" * 64}))
    assert page_runtime.page_network(stale) is None
    assert page_runtime.PageNetworks().offer("pspnet", stale) is None


@pytest.fixture(scope="module")
def page_app(page_checkpoint, tmp_path_factory):
    from tools.loadtest import free_port, start_app

    port = free_port()
    process, _ = start_app(port, tmp_path_factory.mktemp("page-app") / "app.log", SEGDEMO_CHECKPOINTS=str(page_checkpoint))
    yield {"url": f"http://127.0.0.1:{port}/", "process": process, "checkpoints": page_checkpoint}
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def browser_context(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(CHROMIUM_MISSING)
    from playwright.sync_api import sync_playwright

    from tools.browser import open_context

    with sync_playwright() as playwright:
        context = open_context(playwright, tmp_path / "profile")
        yield context
        context.close()


@pytest.mark.slow
def test_the_page_runs_the_network_itself_offline(page_app, browser_context, tiny_data):
    """Every request leaving the app's origin blocked: the camera's frames are segmented in the page,
    the server receives no request per frame, and the page's labels are the server's."""
    from segdemo.imaging import load_photo
    from segdemo.serving.inference import Segmenter
    from tools.live_bench import agreement, guard_origin, open_live, page_labels, shown_rate, start_in_page

    url = page_app["url"]
    guard_origin(browser_context, url)
    page = open_live(browser_context, url)
    assert page.evaluate("self.crossOriginIsolated"), "the threaded WebAssembly needs an isolated page"
    assert page.locator("#live-where input[value=device]").is_checked()
    start_in_page(page)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(3000)
    fps, line = shown_rate(page)
    assert fps > 0 and "on this device (WebAssembly" in line and "PSPNet" in line
    assert requests == [], "the server took part in the frames"
    assert page.locator(".segdemo-live-legend tr").count() == 8
    assert page.evaluate("document.querySelector('.segdemo-live-overlay').width") > 0

    photos = [load_photo(path).image for path in sorted(tiny_data.rglob("*.jpg"))[:4]]
    labels = page_labels(page, photos)
    folder = page_app["checkpoints"] / "pspnet"
    # the tiny model has no export: the server runs Keras, in bfloat16 where the CPU has it, so the
    # page is held to the float32 answers every export is held to
    scores = agreement(Segmenter(folder, precision="float32"), photos, labels)
    print(f"page against float32: {scores}")
    assert scores["input_size"] >= 0.99


@pytest.mark.slow
def test_where_the_page_cannot_run_it_the_server_does(page_app, browser_context):
    """No WebAssembly: the page says why, in plain words, and the server path takes over."""
    from tools.live_bench import guard_origin, open_live

    guard_origin(browser_context, page_app["url"])
    browser_context.add_init_script("delete window.WebAssembly;")
    page = open_live(browser_context, page_app["url"])
    page.locator(".segdemo-live-start").click()
    page.get_by_text("This browser cannot run the network itself (no WebAssembly)").wait_for(timeout=30_000)
    page.locator("#live-where input[value=server]").wait_for(state="attached")
    assert page.locator("#live-where input[value=server]").is_checked()
    page.get_by_role("tabpanel").get_by_text("Click to Access Webcam").first.wait_for(timeout=30_000)
