"""What a checkpoint folder holds, in one place: its file names, how each record is read and
written, and the metrics reported about a checkpoint.

A folder under ``checkpoints/`` is made by ``networks.train`` (``config.json``, the weights,
``history.json``, ``command.txt``), scored by ``serving.evaluate`` (``metrics.json``, ``confusions.json``) and
exported by ``serving.export`` (``network.tflite``, ``engine.json``).  Everything that reads
them (the registry, the tabs, the README tables) goes through here.
"""
import json
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "config.json"  # architecture, encoder, label set, input size, classes, colours
WEIGHTS_FILE = "weights.npz"  # split into parts of at most 10 MB (networks.shards)
HISTORY_FILE = "history.json"  # one record per epoch: training and validation figures
COMMAND_FILE = "command.txt"  # every command that made the folder, in order
METRICS_FILE = "metrics.json"  # the validation scores of serving.evaluate
CONFUSIONS_FILE = "confusions.json"  # each validation photo's confusion matrix, from the same evaluation


def protocol_metrics_file(test_time):
    """Where ``serving.evaluate --test-time`` keeps the scores of another way of running the network than the
    app's one pass (``metrics-scales-and-flip.json``): beside the app's, never in their place."""
    return f"{Path(METRICS_FILE).stem}-{test_time}.json"
ENGINE_FILE = "engine.json"  # how the app runs it, and what each way measured (serving.export)
NETWORK_FILE = "network.tflite"  # the exported network, when one kept the float32 answers
BEFORE_FILE = "before.json"  # a fine-tune (train --init-from): its starting model's validation mIoU
TRAIN_COMMAND = "python -m segdemo.networks.train"
FORMER_TRAIN_COMMAND = "python -m segdemo.train"  # the same module before the package was grouped


def score_text(value, digits=3):
    """A score for a markdown or text table: ``digits`` decimals, "-" where there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def decoders_on_several_encoders(runs):
    """Each decoder trained on more than one encoder, for "same decoder, two encoders":
    ``[((arch, label_set), [(backbone, name), ...])]`` from ``(name, arch, label_set, backbone)``,
    in the order first seen, one checkpoint per encoder (the first)."""
    decoders = {}
    for name, arch, label_set, backbone in runs:
        decoders.setdefault((arch, label_set), {}).setdefault(backbone, name)
    return [(decoder, list(by_encoder.items())) for decoder, by_encoder in decoders.items() if len(by_encoder) >= 2]


@dataclass(frozen=True)
class ReportedMetric:
    """A figure of ``metrics.json`` that tables report: its key, its short English title (the
    page shows ``metric.<key>`` from the locale files), how many digits, and which way is better."""
    key: str
    title: str
    digits: int = 3
    higher_is_better: bool = True

    def rounded(self, summary):
        value = summary.get(self.key)
        return None if value is None else round(float(value), self.digits)

    def formatted(self, summary):
        return score_text(summary.get(self.key), self.digits)


# the one list evaluate's report, the README tables and the Training-curves table show, in this order
REPORTED_METRICS = (
    ReportedMetric("pixel_accuracy", "pixel acc."),
    ReportedMetric("mean_accuracy", "mean acc."),
    ReportedMetric("miou", "mIoU"),
    ReportedMetric("fwiou", "FWIoU"),
    ReportedMetric("mean_f1", "mean F1"),
    ReportedMetric("mean_average_precision", "mAP"),
    ReportedMetric("mean_hausdorff95", "HD95 px", digits=1, higher_is_better=False),
)
METRIC = {metric.key: metric for metric in REPORTED_METRICS}


def read_record(folder, filename):
    """A JSON record of the folder, or None when it is absent or unreadable (a folder may lack any of them)."""
    try:
        return json.loads(Path(folder, filename).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def runs_in(history):
    """The training runs a history.json holds, in order: one for a training (resumed or not), several for
    the mean of runs' weights (``segdemo.networks.soup``, whose records name their run)."""
    return list(dict.fromkeys(record.get("run") for record in history or []))


def write_record(folder, filename, value):
    Path(folder, filename).write_text(json.dumps(value, indent=1) + "\n")


def record_command(folder, command, fresh=False):
    """Add a command that wrote part of the folder to its command.txt, once per training run.

    ``fresh`` (a new training) starts the file again; a resumed training adds its line, so a
    model lists every run that made it; an evaluation or export is added once after the last
    training, so running it again adds nothing.
    """
    path = Path(folder, COMMAND_FILE)
    lines = path.read_text().splitlines() if path.exists() and not fresh else []
    last_training = max((i for i, line in enumerate(lines) if line.startswith(TRAIN_COMMAND + " ")), default=-1)
    if command not in lines[last_training + 1:]:
        path.write_text("\n".join([*lines, command]) + "\n")
