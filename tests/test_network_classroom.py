"""A classroom: phones on the room's network reach the teacher's laptop by its address, over
HTTPS so their cameras work, and big phone photos are shrunk rather than refused.

A phone is Chromium opening the app as ``classroom.test``, a name it resolves to 127.0.0.1
(tools/browser.py): a remote origin to the browser, while every packet stays on this machine."""
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from segdemo.imaging import BOMB_PIXELS, MAX_PIXELS, ImageError, load_rgb
from segdemo.serving.addresses import is_loopback, join_urls, local_addresses
from segdemo.serving.certificate import certificate_covers, classroom_certificate
from segdemo.ui.tab import tab_button
from tools.browser import CHROMIUM, CHROMIUM_FLAGS, CLASSROOM_HOST
from tools.loadtest import APP, free_port


def test_a_photo_over_the_limit_is_shrunk_while_decoding(tmp_path):
    path = tmp_path / "phone.jpg"
    Image.fromarray(np.full((6000, 9000, 3), 120, np.uint8)).save(path, quality=80)  # 54 megapixels
    image, notes = load_rgb(path)
    assert image.shape[0] * image.shape[1] <= MAX_PIXELS and image.shape[1] / image.shape[0] == pytest.approx(1.5, rel=0.01)
    assert [note.key for note in notes] == ["shrunk"] and "9000x6000" in notes[0]


def test_an_absurd_size_is_still_refused_before_decoding():
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    side = int(BOMB_PIXELS ** 0.5) + 100
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="too large"):
        load_rgb(png)


def test_phones_are_given_the_machines_network_addresses():
    assert is_loopback("localhost") and is_loopback("127.0.0.1") and is_loopback("[::1]")
    assert not is_loopback("192.168.1.20") and not is_loopback("someone.hf.space")
    assert join_urls("https", "127.0.0.1:7860", ["192.168.1.20", "10.0.0.5"]) == [
        "https://192.168.1.20:7860/", "https://10.0.0.5:7860/"]
    assert join_urls("http", "192.168.1.20:7860", ["10.0.0.5"]) == ["http://192.168.1.20:7860/"]  # as the page was reached
    assert join_urls("https", "someone.hf.space") == ["https://someone.hf.space/"]
    assert all(not is_loopback(address) for address in local_addresses())


def test_the_certificate_names_the_addresses_and_is_kept(tmp_path):
    cert, key = classroom_certificate(["192.0.2.44"], tmp_path)
    first = Path(cert).read_bytes()
    assert certificate_covers(cert, ["192.0.2.44", "127.0.0.1"]) and (Path(key).stat().st_mode & 0o077) == 0
    assert classroom_certificate(["192.0.2.44"], tmp_path) == (cert, key) and Path(cert).read_bytes() == first
    classroom_certificate(["198.51.100.9"], tmp_path)  # the laptop joined another network
    assert certificate_covers(cert, ["198.51.100.9"]) and Path(cert).read_bytes() != first


@pytest.fixture(scope="module")
def served_to_phones(trained_checkpoints, tiny_data, tmp_path_factory):
    """Starts ``python app.py [--https]`` on 127.0.0.1; yields a function giving its URL as a phone in
    the room opens it, by a name (``classroom.test``) rather than as the machine itself."""
    processes = []

    def serve(https):
        folder = tmp_path_factory.mktemp("network-app")
        port, scheme = free_port(), "https" if https else "http"
        env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False",
                   SEGDEMO_CHECKPOINTS=str(trained_checkpoints), SEGDEMO_DATA=str(tiny_data), SEGDEMO_CACHE=str(folder))
        log = folder / "app.log"
        with open(log, "w") as out:
            process = subprocess.Popen([sys.executable, str(APP), *(["--https"] if https else [])], env=env,
                                       stdout=out, stderr=subprocess.STDOUT)
        processes.append(process)
        unverified = ssl._create_unverified_context()  # the certificate is self-signed, as in a classroom
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/", timeout=2, context=unverified)
                return f"{scheme}://{CLASSROOM_HOST}:{port}/", folder
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the app did not start:\n" + log.read_text()[-3000:])
                time.sleep(0.5)

    yield serve
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def open_in_chromium(playwright, tmp_path, url, locale="en-US"):
    """A phone's page; the certificate names the laptop's addresses, not the test's name: its error is ignored,
    as a student accepts the warning."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / f"profile-{locale}"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
        viewport={"width": 390, "height": 844}, locale=locale, permissions=["camera"], ignore_https_errors=True)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.get_by_role("tab").first.wait_for(timeout=60_000)
    return context, page


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_over_plain_http_from_a_phone_the_page_says_why_the_camera_is_blocked(served_to_phones, tmp_path):
    from playwright.sync_api import sync_playwright

    url, _ = served_to_phones(https=False)
    with sync_playwright() as playwright:
        for locale, words in (("en-US", "The camera is blocked on this page"), ("ja-JP", "このページではカメラが使えません")):
            context, page = open_in_chromium(playwright, tmp_path, url, locale)
            assert page.evaluate("window.isSecureContext") is False
            page.locator(tab_button("live")).click()
            notice = page.get_by_role("tabpanel").locator(".prose.segdemo-camera-help").locator("visible=true").first
            notice.wait_for(timeout=30_000)
            assert words in notice.inner_text() and "python app.py --https" in notice.inner_text()
            page.locator(tab_button("predict")).click()  # beside a photo upload: one line, the rest a click away
            folded = page.get_by_role("tabpanel").locator(".prose.segdemo-camera-help").locator("visible=true").first
            assert words in folded.inner_text() and "python app.py --https" not in folded.inner_text()
            assert folded.bounding_box()["height"] < 80, folded.bounding_box()
            folded.locator("summary").click()
            assert "python app.py --https" in folded.inner_text()
            page.locator(tab_button("live")).click()
            page.get_by_role("tabpanel").get_by_text(
                "Click to Access Webcam" if locale == "en-US" else "クリックして Web カメラを使う").first.click()
            toast = page.locator(".toast-body").first
            toast.wait_for(timeout=10_000)
            assert "image.no_webcam_support" not in toast.inner_text() and "https://" in toast.inner_text()
            context.close()


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_over_https_a_phone_gets_the_camera_and_the_teacher_a_join_panel(served_to_phones, tmp_path):
    from playwright.sync_api import sync_playwright

    url, cache = served_to_phones(https=True)
    assert (cache / "https" / "certificate.pem").exists(), "made on first start, in the segdemo cache"
    with sync_playwright() as playwright:
        context, page = open_in_chromium(playwright, tmp_path, url)
        assert page.evaluate("window.isSecureContext") is True
        assert page.locator(".segdemo-camera-help").locator("visible=true").count() == 0
        page.get_by_text("Join from phones").first.click()
        panel = page.locator("#join-panel")
        panel.locator(".segdemo-join-card svg").first.wait_for(timeout=30_000)  # the QR code
        assert url in panel.inner_text() and "certificate" in panel.inner_text()
        shot = np.frombuffer(panel.locator(".segdemo-join-card").first.screenshot(), np.uint8)
        decoded = cv2.QRCodeDetector().detectAndDecode(cv2.imdecode(shot, cv2.IMREAD_COLOR))[0]
        assert decoded == url, "the QR code a phone scans opens the page"
        page.locator(tab_button("live")).click()  # Chromium's synthetic webcam starts
        page.get_by_role("tabpanel").get_by_text("Click to Access Webcam").first.click()
        page.wait_for_function("() => [...document.querySelectorAll('video')].some(v => v.readyState >= 2)", timeout=30_000)
        assert page.locator(".toast-body").count() == 0
        context.close()
