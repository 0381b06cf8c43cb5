"""Averaged weights: over one run's epochs (stochastic weight averaging) and over several runs (a soup).

Fine-tuning the ADE20K DeepLabV3+ on 572 photos, each epoch's weights score a little up or down
on the validation photos from one epoch to the next; their plain mean sits nearer the middle of
the wide minimum those epochs walk around (Izmailov et al., 2018) and scores above most of them.
Runs that start from the same weights can be averaged too (Wortsman et al., 2022, "model
soups"): one network, one pass, no more time a photo. The README's DeepLabV3+ section has the figures.

``python -m segdemo.networks.soup --out FOLDER RUN [RUN ...]`` writes the plain mean of the runs'
weights as a checkpoint; every run counts once, whatever its length. Its ``history.json`` holds the
runs' epochs one run after another, numbered on, each record naming its run (Training curves shows
what each went through; the soup's own score is its ``metrics.json``), and its ``command.txt`` the
runs' commands before its own.
"""
import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from segdemo.networks.checkpoint import COMMAND_FILE, HISTORY_FILE, read_record, record_command, write_record
from segdemo.networks.models import CheckpointError, ModelConfig, save_arrays, stored_weights

SOUP_COMMAND = "python -m segdemo.networks.soup"


class RunningAverage:
    """The mean of a model's weights over the epochs seen so far, kept in variables so that a
    resumed run (``tf.train.Checkpoint``) continues the same mean."""

    def __init__(self, model):
        self.count = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.means = [tf.Variable(np.asarray(w, np.float32) if w.dtype.kind == "f" else w, trainable=False)
                      for w in model.get_weights()]

    def trackable(self):
        return tf.train.Checkpoint(count=self.count, means=self.means)

    def add(self, model):
        """Fold ``model``'s current weights into the mean (integer weights: the latest)."""
        self.count.assign_add(1)
        share = 1.0 / float(self.count.numpy())
        for mean, weight in zip(self.means, model.get_weights()):
            if weight.dtype.kind == "f":
                mean.assign_add((weight.astype(np.float32) - mean.numpy()) * share)
            else:
                mean.assign(weight)

    def restart_from(self, model, count):
        """The mean as if ``model``'s weights had been the mean of ``count`` epochs (a resume without its state)."""
        self.count.assign(count)
        for mean, weight in zip(self.means, model.get_weights()):
            mean.assign(weight.astype(np.float32) if weight.dtype.kind == "f" else weight)

    def arrays(self):
        return [mean.numpy() for mean in self.means]


def same_network(configs):
    """Raise unless every config describes the same network (architecture, encoder, classes, input size, output
    stride: weights of two strides fit either network, so only the configs can tell them apart)."""
    def network(config):
        return (config.arch, config.backbone, config.label_set, config.height, config.width, config.pyramid_filters,
                config.output_stride)
    if len({network(config) for config in configs}) > 1:
        raise CheckpointError("a soup needs runs of one network: " + "; ".join(config.title for config in configs))


def soup(runs, out):
    """Write the plain mean of ``runs``' weights (checkpoint folders of one network) to ``out``; returns ``out``."""
    configs = [ModelConfig.load(run) for run in runs]
    same_network(configs)
    weights = [stored_weights(run) for run in runs]
    if len({tuple(w.shape for w in run) for run in weights}) > 1:
        raise CheckpointError("the runs' weights differ in shape: " + ", ".join(str(run) for run in runs))
    mean = [np.mean([run[i].astype(np.float64) for run in weights], axis=0) if weights[0][i].dtype.kind == "f"
            else weights[0][i] for i in range(len(weights[0]))]
    Path(out).mkdir(parents=True, exist_ok=True)
    save_arrays(mean, out)
    configs[0].save(out)
    write_record(out, HISTORY_FILE, runs_history(runs))
    commands = [line for run in runs if Path(run, COMMAND_FILE).exists()
                for line in Path(run, COMMAND_FILE).read_text().splitlines() if line.strip()]
    Path(out, COMMAND_FILE).write_text("".join(f"{line}\n" for line in commands))
    return Path(out)


def runs_history(runs):
    """The runs' epoch records one run after another, numbered on, each with the name of its run."""
    history = []
    for run in runs:
        for record in read_record(run, HISTORY_FILE) or []:
            history.append({**record, "epoch": len(history) + 1, "run": Path(run).name})
    return history


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog=SOUP_COMMAND, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="checkpoint folders of one network, from the same start")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder to write")
    args = parser.parse_args(argv)
    try:
        soup(args.runs, args.out)
    except (CheckpointError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    record_command(args.out, f"{SOUP_COMMAND} {shlex.join(argv)}")
    print(f"{len(args.runs)} runs averaged into {args.out}; score it: python -m segdemo.serving.evaluate {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
