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

from segdemo.paths import ASSETS, PROJECT_ROOT
from segdemo.serving import page_runtime
from tools.browser import CHROMIUM, CHROMIUM_MISSING
from tools.live_bench import LIVE_MODEL
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
    assert zipped.headers["cross-origin-resource-policy"] == "cross-origin"


def test_only_the_runtime_and_offered_networks_are_served(client):
    assert client.get("/segdemo-web/live.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/segdemo-models/tiny.tflite").content == b"network bytes"
    for refused in ("/segdemo-models/other.tflite", "/segdemo-web/%2e%2e/%2e%2e/paths.py",
                    "/segdemo-web/vendor/litertjs/wasm/litert_wasm_internal.wasm.gz", "/segdemo-web/nothing.js"):
        assert client.get(refused).status_code == 404, refused


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped Live model alone in a checkpoints folder (with its committed page network), and
    the bundled validation photos: a trained model, whose labels say something."""
    from segdemo.imaging import load_photo

    root = tmp_path_factory.mktemp("live-checkpoints")
    shutil.copytree(PROJECT_ROOT / "checkpoints" / LIVE_MODEL, root / LIVE_MODEL)
    photos = [load_photo(path).image for path in sorted((ASSETS / "examples").glob("*.jpg"))]
    return {"checkpoints": root, "photos": photos}


def test_the_shipped_page_network_is_current_and_gives_the_float32_labels(shipped):
    """PSPNet's committed page.tflite matches its weights; on the bundled photos its labels are the
    float32 model's (>= 99% of pixels), its colours the palette's and its counts the labels'."""
    from ai_edge_litert.interpreter import Interpreter

    from segdemo.imaging import resize
    from segdemo.serving.inference import Segmenter

    folder = shipped["checkpoints"] / LIVE_MODEL
    assert page_runtime.page_network(folder) is not None, f"re-export: python -m segdemo.serving.export --page {folder}"
    reference = Segmenter(folder, precision="float32")
    runner = Interpreter(model_path=str(folder / page_runtime.PAGE_NETWORK_FILE)).get_signature_runner()
    height, width = reference.size
    palette = np.array([[*colour, 255] for colour in reference.config.colours], np.uint8)
    equal = pixels = 0
    for photo in shipped["photos"]:
        frame = resize(photo, (height, width))
        answer = runner(frame=np.concatenate([frame, np.full((height, width, 1), 255, np.uint8)], -1)[None])
        labels = answer["labels"][0]
        equal += int(np.sum(labels == reference.predict(frame[None])[0].numpy()[0]))
        pixels += labels.size
        assert np.array_equal(answer["colours"][0], palette[labels])
        assert np.array_equal(answer["counts"], np.bincount(labels.ravel(), minlength=len(palette)))
    assert equal / pixels >= 0.99


def test_export_page_writes_a_network_tied_to_its_weights(trained_checkpoints, tmp_path):
    from segdemo.serving.export import export_page

    folder = tmp_path / "pspnet"
    shutil.copytree(trained_checkpoints / "pspnet", folder)
    record = export_page(folder)
    assert record["input"] == [96, 96, 4] and record["bytes"] == (folder / page_runtime.PAGE_NETWORK_FILE).stat().st_size
    assert page_runtime.page_network(folder) == folder / page_runtime.PAGE_NETWORK_FILE


def test_a_page_network_from_other_weights_is_not_offered(shipped, tmp_path):
    stale = tmp_path / LIVE_MODEL
    shutil.copytree(shipped["checkpoints"] / LIVE_MODEL, stale)
    assert page_runtime.page_network(stale) is not None
    record = json.loads((stale / page_runtime.PAGE_RECORD_FILE).read_text())
    (stale / page_runtime.PAGE_RECORD_FILE).write_text(json.dumps({**record, "weights_sha256": "0" * 64}))
    assert page_runtime.page_network(stale) is None
    assert page_runtime.PageNetworks().offer("pspnet", stale) is None


@pytest.fixture(scope="module")
def page_app(shipped, tmp_path_factory):
    from tools.loadtest import free_port, start_app

    port = free_port()
    process, _ = start_app(port, tmp_path_factory.mktemp("page-app") / "app.log", SEGDEMO_CHECKPOINTS=str(shipped["checkpoints"]))
    yield {"url": f"http://127.0.0.1:{port}/", "process": process, **shipped}
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
def test_the_page_runs_the_network_itself_offline(page_app, browser_context):
    """Every request leaving the app's origin blocked: the camera's frames are segmented in the page,
    the server receives no request per frame, and the page's labels are the model's."""
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

    labels = page_labels(page, page_app["photos"])
    assert sum(len(np.unique(answer)) for answer in labels) > len(labels), "a model that sees one class proves nothing"
    folder = page_app["checkpoints"] / LIVE_MODEL
    reference = agreement(Segmenter(folder, precision="float32"), page_app["photos"], labels)
    server = agreement(Segmenter(folder), page_app["photos"], labels)
    print(f"page against float32: {reference}; against the server's {Segmenter(folder).engine}: {server}")
    # the page's float16 weights hold the float32 answers; the server's int8 weights change ~1% of them
    assert reference["input_size"] >= 0.99
    assert server["input_size"] >= 0.97


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
