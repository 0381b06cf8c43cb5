"""Measure the Inside views on the shipped checkpoints: python -m segdemo.inside [PHOTO] [--point ROW COLUMN]

Prints, per model, what decided the pixel at ROW, COLUMN (fractions of the photo) and how many
labels change outside the hidden centre; then the time of each view.  Each view is timed warm (the models loaded and traced, as in a running app) on a fresh photo,
so the probability and feature views include the forward pass they share.  Each view's process
CPU time is printed beside its wall time: on a machine shared with other work, the CPU time is
what a class pays per view.
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
    timed = {  # view: (brightness shift of the first run, and per run: a photo of its own defeats the per-photo cache)
        "pixel (3 models)": (1, 1, lambda fresh: [views.explain_pixel(probe, fresh, 0.5, 0.5) for probe in probes]),
        "probabilities": (-1, -1, lambda fresh: views.class_probabilities(probes[0], fresh)),
        "feature maps": (-20, -1, lambda fresh: views.feature_maps(probes[0], fresh)),
        "hide the centre (3 models)": (50, 2, lambda fresh: [views.hide_region(probe, fresh, "centre") for probe in probes]),
    }
    timings = {view: [] for view in timed}
    for repeat in range(args.repeats):
        for view, (first, step, run) in timed.items():
            fresh = np.clip(photo.astype(np.int16) + first + step * repeat, 0, 255).astype(np.uint8)
            wall, cpu = time.perf_counter(), time.process_time()
            run(fresh)
            timings[view].append((time.perf_counter() - wall, time.process_time() - cpu))
    for view, runs in timings.items():
        wall, cpu = np.median(runs, axis=0)
        print(f"{view}: {wall:.2f} s, CPU {cpu:.2f} s (runs: {', '.join(f'{w:.2f}' for w, _ in runs)})")


if __name__ == "__main__":
    main()
