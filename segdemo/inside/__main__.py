"""Measure the Inside views on the shipped checkpoints: python -m segdemo.inside [PHOTO] [--point ROW COLUMN]

Prints, per model, what decided the pixel at ROW, COLUMN (fractions of the photo) and how many
labels change outside the hidden centre; then the time of each view.  Each view is timed warm (the models loaded and traced, as in a running app) on a fresh photo,
so the probability and feature views include the forward pass they share.
"""
import argparse
import time
from pathlib import Path

import numpy as np

from segdemo.data.examples import list_examples
from segdemo.imaging import load_rgb
from segdemo.inside import influence, views
from segdemo.inside.probe import probe_for
from segdemo.serving.registry import checkpoints_root

MODELS = ("unet", "pspnet", "fpn")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photo", nargs="?", help="default: the first bundled example")
    parser.add_argument("--checkpoints", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--point", type=float, nargs=2, default=(0.6, 0.5), metavar=("ROW", "COLUMN"))
    args = parser.parse_args(argv)
    photo, _ = load_rgb(args.photo or list_examples()[0])
    root = checkpoints_root(args.checkpoints)
    probes = [probe_for(root / name) for name in MODELS if (root / name).is_dir()]
    warm = np.zeros_like(photo)
    for probe in probes:  # trace every function once
        views.explain_pixel(probe, warm, 0.5, 0.5)
        views.hide_region(probe, warm, "centre")
    for probe in probes:
        pixel = views.explain_pixel(probe, photo, *args.point)
        hidden = views.hide_region(probe, photo, "centre")
        field = "the whole photo (global pooling)" if pixel.global_pooling else "{}x{} px".format(*pixel.field_size)
        print(f"{probe.config.arch}: pixel {pixel.point} is {probe.config.classes[pixel.label]} "
              f"({100 * pixel.probabilities[pixel.label]:.0f}%), theoretical field {field}, "
              f"{100 * pixel.share_outside_window:.0f}% of its influence "
              f"from outside the {influence.LOCAL_WINDOW}x{influence.LOCAL_WINDOW} window, 90% within "
              f"{pixel.effective_radius:.0f} px; hiding the centre changes {100 * hidden.changed_share:.1f}% of the labels "
              f"outside it ({hidden.changed_beyond_reach} beyond its reach)")
    print(f"photo {photo.shape[1]}x{photo.shape[0]}, models {', '.join(p.config.arch for p in probes)}; "
          f"median of {args.repeats} runs, each on a photo none of the models has seen")
    timings = {"pixel (3 models)": [], "probabilities": [], "feature maps": [], "hide the centre (3 models)": []}
    for repeat in range(args.repeats):
        fresh = np.clip(photo.astype(np.int16) + repeat + 1, 0, 255).astype(np.uint8)  # defeats the per-photo cache
        started = time.perf_counter()
        for probe in probes:
            views.explain_pixel(probe, fresh, 0.5, 0.5)
        timings["pixel (3 models)"].append(time.perf_counter() - started)
        fresh = np.clip(photo.astype(np.int16) - repeat - 1, 0, 255).astype(np.uint8)
        started = time.perf_counter()
        views.class_probabilities(probes[0], fresh)
        timings["probabilities"].append(time.perf_counter() - started)
        fresh = np.clip(photo.astype(np.int16) - repeat - 20, 0, 255).astype(np.uint8)
        started = time.perf_counter()
        views.feature_maps(probes[0], fresh)
        timings["feature maps"].append(time.perf_counter() - started)
        fresh = np.clip(photo.astype(np.int16) + 2 * repeat + 50, 0, 255).astype(np.uint8)
        started = time.perf_counter()
        for probe in probes:
            views.hide_region(probe, fresh, "centre")
        timings["hide the centre (3 models)"].append(time.perf_counter() - started)
    for view, seconds in timings.items():
        print(f"{view}: {np.median(seconds):.2f} s (runs: {', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
