"""``python -m tools.report``: the README's results tables, generated from metrics.json and engine.json files."""
import argparse
import sys

from segdemo.networks.checkpoint import (CONFIG_FILE, ENGINE_FILE, HISTORY_FILE, METRICS_FILE, REPORTED_METRICS,
                                         decoders_on_several_encoders, read_record, score_text)
from segdemo.networks.models import BACKBONE_TITLES
from segdemo.paths import PROJECT_ROOT
from segdemo.serving.registry import checkpoints_root, display_order

README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


SPLITS = {"fixed": "fixed 143", "sorted80": "seed's last 20%"}
CURVE_EPOCHS = (1, 5, 10, 15, 20, 25, 30)  # where the encoder table reads each validation-mIoU curve, and its last epoch


def per_class_table(evaluated):
    """Per-class IoU, one row per checkpoint of the same label set (checkpoints in display order)."""
    lines = []
    for label_set in dict.fromkeys(config["label_set"] for _, config, _ in evaluated):
        same = [(name, summary) for name, config, summary in evaluated if config["label_set"] == label_set]
        classes = list(same[0][1]["per_class"])
        lines += ["", f"Validation IoU per class ({label_set}):", "",
                  "| checkpoint | " + " | ".join(classes) + " |", "|" + "---|" * (len(classes) + 1)]
        lines += [f"| {name} | " + " | ".join(score_text(summary["per_class"][c]["iou"]) for c in classes) + " |"
                  for name, summary in same]
    return lines


def encoder_table(root, evaluated):
    """Same decoder, two encoders: scores, best epoch and the validation-mIoU curve read at a few
    epochs (``history.json``), for each decoder trained on more than one encoder."""
    summaries = {name: summary for name, _, summary in evaluated}
    lines = []
    for (arch, label_set), runs in decoders_on_several_encoders(
            (name, config["arch"], config["label_set"], config["backbone"]) for name, config, _ in evaluated):
        curves = {name: [epoch["val_miou"] for epoch in read_record(root / name, HISTORY_FILE) or []] for _, name in runs}
        last = max(len(curve) for curve in curves.values())
        epochs = [e for e in CURVE_EPOCHS if e < last] + [last]
        lines += ["", f"Same decoder ({arch}, {label_set}), two encoders: the kept epoch's scores, and validation mIoU "
                  "during training at these epochs (`history.json`):", "",
                  "| checkpoint | encoder | pixel acc. | mIoU | mountain IoU | kept epoch | "
                  + " | ".join(f"ep. {e}" for e in epochs) + " |", "|" + "---|" * (len(epochs) + 6)]
        for backbone, name in runs:
            curve, summary = curves[name], summaries[name]
            mountain = summary.get("per_class", {}).get("mountain", {}).get("iou")
            kept = 1 + max(range(len(curve)), key=curve.__getitem__) if curve else "-"
            lines.append(f"| {name} | {BACKBONE_TITLES.get(backbone, backbone)} | {score_text(summary['pixel_accuracy'])} "
                         f"| {score_text(summary['miou'])} | {score_text(mountain)} | {kept} | "
                         + " | ".join(score_text(curve[e - 1]) if e <= len(curve) else "-" for e in epochs) + " |")
        first_name = runs[0][1]
        first = summaries[first_name]
        lines += ["", *(f"{name} against {first_name}: mIoU {summaries[name]['miou'] - first['miou']:+.3f}, pixel accuracy "
                        f"{summaries[name]['pixel_accuracy'] - first['pixel_accuracy']:+.3f}." for _, name in runs[1:])]
    return lines


def engine_table(folders):
    """Every way ``python -m segdemo.serving.export`` tried per checkpoint, its figures, and the one kept."""
    choices = [(folder.name, read_record(folder, ENGINE_FILE)) for folder in folders if (folder / ENGINE_FILE).exists()]
    lines = []
    for machine in dict.fromkeys(choice["machine"] for _, choice in choices):  # one table per machine timed on
        lines += ["", f"Ways of running each checkpoint, from `python -m segdemo.serving.export` on {machine} "
                  "(network only, one image; labels and mIoU against the float32 Keras model on its validation photos):",
                  "", "| checkpoint | way | ms | labels equal to fp32 | mIoU (fp32) | bar | |", "|---|---|---|---|---|---|---|"]
        for name, choice in choices:
            if choice["machine"] == machine:
                lines += [f"| {name} | {row['title']} | {row['ms']:.1f} | {100 * row['equal']:.2f}% "
                          f"| {row['miou']:.4f} ({row['miou_float32']:.4f}) | {'met' if row['meets_bar'] else 'missed'} "
                          f"| {'**kept**' if row['engine'] == choice['engine'] else ''} |" for row in choice["candidates"]]
    return lines


def results_table(root):
    folders = [path for path in root.iterdir() if (path / METRICS_FILE).exists()] if root.is_dir() else []
    evaluated = [(folder.name, read_record(folder, CONFIG_FILE), read_record(folder, METRICS_FILE))
                 for folder in sorted(folders, key=lambda path: display_order(path.name))]
    if not evaluated:
        return f"No checkpoint under `{root.name}/` has a `metrics.json` yet (generated by `python -m tools.report --readme`)."
    rows = [f"| {name} | {config['arch']} / {config['backbone']} / {config['label_set']} "
            f"| {summary['images']} ({SPLITS.get(summary.get('split'), summary.get('split', '-'))}) | "
            + " | ".join(metric.formatted(summary) for metric in REPORTED_METRICS) + " |"
            for name, config, summary in evaluated]
    header = "| checkpoint | model | validation images | " + " | ".join(metric.title for metric in REPORTED_METRICS) + " |"
    per_class = per_class_table(evaluated) if all("per_class" in summary for _, _, summary in evaluated) else []
    ordered = sorted(folders, key=lambda path: display_order(path.name))
    return "\n".join([header, "|" + "---|" * (len(REPORTED_METRICS) + 3), *rows, *per_class, *encoder_table(root, evaluated),
                      *engine_table(ordered), "",
                      "Generated by `python -m tools.report --readme` from each `metrics.json` and `engine.json`."])


def write_into_readme(text, start_marker, end_marker, readme=PROJECT_ROOT / "README.md"):
    """Replace what stands between two HTML-comment markers in README.md with ``text``."""
    content = readme.read_text()
    start, end = content.index(start_marker) + len(start_marker), content.index(end_marker)
    readme.write_text(content[:start] + "\n" + text + "\n" + content[end:])


def table_command(argv, prog, description, markers, make_table, source_option, source_help):
    """A README table's command line: print the table made from ``source_option``'s folder (None:
    the default one); with ``--readme`` also write it between ``markers``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(source_option, dest="source", help=source_help)
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    table = make_table(args.source)
    print(table)
    if args.readme:
        write_into_readme(table, *markers)
    return 0


def main(argv=None):
    return table_command(argv, "python -m tools.report", __doc__, (README_START, README_END),
                         lambda folder: results_table(checkpoints_root(folder)), "--checkpoints",
                         "checkpoint folder (default: the app's)")


if __name__ == "__main__":
    sys.exit(main())
