"""``python -m tools.bench``: latency, throughput and memory on this machine, in one run.

Every figure is set against the seed notebook's naive path (float32 ``model.predict`` per
call) measured in the same run.  Latency does not depend on what the weights are, so with
``--random-init`` (or when no checkpoint exists) the three architectures are built at the
shipped input size with random weights, and the report says so.
"""
import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from segdemo.data import DatasetError
from segdemo.data.examples import BUNDLED as EXAMPLES
from segdemo.imaging import fit_within, overlay
from segdemo.networks.hardware import choose_precision, describe_machine
from segdemo.networks.models import ModelConfig, build_model, save_weights
from segdemo.serving import fidelity
from segdemo.serving.fidelity import timed
from segdemo.serving.inference import Segmenter
from segdemo.serving.live import LIVE_SIDE
from segdemo.serving.registry import ModelRegistry, checkpoints_root
from tools.loadtest import QUIET
from tools.report import write_into_readme

TRAIN_STEPS = 20  # per precision; 6 steps gave bf16 1.14x to 1.51x over float32 from run to run


def random_checkpoints(folder, height=288, width=384):
    for arch in ("unet", "pspnet", "fpn"):
        config = ModelConfig(arch=arch, backbone="mobilenetv2", label_set="regions", height=height, width=width)
        (folder / arch).mkdir(parents=True, exist_ok=True)
        save_weights(build_model(config), folder / arch)
        config.save(folder / arch)
    return folder


def photo_file(folder, width=1024, height=768):
    rng = np.random.default_rng(0)
    smooth = cv2.resize(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8), (width, height), interpolation=cv2.INTER_CUBIC)
    path = folder / "photo-1024x768.jpg"
    cv2.imwrite(str(path), smooth)
    return path


def train_throughput(policy, steps, batch=8):
    """(images per second, input source) of U-Net training steps under ``policy``, in a fresh process.

    Fed by the real training pipeline (192x288 crops of photos scaled to 288x384, augmented)
    when the dataset is here, as the shipped models were trained; else by random tensors.
    """
    script = f"""
import time, numpy as np, segdemo, tensorflow as tf
from segdemo.data import DatasetError, load_dataset, load_split
from segdemo.data.pipeline import train_dataset
from segdemo.data.labels import REGIONS
from segdemo.networks.models import ModelConfig, build_model
from segdemo.networks.losses import parse_loss
tf.keras.mixed_precision.set_global_policy({policy!r})
try:
    data = load_dataset(REGIONS)
    batches = iter(train_dataset(data.subset(load_split(data.ids)[0]), (192, 288), {batch}, scale_to=(288, 384)))
    source = "the real training pipeline"
except DatasetError:
    x = np.random.uniform(0, 255, ({batch}, 192, 288, 3)).astype("float32")
    batches = iter(lambda: (x, np.random.randint(0, 8, ({batch}, 192, 288))), None)
    source = "random tensors (no dataset here)"
model = build_model(ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=192, width=288))
model.compile(optimizer=tf.keras.optimizers.AdamW(1e-4), loss=parse_loss("ce+dice"))
model.train_on_batch(*next(batches))
started = time.perf_counter()
for _ in range({steps}):
    model.train_on_batch(*next(batches))
print({steps} * {batch} / (time.perf_counter() - started), source, sep="|")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    speed, source = done.stdout.strip().splitlines()[-1].split("|")
    return float(speed), source


def cold_start(checkpoints):
    """(seconds, peak RSS in MiB) of a fresh process importing segdemo, loading every checkpoint and building the UI.

    The peak is the process's own VmHWM: ``getrusage`` would also count this (larger) parent,
    whose high-water mark Linux carries over through fork and exec.
    """
    script = (f"from segdemo.serving.registry import ModelRegistry; from segdemo.ui.app import build_demo; "
              f"build_demo(ModelRegistry({str(checkpoints)!r})); "
              f"print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, int(done.stdout.split()[-1]) / 1024


def agreement_images(label_set, photo, trained=True):
    """(images, truths or None, description): the real validation photos when present and the weights
    are trained (random weights agree on nothing worth 143 photos' time), else the benchmark photo."""
    if not trained:
        return [str(photo)], None, "the benchmark photo (random weights)"
    try:
        return fidelity.validation_images(label_set)
    except DatasetError:
        return [str(photo)], None, "the benchmark photo (no dataset here)"


def live_frames_per_second(registry, frames=40):
    """Frames per second of the Live tab's work on 640x480 webcam-sized frames, back to back: the
    fastest model segments each (at most LIVE_SIDE px) and the overlay is drawn."""
    name = registry.fastest()
    entry = registry.get(name)
    frame = cv2.resize(cv2.cvtColor(cv2.imread(str(sorted(EXAMPLES.glob("*.jpg"))[0])), cv2.COLOR_BGR2RGB), (640, 480)) \
        if list(EXAMPLES.glob("*.jpg")) else np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)

    def one_frame():
        result = entry.segmenter.segment(fit_within(frame, LIVE_SIDE))
        overlay(result.image, result.labels, entry.config.colours)

    one_frame()
    started = time.perf_counter()
    for _ in range(frames):
        one_frame()
    return name, frames / (time.perf_counter() - started)


def served_compare_ms(url, photo, names, repeats):
    """{"direct", "gradio_client"}: (median, p95) ms of one student's Compare of ``names`` through the server, until
    the answer and its pictures have arrived over one kept-alive connection, as a browser fetches them
    (``tools.classroom.Student``).  "direct" asks as a page does, one message and the answer's event stream;
    "gradio_client" through that library, whose stream reader looks for messages every 50 ms.  The photo is sent
    once before, as the page sends it when it is chosen: the click names the server's copy."""
    from tools.classroom import Student, asker

    student = Student(url)
    figures = {}
    for way, method in (("direct", Student.ask_directly), ("gradio_client", Student.ask)):
        ask = asker([photo], list(names), api_name="/compare", sent_before=True, method=method)
        figures[way] = timed(lambda: ask(student, 0, 0), repeats)
    return figures


@contextlib.contextmanager
def served_app(checkpoints, scratch):
    """``python app.py`` with these checkpoints, once its Inside warm-up (seconds of both cores) is done, as a
    teacher's first click comes after it (``tools.classroom``): yields (its URL, its process)."""
    from tools.classroom import INSIDE_READY, logged_line
    from tools.loadtest import free_port, start_app

    port = free_port()
    process, _ = start_app(port, scratch / "app.log", SEGDEMO_CHECKPOINTS=str(checkpoints_root(checkpoints)))
    try:
        logged_line(scratch / "app.log", INSIDE_READY, process)
        yield f"http://127.0.0.1:{port}/", process
    finally:
        process.terminate()
        process.wait(timeout=30)


def served_figures(checkpoints, scratch, photo, names, repeats, with_load=True):
    """Against ``python app.py`` with these checkpoints: one student's Compare, the Live tab's frame
    rate in Chromium, then the 8 clients x 25 requests load test on real photos (each reported as
    unmeasured when it cannot run)."""
    from tools.browser import live_rate
    from tools.loadtest import concurrent_predictions

    photos = sorted(EXAMPLES.glob("*.jpg"))
    figures = {}
    with served_app(checkpoints, scratch) as (url, process):
        figures["compare_ms"] = served_compare_ms(url, photo, names, repeats)
        try:
            figures["browser_live"] = live_rate(url)[1]
        except RuntimeError as error:
            figures["browser_live"] = f"not measured: {error}"
        if with_load and photos:
            figures["load"] = concurrent_predictions(url, photos, "unet", process.pid)
    return figures


def compare_line(names, milliseconds):
    direct, library = milliseconds["direct"], milliseconds["gradio_client"]
    return (f"- Compare of the tab's default set through `python app.py` ({', '.join(names)}; 1024x768 JPEG chosen "
            f"before, one student, answer and pictures received): median {direct[0]:.0f} ms, p95 {direct[1]:.0f} ms "
            f"asked as a page asks (through gradio_client: median {library[0]:.0f} ms, p95 {library[1]:.0f} ms)")


def served_compare(checkpoints, repeats, runs):
    """Only Compare's figure: ``runs`` times a fresh ``python app.py`` and ``repeats`` Compares of the default set."""
    names = ModelRegistry(checkpoints).default_set()
    with tempfile.TemporaryDirectory(prefix="segdemo-bench-") as scratch:
        photo = photo_file(Path(scratch))
        for _ in range(runs):
            with served_app(checkpoints, Path(scratch)) as (url, _):
                print(compare_line(names, served_compare_ms(url, photo, names, repeats)), flush=True)
    return 0


def run(checkpoints, repeats, scratch, train_steps=TRAIN_STEPS, with_load=True, trained=True):
    results = {"rows": [], "machine": describe_machine()}
    photo = photo_file(scratch)
    registry = ModelRegistry(checkpoints)
    names = registry.available("regions")
    for name in names:
        segmenter = registry.get(name).segmenter
        reference = Segmenter(registry.get(name).folder, precision="float32")
        traced = Segmenter(registry.get(name).folder, precision=choose_precision())  # the Keras path without export
        size, config = segmenter.size, segmenter.config
        batch = np.random.default_rng(0).uniform(0, 255, (1, *size, 3)).astype(np.float32)
        naive = timed(lambda: reference.model.predict(batch, verbose=0), repeats)
        fast = timed(lambda: segmenter.predict(batch)[0].numpy(), repeats)
        keras_traced = timed(lambda: traced.predict(batch)[0].numpy(), repeats)

        def end_to_end():
            result = segmenter.segment(str(photo))
            overlay(result.image, result.labels, config.colours)

        def naive_end_to_end():
            image = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
            network_input = cv2.resize(image, (size[1], size[0]))[None].astype(np.float32)
            probs = reference.model.predict(network_input, verbose=0)[0]
            labels = cv2.resize(probs.argmax(-1).astype(np.uint8), (image.shape[1], image.shape[0]),
                                interpolation=cv2.INTER_NEAREST)
            overlay(image, labels, config.colours)

        images, truths, source = agreement_images(config.label_set, photo, trained)
        scores = fidelity.agreement(segmenter, images, fidelity.reference_answers(reference, images, truths), truths)
        results["rows"].append({
            "model": f"{name} ({config.title}, {size[0]}x{size[1]})", "engine": segmenter.engine,
            "naive_ms": naive, "fast_ms": fast, "speedup": naive[0] / fast[0],
            "keras_traced_ms": keras_traced, "keras_traced_engine": traced.engine,
            "jpeg_1024x768_ms": timed(end_to_end, repeats), "naive_jpeg_ms": timed(naive_end_to_end, repeats),
            "agreement": scores["equal"], "agreement_on": source, "miou": scores["miou"],
            "miou_float32": scores["miou_float32"],
        })
    results["compared_models"] = registry.default_set()  # what the Compare tab starts with
    results["live_model"], results["live_fps"] = live_frames_per_second(registry)
    results["cold_start_s"], results["cold_start_peak_rss_mib"] = cold_start(checkpoints)
    results.update(served_figures(checkpoints, scratch, photo, results["compared_models"], max(3, repeats // 2), with_load))
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # float32, and the mixed precision segdemo trains with here: none on a CPU without native
    # bfloat16, where seven emulated bfloat16 U-Net steps had not finished after seven minutes
    policies = dict.fromkeys(["float32", choose_precision()])
    timed_training = {policy: train_throughput(policy, train_steps) for policy in policies}
    results["train_img_s"] = {policy: speed for policy, (speed, _) in timed_training.items()}
    results["train_source"] = next(iter(timed_training.values()))[1]
    return results


def markdown(results, command, random_init):
    lines = [
        f"Measured with `{command}` ({'random weights: latency only' if random_init else 'shipped checkpoints'}) "
        f"on {results['machine']}.",
        "",
        "| model | naive fp32 `predict` ms (median / p95) | Keras traced ms (speed-up) | segdemo ms (median / p95), "
        "engine from `segdemo.serving.export` | speed-up | 1024x768 JPEG end to end ms, segdemo / naive | labels equal to fp32 "
        "| mIoU segdemo / fp32 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(f"| {row['model']} | {row['naive_ms'][0]:.1f} / {row['naive_ms'][1]:.1f} "
                     f"| {row['keras_traced_ms'][0]:.1f}, {row['keras_traced_engine']} "
                     f"({row['naive_ms'][0] / row['keras_traced_ms'][0]:.2f}x) "
                     f"| {row['fast_ms'][0]:.1f} / {row['fast_ms'][1]:.1f}, {row['engine']} | {row['speedup']:.2f}x "
                     f"| {row['jpeg_1024x768_ms'][0]:.0f} / {row['naive_jpeg_ms'][0]:.0f} "
                     f"| {100 * row['agreement']:.2f}% of pixels on {row['agreement_on']} "
                     f"| {miou_pair(row)} |")
    train = results["train_img_s"]
    lines += [
        "",
        compare_line(results["compared_models"], results["compare_ms"]),
        f"- Live tab ({results['live_model']}, 640x480 frames back to back: segmented and drawn in-process): "
        f"{results['live_fps']:.1f} frames/s; in Chromium with its synthetic 640x480 webcam against `python app.py`: "
        f"{results['browser_live']}",
        f"- App cold start (import, load every checkpoint, build the UI): {results['cold_start_s']:.1f} s, "
        f"peak RSS {results['cold_start_peak_rss_mib']:.0f} MiB",
        f"- Peak RSS of the benchmark process: {results['peak_rss_mib']:.0f} MiB",
        f"- U-Net training throughput (192x288 crops, batch 8, fed by {results['train_source']}): "
        + ", ".join(f"{policy} {speed:.2f} img/s ({speed / train['float32']:.2f}x)" for policy, speed in train.items())
        + ("" if len(train) > 1 else "; segdemo trains in float32 here (no GPU, no native bfloat16)"),
    ]
    load = results.get("load")
    if load:
        lines.append(f"- Load: {load['clients']} clients x {load['requests'] // load['clients']} /predict requests "
                     f"(U-Net, the bundled validation photos) against `python app.py`: {len(load['failures'])} failures, "
                     f"p50 {load['p50_ms']:.0f} ms, p95 {load['p95_ms']:.0f} ms, {load['requests'] / load['seconds']:.1f} "
                     f"requests/s, server memory grew {load['rss_growth_mib']:.0f} MiB")
    return "\n".join(lines)


def miou_pair(row):
    if row.get("miou") is None:
        return "-"
    return f"{row['miou']:.4f} / {row['miou_float32']:.4f} ({row['miou'] - row['miou_float32']:+.4f})"


def classroom(args, command):
    """``--classroom``: the bundled validation photos, half of them at a phone's size, sent by a class; then
    five bursts of 30 new visitors, and classes of 10 and 30 in Inside the network."""
    from tools.classroom import classroom_markdown, run_classroom

    with tempfile.TemporaryDirectory(prefix="segdemo-classroom-") as scratch:
        results = run_classroom(checkpoints_root(args.checkpoints), scratch, sorted(EXAMPLES.glob("*.jpg")),
                                new_visitor_bursts=5, inside_class_sizes=(10, 30))
    text = classroom_markdown(results, command, describe_machine())
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.readme:
        block = "classroom" if args.readme == "bench" else args.readme
        write_into_readme(text, f"<!-- {block}:start -->", f"<!-- {block}:end -->")
    return 0


def main(argv=None):
    os.environ.update(QUIET)  # its clients and the UI it builds (cold start) talk to the served app only
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", help="checkpoint folder (default: the app's)")
    parser.add_argument("--random-init", action="store_true", help="time randomly initialised models")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--train-steps", type=int, default=TRAIN_STEPS, help="timed training steps per precision")
    parser.add_argument("--no-load", action="store_true", help="skip the 8-client load test against a served app")
    parser.add_argument("--readme", nargs="?", const="bench", metavar="BLOCK",
                        help="write the table into README.md between <!-- BLOCK:start --> and <!-- BLOCK:end -->"
                             " (default bench; another block keeps a second machine's figures beside the first)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--classroom", action="store_true",
                        help="instead: a class against `python app.py` (30 students x 5 photos at once, five times; "
                             "10 x 3 on /compare; 5 bursts of 30 new visitors; 10 and 30 at once in Inside the network; "
                             "100 users at once); --readme then writes the classroom block")
    parser.add_argument("--compare", type=int, metavar="RUNS",
                        help="instead: only one student's Compare of the default set (--repeats clicks) against RUNS "
                             "fresh starts of `python app.py`, a line each")
    args = parser.parse_args(argv)
    if args.compare:
        return served_compare(args.checkpoints, args.repeats, args.compare)
    command = "python -m tools.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.classroom:
        return classroom(args, command.strip())
    checkpoints = args.checkpoints
    random_init = args.random_init or not ModelRegistry(checkpoints).available("regions")
    with tempfile.TemporaryDirectory(prefix="segdemo-bench-") as scratch:
        if random_init:
            checkpoints = random_checkpoints(Path(scratch) / "checkpoints")
        results = run(checkpoints, args.repeats, Path(scratch), args.train_steps, with_load=not args.no_load,
                      trained=not random_init)
    text = markdown(results, command.strip(), random_init)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.readme:
        write_into_readme(text, f"<!-- {args.readme}:start -->", f"<!-- {args.readme}:end -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
