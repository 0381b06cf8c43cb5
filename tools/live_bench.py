"""``python -m tools.live_bench``: the Live tab's in-page path measured in headless Chromium.

Starts ``python app.py`` with the shipped checkpoints on 127.0.0.1 (or uses ``--url``) and reports:

- **agreement**: the page network's labels, computed by the page (``segdemo/assets/web/network.js``)
  on validation photos, against the server's (``Segmenter``, what the app runs for the model) and
  the float32 model's (the answers every export is held to), at
  the network's input size and at the photo's own size (the page's labels enlarged as its overlay
  is drawn, nearest neighbour, against the server's labels drawn at that size);
- **frames/s** of one page streaming Chromium's synthetic webcam, as the page shows it;
- the same page's rate **on the server** path (the switch above the camera), for comparison under
  the same load;
- **server CPU** while ``--pages`` pages stream at once, each a browser of its own as each phone is
  (no work per frame: it should stay near idle), and each page's rate meanwhile;
- **first load**: bytes over the wire and seconds from Start to the first frame shown, for a fresh
  browser profile, then again for a second visit (the browser's cache).

Only 127.0.0.1 is contacted: requests leaving the app's origin are blocked (counted while the
first load is measured, where blocking would turn off the browser's cache).
"""
import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from segdemo.ui.tab import tab_button
from tools.browser import follow_webcam, open_context

LIVE_MODEL = "pspnet"  # the Live tab's model with the shipped checkpoints (the fastest of the default set)


def guard_origin(context, url):
    """Block every request that leaves ``url``'s origin; the list fills with what was blocked."""
    blocked = []

    def route(request_route):
        if request_route.request.url.startswith(url):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    return blocked


def watch_origin(context, url):
    """The requests that leave ``url``'s origin, listed but not blocked (routing would turn off the
    browser's cache, which the second visit measures; Chromium resolves no other name anyway)."""
    left = []
    context.on("request", lambda request: None if request.url.startswith(url) else left.append(request.url))
    return left


def open_live(context, url):
    """A page of the app on its Live tab, the in-page block mounted (its Start button answers)."""
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.locator(tab_button("live")).click()
    page.wait_for_selector(".segdemo-live-page[data-ready]", timeout=120_000)
    return page


def start_in_page(page, timeout_ms=180_000):
    """Press Start; seconds until the first segmented frame is shown."""
    started = time.perf_counter()
    page.locator(".segdemo-live-start").click()
    page.wait_for_function("document.querySelector('.segdemo-live-rate').textContent !== ''", timeout=timeout_ms)
    return time.perf_counter() - started


def shown_rate(page):
    """(frames/s, the rate line) the page shows now."""
    rate = page.locator(".segdemo-live-rate")
    return float(rate.get_attribute("data-fps") or 0), rate.inner_text()


PAGE_LABELS = """async (photos) => {
  const config = JSON.parse(document.querySelector(".segdemo-live-page").dataset.config);
  const {openNetwork} = await import(new URL("segdemo-web/network.js", document.baseURI).href);
  const network = await openNetwork(config.model_url, ...config.input);
  const answers = [];
  const asBase64 = (blob) => new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.split(",")[1]);
    reader.readAsDataURL(blob);
  });
  for (const png of photos) {
    const picture = await createImageBitmap(await (await fetch("data:image/png;base64," + png)).blob());
    const {labels} = await network.segment(picture);
    answers.push(await asBase64(new Blob([labels])));
  }
  return {answers, input: config.input};
}"""


def page_labels(page, images):
    """The page network's labels (at its input size) for each RGB image, computed in the page."""
    photos = [base64.b64encode(cv2.imencode(".png", image[..., ::-1])[1].tobytes()).decode() for image in images]
    answer = page.evaluate(PAGE_LABELS, photos)
    height, width = answer["input"]
    return [np.frombuffer(base64.b64decode(labels), np.uint8).reshape(height, width) for labels in answer["answers"]]


def agreement(segmenter, images, labels_in_page):
    """Shares of pixels where the page's labels equal the server's: at the input size, and at each photo's size."""
    grid = photo = pixels_grid = pixels_photo = 0
    for image, ours in zip(images, labels_in_page):
        answer = segmenter.answer(image)
        grid += int(np.sum(answer.labels_at(*ours.shape)[0] == ours))
        pixels_grid += ours.size
        theirs = answer.full_resolution()[0]
        enlarged = cv2.resize(ours, theirs.shape[::-1], interpolation=cv2.INTER_NEAREST)
        photo += int(np.sum(enlarged == theirs))
        pixels_photo += theirs.size
    return {"input_size": grid / pixels_grid, "photo_size": photo / pixels_photo, "photos": len(images)}


def cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wire_bytes(page, action):
    """(bytes received over the network, seconds) while ``action()`` runs: Chromium's own count of
    each response as sent (compressed, headers included; nothing for what its cache answers)."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    received = []
    session.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    session.detach()
    return int(sum(received)), seconds


def measure_first_load(playwright, url, profile):
    """Bytes and seconds of the in-page path's first load in a fresh profile, then of a second visit."""
    rows = {}
    context = open_context(playwright, profile)
    left = watch_origin(context, url)
    try:
        for visit in ("first visit", "second visit"):
            page = open_live(context, url)
            received, seconds = wire_bytes(page, lambda: start_in_page(page))
            rows[visit] = {"bytes": received, "seconds_to_first_frame": seconds}
            page.close()
    finally:
        context.close()
    return rows, left


def measure_pages(playwright, url, pid, pages, seconds, profile):
    """Each page's frames/s and the server's CPU while ``pages`` pages stream at once.

    Each page is a browser of its own, as each phone is, and none is slowed as a hidden tab (four tabs of
    one headless browser had shown ~1 frame/s behind the one in front: Chromium's rationing, not the CPU's).
    """
    contexts = [open_context(playwright, Path(profile) / str(index), in_front=True) for index in range(pages)]
    try:
        watched = [guard_origin(context, url) for context in contexts]  # each list fills as its page asks
        opened = [open_live(context, url) for context in contexts]
        for page in opened:
            start_in_page(page)
        before, started = cpu_seconds(pid), time.perf_counter()
        time.sleep(seconds)
        cpu, elapsed = cpu_seconds(pid) - before, time.perf_counter() - started
        rates = [shown_rate(page) for page in opened]
    finally:
        for context in contexts:
            context.close()
    return {"pages": pages, "seconds": elapsed, "server_cpu_s": cpu, "server_core_share": cpu / elapsed,
            "frames_per_second": [rate for rate, _ in rates], "lines": [line for _, line in rates]}, sum(watched, [])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.live_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app (default: start python app.py with the shipped checkpoints)")
    parser.add_argument("--photos", type=int, default=143, help="validation photos for the agreement (0: skip)")
    parser.add_argument("--seconds", type=float, default=20, help="seconds one page streams for its frame rate")
    parser.add_argument("--pages", type=int, default=4, help="pages streaming at once for the server's CPU (0: skip)")
    parser.add_argument("--pages-seconds", type=float, default=30)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from tools.loadtest import free_port, start_app

    process = None
    url = args.url
    if url is None:
        port = free_port()
        process, startup = start_app(port, Path(tempfile.gettempdir()) / "segdemo-live-bench.log")
        url = f"http://127.0.0.1:{port}/"
    figures = {"load_average_at_start": os.getloadavg(), "url": url}
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="segdemo-live-bench-") as work:
            figures["first_load"], blocked = measure_first_load(playwright, url, Path(work, "fresh"))
            print(f"first load: {json.dumps(figures['first_load'])}", flush=True)
            context = open_context(playwright, Path(work, "rate"))
            blocked += guard_origin(context, url)
            page = open_live(context, url)
            start_in_page(page)
            time.sleep(args.seconds)
            figures["one_page"] = dict(zip(("frames_per_second", "line"), shown_rate(page)))
            print(f"one page: {figures['one_page']['line']}", flush=True)
            page.locator(".segdemo-live-start").click()  # stop
            page.locator("#live-where input[value=server]").click()
            figures["one_page_on_the_server"] = dict(zip(("frames_per_second", "line"), follow_webcam(page, args.seconds)))
            print(f"one page, on the server: {figures['one_page_on_the_server']['line']}", flush=True)
            page.close()  # ends the server's stream, so the agreement runs alone
            page = open_live(context, url)
            if args.photos:
                from segdemo.serving import fidelity
                from segdemo.serving.inference import Segmenter
                from segdemo.serving.registry import checkpoints_root

                images = fidelity.validation_images("regions")[0][:args.photos]
                segmenter = Segmenter(checkpoints_root() / LIVE_MODEL)
                labels = page_labels(page, images)
                figures["agreement"] = {**agreement(segmenter, images, labels), "server_engine": segmenter.engine,
                                        "float32": agreement(Segmenter(segmenter.folder, precision="float32"), images, labels)}
                print(f"agreement: {json.dumps(figures['agreement'])}", flush=True)
            context.close()
            if args.pages and process is not None:
                figures["several_pages"], more = measure_pages(playwright, url, process.pid, args.pages,
                                                               args.pages_seconds, Path(work, "pages"))
                blocked += more
                print(f"{args.pages} pages: {json.dumps(figures['several_pages'])}", flush=True)
            figures["blocked_requests"] = blocked
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    figures["load_average_at_end"] = os.getloadavg()
    print(f"requests that left the app's origin: {len(figures['blocked_requests'])}; "
          f"load average {figures['load_average_at_start']} -> {figures['load_average_at_end']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
