"""The loss study's table and per-class bars, from its committed results (``python -m tools.loss_study`` prints it).

``scripts/loss_study.sh`` trains U-Nets that differ only in the loss into ``studies/losses/RUN/``:
each run's ``command.txt`` says which loss, class weights and seed it trained with, its
``metrics.json`` (``segdemo.serving.evaluate``) how it scored.  One loss trained with two seeds measures
run-to-run noise, so the table can say which differences between losses are smaller than that.
"""
import argparse
import shlex
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

from segdemo.networks.checkpoint import COMMAND_FILE, FORMER_TRAIN_COMMAND, METRICS_FILE, TRAIN_COMMAND, read_record, score_text
from segdemo.paths import PROJECT_ROOT

STUDY_ROOT = PROJECT_ROOT / "studies" / "losses"
RARE_CLASS = "mountain"  # 1% of the training pixels, the weakest class of every shipped model
BASELINE = ("ce", "none")  # every other loss is compared with plain cross-entropy
FORMULAS = {  # each term as segdemo.networks.losses computes it at its defaults; w_c = inverse-sqrt class weight
    ("ce", "none"): "−Σ t log p",
    ("ce", "inverse-sqrt"): "−Σ w_c t log p",
    ("focal", "none"): "−(1−p_t)² log p_t",
    ("focal", "inverse-sqrt"): "−w_c (1−p_t)² log p_t",
    ("dice", "none"): "1 − soft F1",
    ("tversky", "none"): "1 − TP / (TP + 0.3 FP + 0.7 FN)",
    ("boundary", "none"): "1 − boundary F1 (edges within 2 px)",  # theta = 5: a 5x5 max-pool
}


@dataclass(frozen=True)
class Run:
    """One trained and evaluated run of the study."""
    name: str
    loss: str  # as given to --loss, e.g. ce+dice
    class_weights: str  # none or inverse-sqrt (applies to the ce and focal terms only)
    seed: int
    metrics: dict  # metrics.json

    @property
    def recipe(self):
        return self.loss, self.class_weights

    @property
    def formula(self):
        """The loss written out term by term (class weights only reach the ce and focal terms)."""
        terms = self.loss.split("+")
        return " + ".join(FORMULAS.get((term, self.class_weights), FORMULAS.get((term, "none"), term)) for term in terms)

    def iou(self, name):
        return self.metrics["per_class"][name]["iou"]


def training_options(command_file):
    """(loss, class weights, seed) of the first ``segdemo.networks.train`` line of a run's command.txt."""
    parser = argparse.ArgumentParser(add_help=False)
    for option in ("--loss", "--class-weights", "--seed"):
        parser.add_argument(option, required=True)
    line = next(line for line in Path(command_file).read_text().splitlines()
                if line.startswith((TRAIN_COMMAND + " ", FORMER_TRAIN_COMMAND + " ")))
    options, _ = parser.parse_known_args(shlex.split(line)[3:])
    return options.loss, options.class_weights, int(options.seed)


def read_runs(root=STUDY_ROOT):
    """Every evaluated run under ``root``, best validation mIoU first."""
    runs = []
    for folder in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
        metrics = read_record(folder, METRICS_FILE)
        if metrics:
            loss, class_weights, seed = training_options(folder / COMMAND_FILE)
            runs.append(Run(folder.name, loss, class_weights, seed, metrics))
    return sorted(runs, key=lambda run: -run.metrics["miou"])


def seed_noise(runs):
    """{metric: largest gap between two seeds of the same loss}, or {} without such a pair.

    ``any_class`` is the largest gap in any one class's IoU: per-class bars closer than that
    are not told apart by this study.
    """
    gaps = {}
    for a in runs:
        for b in runs:
            if a.recipe == b.recipe and a.seed < b.seed:
                for key, value_a, value_b in (("pixel_accuracy", a.metrics["pixel_accuracy"], b.metrics["pixel_accuracy"]),
                                              ("miou", a.metrics["miou"], b.metrics["miou"]),
                                              (RARE_CLASS, a.iou(RARE_CLASS), b.iou(RARE_CLASS)),
                                              ("mean_hausdorff95", a.metrics["mean_hausdorff95"], b.metrics["mean_hausdorff95"])):
                    gaps[key] = max(gaps.get(key, 0.0), abs(value_a - value_b))
                gaps["any_class"] = max([gaps.get("any_class", 0.0), *(abs(a.iou(name) - b.iou(name)) for name in a.metrics["per_class"])])
    return gaps


def baseline_of(runs):
    """Plain cross-entropy's first seed, the run every other is set against (None when not evaluated)."""
    return next((run for run in runs if run.recipe == BASELINE and run.seed == 0), None)


def miou_gap(run, baseline, noise):
    """(mIoU minus plain CE's, whether a second seed of one loss moved mIoU as much); (None, False) for CE itself."""
    if baseline is None or run is baseline:
        return None, False
    gap = run.metrics["miou"] - baseline.metrics["miou"]
    return gap, "miou" in noise and abs(gap) <= noise["miou"]


def versus_baseline(run, baseline, noise, within_noise="(within noise)"):
    """The mIoU gap to plain CE as a table cell, marked when it is within the run-to-run noise."""
    gap, within = miou_gap(run, baseline, noise)
    return "-" if gap is None else f"{gap:+.3f}" + (f" {within_noise}" if within else "")


def markdown(runs):
    """The study as markdown: one row per run, per-class IoU, and the noise two seeds measured."""
    if not runs:
        return f"No run under `{STUDY_ROOT.relative_to(PROJECT_ROOT)}/` has a `metrics.json` yet (`bash scripts/loss_study.sh`)."
    baseline, noise = baseline_of(runs), seed_noise(runs)
    lines = ["| run | loss | seed | pixel acc. | mIoU | mIoU vs CE | mountain IoU | HD95 px |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {run.name} | {run.formula} | {run.seed} | {score_text(run.metrics['pixel_accuracy'])} "
              f"| {score_text(run.metrics['miou'])} | {versus_baseline(run, baseline, noise)} | {score_text(run.iou(RARE_CLASS))} "
              f"| {run.metrics['mean_hausdorff95']:.1f} |" for run in runs]
    classes = list(runs[0].metrics["per_class"])
    lines += ["", "Validation IoU per class:", "", "| run | " + " | ".join(classes) + " |", "|" + "---|" * (len(classes) + 1)]
    lines += [f"| {run.name} | " + " | ".join(score_text(run.iou(name)) for name in classes) + " |" for run in runs]
    if noise:
        lines += ["", "Run-to-run noise (the same loss, two seeds): pixel accuracy {:.3f}, mIoU {:.3f}, mountain IoU {:.3f}, "
                  "HD95 {:.1f} px apart; the IoU of one class up to {:.3f}.".format(
                      noise["pixel_accuracy"], noise["miou"], noise[RARE_CLASS], noise["mean_hausdorff95"], noise["any_class"])]
    else:
        lines += ["", "Run-to-run noise: not measured yet (no loss has two seeds evaluated)."]
    return "\n".join([*lines, "", "Generated by `python -m tools.loss_study --readme` from `studies/losses/*/metrics.json`."])


def per_class_figure(runs, class_label=str, legend_title="run (mIoU)"):
    """Validation IoU per class, one bar per run in each class: where a loss helps, and which class."""
    figure = go.Figure()
    for run in runs:
        classes = list(run.metrics["per_class"])
        figure.add_trace(go.Bar(x=[class_label(name) for name in classes], y=[run.iou(name) for name in classes],
                                name=f"{run.name} ({run.metrics['miou']:.3f})",
                                hovertemplate=f"{run.name}: %{{y:.3f}}<extra></extra>"))
    # the legend under the bars: beside them it took most of a phone's width
    figure.update_layout(barmode="group", height=460, yaxis={"title": "IoU", "range": [0, 1]},
                         legend={"title": legend_title, "orientation": "h", "y": -0.25}, margin={"t": 30})
    return figure
