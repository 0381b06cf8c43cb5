"""``python -m tools.one_core NAME [NAME ...]``: each checkpoint's network, as the app runs it, on one core.

The process is pinned to one core with one TensorFlow thread; the networks take turns on a
blank input at their size (``--rounds`` rounds, after two warm-up passes), so a busy moment
slows all alike.  Prints each one's median milliseconds with the middle half of its passes, and
each one's time over the first one's, per round (median and middle half).
"""
import argparse
import os
import time

import numpy as np

from segdemo.serving.inference import Segmenter
from segdemo.serving.registry import checkpoints_root


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.one_core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", help="checkpoint folders under checkpoints/ (the first is the baseline)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    import tensorflow as tf  # noqa: PLC0415 (segdemo, imported above, chooses the legacy tf.keras first)

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    segmenters = {name: Segmenter(checkpoints_root() / name) for name in args.names}
    samples = {name: [] for name in segmenters}
    for _ in range(2 + args.rounds):
        for name, segmenter in segmenters.items():
            blank = np.zeros((1, *segmenter.size, 3), np.float32)
            started = time.perf_counter()
            segmenter.network(blank)
            samples[name].append(1000 * (time.perf_counter() - started))
    baseline = np.array(samples[args.names[0]][2:])
    for name, values in samples.items():
        values = np.array(values[2:])
        ratio = values / baseline
        print(f"{name}: {np.median(values):.1f} ms (middle half {np.percentile(values, 25):.1f}-{np.percentile(values, 75):.1f}), "
              f"{np.median(ratio):.2f}x {args.names[0]} ({np.percentile(ratio, 25):.2f}-{np.percentile(ratio, 75):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
