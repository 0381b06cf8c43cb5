"""``python -m tools.tfjs_bench``: TensorFlow.js against LiteRT.js for the Live tab's page network.

The Live tab runs a checkpoint's page network in the phone's browser with LiteRT.js
(``segdemo/assets/web/network.js``). TensorFlow.js is the other small runtime; it needs its own
model format, made by the ``tensorflowjs`` converter, a package outside requirements (it pulls JAX,
Flax and TensorFlow Decision Forests), so the comparison takes three commands:

    python -m tools.tfjs_bench saved-model checkpoints/pspnet /tmp/pspnet-page
    # in a virtual environment of its own: pip install tensorflowjs==4.22.0, then pip install protobuf==6.31.1
    # (its TensorFlow Decision Forests needs that protobuf; pip warns that TensorFlow asks for < 6: it converts)
    tensorflowjs_converter --input_format=tf_saved_model --quantize_float16='*' /tmp/pspnet-page /tmp/pspnet-tfjs
    python -m tools.tfjs_bench measure checkpoints/pspnet /tmp/pspnet-tfjs

``saved-model`` writes the page network's own computation (``export.page_function``; int32 where
the page network has uint8, which TensorFlow.js lacks). ``measure`` fetches ``@tensorflow/tfjs`` and
``@tensorflow/tfjs-backend-wasm`` with ``npm pack``, serves one cross-origin isolated page with both
runtimes, both networks and validation photos from 127.0.0.1 (``--not-isolated``: a page that is not, where
both run one thread), and reports per runtime: the bytes a
phone downloads (gzip, as the app sends LiteRT.js's WebAssembly), seconds until the network is
ready, the median milliseconds of a frame (the two runtimes alternating on one photo: inference and
reading the outputs back), and label agreement with the float32 model at the input size.
"""
import argparse
import functools
import gzip
import http.server
import json
import shutil
import tarfile
import tempfile
import threading
from pathlib import Path

import cv2
import numpy as np

from tools.vendor_web import fetch

WEB = Path(__file__).resolve().parents[1] / "segdemo" / "assets" / "web"
TFJS_VERSION = "4.22.0"
# what a phone downloads of each runtime: its scripts and the WebAssembly build an isolated page (threads)
# or a page that is not (one thread) loads
TFJS_FILES = ("tf.min.js", "tf-backend-wasm.min.js")
TFJS_BUILDS = {True: "tfjs-backend-wasm-threaded-simd.wasm", False: "tfjs-backend-wasm-simd.wasm"}
LITERT_FILES = ("vendor/litertjs/core.js", "vendor/litertjs/wasm-utils.js", "network.js")
LITERT_BUILDS = {True: "litert_wasm_threaded_internal", False: "litert_wasm_internal"}

PAGE = """<!doctype html><meta charset="utf-8"><title>TensorFlow.js and LiteRT.js</title>
<script src="tfjs/tf.min.js"></script><script src="tfjs/tf-backend-wasm.min.js"></script>
<script type="module">
import {openNetwork} from "./web/network.js";
const [H, W] = %(size)s;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function photo(index) {
  const image = new Image();
  image.src = `photos/${index}.png`;
  await image.decode();
  const context = new OffscreenCanvas(W, H).getContext("2d");
  context.drawImage(image, 0, 0);
  return context.canvas;
}
window.measure = async function (photos, repeats, tfjsThreads) {
  let started = performance.now();
  const lite = await openNetwork("page.tflite", H, W);
  const found = {isolated: self.crossOriginIsolated, litert: {ready_ms: performance.now() - started, where: lite.where}};
  started = performance.now();
  tf.wasm.setWasmPaths(new URL("tfjs/", location.href).href);
  tf.wasm.setThreadsCount(tfjsThreads || navigator.hardwareConcurrency);
  await tf.setBackend("wasm");
  const model = await tf.loadGraphModel("tfjs-network/model.json");
  found.tfjs = {ready_ms: performance.now() - started, backend: tf.getBackend(), threads: tf.wasm.getThreadsCount(),
               threads_detected: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")};
  async function tfjsSegment(canvas) {
    const rgba = canvas.getContext("2d").getImageData(0, 0, W, H).data;
    const frame = tf.tensor(new Uint8Array(rgba.buffer), [1, H, W, 4], "int32");
    const began = performance.now();
    const outputs = model.execute({frame});
    const values = await Promise.all(outputs.map((tensor) => tensor.data()));
    const milliseconds = performance.now() - began;
    const labels = values[outputs.findIndex((tensor) => tensor.shape.length === 3)];
    frame.dispose();
    outputs.forEach((tensor) => tensor.dispose());
    return {labels, milliseconds};
  }
  const first = await photo(0);
  for (let k = 0; k < 3; k++) { await lite.segment(first); await tfjsSegment(first); }
  const times = {litert: [], tfjs: []};
  for (let k = 0; k < repeats; k++) {
    times.litert.push((await lite.segment(first)).milliseconds);
    times.tfjs.push((await tfjsSegment(first)).milliseconds);
  }
  const labels = {litert: [], tfjs: []};
  for (let index = 0; index < photos; index++) {
    const canvas = await photo(index);
    labels.litert.push(Array.from((await lite.segment(canvas)).labels));
    labels.tfjs.push(Array.from((await tfjsSegment(canvas)).labels));
  }
  for (const name of ["litert", "tfjs"]) Object.assign(found[name], {ms: median(times[name]), times: times[name]});
  return {found, labels};
};
window.ready = true;
</script>
"""


class IsolatedFiles(http.server.SimpleHTTPRequestHandler):
    """A folder served cross-origin isolated (the threaded WebAssembly of both runtimes needs it), or with
    ``isolated`` False as a page that is not (a Space's embedding without isolating headers): one thread."""

    isolated = True

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".wasm": "application/wasm"}

    def end_headers(self):
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, *args):
        pass


def save_page_model(checkpoint, out):
    """The checkpoint's page network as a SavedModel, for ``tensorflowjs_converter``."""
    import tensorflow as tf

    from segdemo.networks.models import load_checkpoint
    from segdemo.serving.export import page_function

    model, config = load_checkpoint(checkpoint, "float32")
    module = tf.Module()
    module.forward = page_function(model, config.colours, tf.int32)
    module.model = model
    tf.saved_model.save(module, str(out), signatures={"serving_default": module.forward})
    print(f"{out}: the page network of {checkpoint} (int32 labels and colours)")


def npm_files(scratch):
    """TensorFlow.js's files, from the npm registry (``vendor_web.fetch``: ``npm pack`` checks integrity)."""
    folder = scratch / "site" / "tfjs"
    folder.mkdir(parents=True)
    for package in ("@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"):
        tarball, _ = fetch(package, TFJS_VERSION, scratch)
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                if Path(member.name).parent == Path("package/dist") and Path(member.name).name in (
                        *TFJS_FILES, *TFJS_BUILDS.values()):
                    (folder / Path(member.name).name).write_bytes(archive.extractfile(member).read())
    return folder


def validation_photos(config, count, folder):
    """``count`` validation photos at the network's input size (PNG, so the page draws them 1:1), and the
    float32 model's labels for them."""
    from segdemo.data import load_dataset, load_split
    from segdemo.data.labels import get_label_set
    from segdemo.imaging import resize

    dataset = load_dataset(get_label_set(config.label_set))
    _, val_ids = load_split(dataset.ids)
    images = [resize(image, (config.height, config.width)) for image in dataset.subset(val_ids).images[:count]]
    folder.mkdir()
    for index, image in enumerate(images):
        cv2.imwrite(str(folder / f"{index}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return images


def gzip_bytes(paths):
    return sum(len(gzip.compress(Path(path).read_bytes(), 6)) for path in paths)


def measure(checkpoint, tfjs_model, photos, repeats, tfjs_threads=0, isolated=True):
    from playwright.sync_api import sync_playwright

    from segdemo.networks.models import load_checkpoint
    from segdemo.serving.page_runtime import PAGE_NETWORK_FILE
    from tools.browser import CHROMIUM, CHROMIUM_FLAGS

    model, config = load_checkpoint(checkpoint, "float32")
    scratch = Path(tempfile.mkdtemp(prefix="tfjs-bench-"))
    tfjs_folder = npm_files(scratch)
    site = scratch / "site"
    (site / "web").symlink_to(WEB)
    shutil.copy(Path(checkpoint) / PAGE_NETWORK_FILE, site / "page.tflite")
    shutil.copytree(tfjs_model, site / "tfjs-network")
    (site / "index.html").write_text(PAGE % {"size": json.dumps([config.height, config.width])})
    images = validation_photos(config, photos, site / "photos")
    truth = [np.asarray(model(image[None].astype(np.float32), training=False)).argmax(-1)[0] for image in images]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        type("Files", (IsolatedFiles,), {"isolated": isolated}), directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
            page.wait_for_function("window.ready === true")
            result = page.evaluate("([photos, repeats, threads]) => measure(photos, repeats, threads)",
                                   [photos, repeats, tfjs_threads])
            browser.close()
    finally:
        server.shutdown()
    build = LITERT_BUILDS[isolated]
    files = {"litert": [WEB / name for name in LITERT_FILES] + [WEB / "vendor/litertjs/wasm" / f"{build}{suffix}"
                                                                for suffix in (".js", ".wasm")] + [site / "page.tflite"],
             "tfjs": [tfjs_folder / name for name in (*TFJS_FILES, TFJS_BUILDS[isolated])] + sorted(Path(tfjs_model).iterdir())}
    report = {"isolated": result["found"]["isolated"], "photos": photos, "repeats": repeats,
              "tfjs_threads_asked": tfjs_threads or "navigator.hardwareConcurrency"}
    for name, found in ((name, result["found"][name]) for name in ("litert", "tfjs")):
        labels = np.array(result["labels"][name], np.int64).reshape(len(images), config.height, config.width)
        report[name] = {**found, "bytes": sum(path.stat().st_size for path in files[name]),
                        "gzip_bytes": gzip_bytes(files[name]),
                        "agreement": float(np.mean([np.mean(a == b) for a, b in zip(labels, truth)]))}
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.tfjs_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    saved = steps.add_parser("saved-model", help="write a checkpoint's page network as a SavedModel")
    saved.add_argument("checkpoint", type=Path)
    saved.add_argument("out", type=Path)
    timed = steps.add_parser("measure", help="time both runtimes in headless Chromium")
    timed.add_argument("checkpoint", type=Path)
    timed.add_argument("tfjs_model", type=Path, help="tensorflowjs_converter's output folder")
    timed.add_argument("--photos", type=int, default=40)
    timed.add_argument("--repeats", type=int, default=15)
    timed.add_argument("--json", type=Path)
    timed.add_argument("--tfjs-threads", type=int, default=0,
                       help="threads asked of TensorFlow.js (setThreadsCount; default navigator.hardwareConcurrency): its "
                            "WebAssembly backend caps them at half the logical cores, so 1 on a 2-core machine")
    timed.add_argument("--not-isolated", action="store_true",
                       help="serve the page without cross-origin isolation: both runtimes run their one-thread build")
    args = parser.parse_args(argv)
    if args.step == "saved-model":
        save_page_model(args.checkpoint, args.out)
        return
    report = measure(args.checkpoint, args.tfjs_model, args.photos, args.repeats, args.tfjs_threads,
                     isolated=not args.not_isolated)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"cross-origin isolated: {report['isolated']}; TensorFlow.js found threads: {report['tfjs']['threads_detected']}, "
          f"asked for {report['tfjs_threads_asked']}; "
          f"{args.repeats} alternating frames, {args.photos} validation photos")
    for name, title in (("litert", "LiteRT.js"), ("tfjs", f"TensorFlow.js {TFJS_VERSION} (wasm)")):
        figures = report[name]
        threads = figures.get("threads") or figures["where"]["threads"]
        print(f"{title}, {threads} thread(s): {figures['bytes'] / 1e6:.2f} MB ({figures['gzip_bytes'] / 1e6:.2f} MB gzip), ready in "
              f"{figures['ready_ms']:.0f} ms, a frame {figures['ms']:.1f} ms (median), labels as float32's "
              f"{100 * figures['agreement']:.2f}%")


if __name__ == "__main__":
    main()
