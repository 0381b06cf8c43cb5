"""``python -m segdemo.bench``: latency, throughput and memory on this machine, in one run.

Every figure is set against the seed notebook's naive path (float32 ``model.predict`` per
call) measured in the same run.  Latency does not depend on what the weights are, so with
``--random-init`` (or when no checkpoint exists) the three architectures are built at the
shipped input size with random weights, and the report says so.
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from segdemo.data import DatasetError, load_dataset, load_split
from segdemo.hardware import choose_precision, describe_machine
from segdemo.imaging import overlay
from segdemo.inference import Segmenter
from segdemo.labels import get_label_set
from segdemo.models import ModelConfig, build_model, save_weights
from segdemo.registry import ModelRegistry
from segdemo.report import write_into_readme
from segdemo.ui.compare import compare

README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def timed(function, repeats):
    """(median, p95) milliseconds of ``repeats`` calls after one warm-up call."""
    function()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(1000 * (time.perf_counter() - started))
    return float(np.median(samples)), float(np.percentile(samples, 95))


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
    """Images per second for U-Net training steps under ``policy``, in a fresh process."""
    script = f"""
import time, numpy as np, segdemo, tensorflow as tf
from segdemo.models import ModelConfig, build_model
from segdemo.losses import parse_loss
tf.keras.mixed_precision.set_global_policy({policy!r})
model = build_model(ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions"))
model.compile(optimizer="adam", loss=parse_loss("ce+dice"))
x = np.random.uniform(0, 255, ({batch}, 288, 384, 3)).astype("float32")
y = np.random.randint(0, 8, ({batch}, 288, 384))
model.train_on_batch(x, y)
started = time.perf_counter()
for _ in range({steps}):
    model.train_on_batch(x, y)
print({steps} * {batch} / (time.perf_counter() - started))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def cold_start_seconds(checkpoints):
    script = f"from segdemo.registry import ModelRegistry; from segdemo.ui.app import build_demo; build_demo(ModelRegistry({str(checkpoints)!r}))"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    return time.perf_counter() - started


def agreement_images(label_set, photo):
    """Validation photos of the real data when present, else the benchmark photo alone."""
    try:
        dataset = load_dataset(get_label_set(label_set))
    except DatasetError:
        return [str(photo)], "the benchmark photo (no dataset here)"
    _, val = load_split(dataset.ids)
    return dataset.subset(val).images, f"the {len(val)} validation images"


def run(checkpoints, repeats, scratch, train_steps=6):
    results = {"rows": [], "machine": describe_machine()}
    photo = photo_file(scratch)
    registry = ModelRegistry(checkpoints)
    names = registry.available("regions")
    for name in names:
        segmenter = registry.get(name).segmenter
        reference = Segmenter(registry.get(name).folder, precision="float32")
        size, config = segmenter.size, segmenter.config
        batch = np.random.default_rng(0).uniform(0, 255, (1, *size, 3)).astype(np.float32)
        naive = timed(lambda: reference.model.predict(batch, verbose=0), repeats)
        fast = timed(lambda: segmenter.predict(batch)[0].numpy(), repeats)

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

        images, source = agreement_images(config.label_set, photo)
        same = total = 0
        for image in images:
            ours, exact = segmenter.segment(image).labels, reference.segment(image).labels
            same, total = same + int(np.sum(ours == exact)), total + ours.size
        results["rows"].append({
            "model": f"{name} ({config.title}, {size[0]}x{size[1]})", "precision": segmenter.precision,
            "naive_ms": naive, "fast_ms": fast, "speedup": naive[0] / fast[0],
            "jpeg_1024x768_ms": timed(end_to_end, repeats), "naive_jpeg_ms": timed(naive_end_to_end, repeats),
            "agreement": same / total, "agreement_on": source,
        })
    results["compare_ms"] = timed(lambda: compare(registry, str(photo), names), max(3, repeats // 2))
    results["compared_models"] = len(names)
    results["cold_start_s"] = cold_start_seconds(checkpoints)
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # float32, and the mixed precision segdemo trains with here: none on a CPU without native
    # bfloat16, where seven emulated bfloat16 U-Net steps had not finished after seven minutes
    policies = dict.fromkeys(["float32", choose_precision()])
    results["train_img_s"] = {policy: train_throughput(policy, train_steps) for policy in policies}
    return results


def markdown(results, command, random_init):
    lines = [
        f"Measured with `{command}` ({'random weights: latency only' if random_init else 'shipped checkpoints'}) "
        f"on {results['machine']}.",
        "",
        "| model | naive fp32 `predict` ms (median / p95) | segdemo ms (median / p95) | speed-up "
        "| 1024x768 JPEG end to end ms, segdemo / naive | labels equal to fp32 |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(f"| {row['model']} | {row['naive_ms'][0]:.1f} / {row['naive_ms'][1]:.1f} "
                     f"| {row['fast_ms'][0]:.1f} / {row['fast_ms'][1]:.1f} ({row['precision']}) | {row['speedup']:.2f}x "
                     f"| {row['jpeg_1024x768_ms'][0]:.0f} / {row['naive_jpeg_ms'][0]:.0f} "
                     f"| {100 * row['agreement']:.2f}% of pixels on {row['agreement_on']} |")
    train = results["train_img_s"]
    lines += [
        "",
        f"- Compare tab path ({results['compared_models']} models, 1024x768 JPEG, end to end with the image files it serves): median {results['compare_ms'][0]:.0f} ms, p95 {results['compare_ms'][1]:.0f} ms",
        f"- App cold start (import, load every checkpoint, build the UI): {results['cold_start_s']:.1f} s",
        f"- Peak RSS of the benchmark process: {results['peak_rss_mib']:.0f} MiB",
        "- U-Net training throughput at 288x384, batch 8: "
        + ", ".join(f"{policy} {speed:.2f} img/s ({speed / train['float32']:.2f}x)" for policy, speed in train.items())
        + ("" if len(train) > 1 else "; segdemo trains in float32 here (no GPU, no native bfloat16)"),
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m segdemo.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", help="checkpoint folder (default: the app's)")
    parser.add_argument("--random-init", action="store_true", help="time randomly initialised models")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--train-steps", type=int, default=6, help="timed training steps per precision")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    checkpoints = args.checkpoints
    random_init = args.random_init or not ModelRegistry(checkpoints).available("regions")
    with tempfile.TemporaryDirectory(prefix="segdemo-bench-") as scratch:
        if random_init:
            checkpoints = random_checkpoints(Path(scratch) / "checkpoints")
        results = run(checkpoints, args.repeats, Path(scratch), args.train_steps)
    command = "python -m segdemo.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    text = markdown(results, command.strip(), random_init)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.readme:
        write_into_readme(text, README_START, README_END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
