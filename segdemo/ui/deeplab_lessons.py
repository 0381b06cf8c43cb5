"""What DeepLabV3+ teaches, measured on our own model: a section of the Architectures tab.

**Atrous convolution**: the same weights at output stride 8 (dilated twice over), 16 (dilated late
blocks, as shipped) and 32 (plain MobileNetV2), from ``python -m segdemo.inside.atrous``
(``studies/deeplab/atrous.json``): positions the head sees, receptive field, parameters, time, scores.

**Transfer learning**, what it knew before it saw Stanford Background: for one photo it shows the ADE20K network's own answer in
its 32 classes (it knows "house", "sea", "field", "car" without ever seeing this dataset),
the same answer counted as our 8 classes (what zero-shot scoring measures), and the answer of
DeepLabV3+ fine-tuned from it.  Beside it, the scores before and after fine-tuning on the
143 validation photos: the zero-shot ones measured by ``python -m segdemo.networks.deeplab_proof``
(``studies/deeplab``), the fine-tuned ones from the checkpoint's ``metrics.json``.
"""
import functools
import json

import gradio as gr
import numpy as np

from segdemo.data.labels import REGIONS
from segdemo.imaging import overlay
from segdemo.networks.ade20k_network import ADE20K_COLOURS, ADE20K_CLASSES, ADE20KInterpreter, regions_of_ade20k
from segdemo.networks.checkpoint import HISTORY_FILE, METRICS_FILE, protocol_metrics_file, runs_in
from segdemo.paths import PROJECT_ROOT
from segdemo.texts import TEXT
from segdemo.ui.common import (decode_or_explain, examples_gallery, millions, photo_input, save_image, score_table,
                               segment_or_explain, swatch)
from segdemo.ui.text import language_of, say, say_class, say_columns, t, table

FINE_TUNED = "deeplabv3plus"
PROTOCOL = "scales-and-flip"  # DeepLab's evaluation protocol, segdemo.serving.augmented
STUDIES = PROJECT_ROOT / "studies" / "deeplab"
ZERO_SHOT_STUDY, ATROUS_STUDY = STUDIES / "zero_shot_int8.json", STUDIES / "atrous.json"
TO_REGIONS = np.array(regions_of_ade20k(list(REGIONS.classes)), np.uint8)

# the three answers side by side; on a phone one per row, so their captions are read whole; the score
# table's cells a little narrower on a phone, so "accuracy" and "mountain" fit beside the row labels
CSS = """
@media (max-width: 640px) {
  #transfer-answers .grid-container { grid-template-columns: minmax(0, 1fr); }
  #transfer-scores .cell-wrap, #transfer-scores th .header-content { padding-left: 3px; padding-right: 3px; }
}
"""


def study(path):
    """A study's recorded figures, or None when it is absent."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def atrous_rows(language, figures):
    """One row per output stride (8, 16, 32): how far dilated, the shipped one marked, the deepest map, the centre's
    field, parameters, ms, scores."""
    rows = []
    for row in figures["rows"]:
        height, width = row["deepest_map"]
        kind = "atrous.without" if not row["atrous"] else "atrous.finer" if row["output_stride"] < 16 else "atrous.with"
        shipped = say(language, "atrous.shipped") if row["shipped"] else ""
        rows.append([say(language, kind, stride=row["output_stride"]) + shipped,
                     f"{height}x{width}", f"{row['centre_field'][0]} px", millions(row["parameters"]),
                     round(row["milliseconds"]), row["time_ratio"],
                     *(round(row[key], 3) if key in row else None for key in ("pixel_accuracy", "miou"))])
    return rows


def score_row(language, key, summary):
    mountain = (summary.get("per_class", {}).get("mountain") or {}).get("iou")
    return [say(language, key), round(summary["pixel_accuracy"], 3), round(summary["miou"], 3),
            None if mountain is None else round(mountain, 3)]


def transfer_rows(language, zero_shot, fine_tuned):
    """The scores before fine-tuning (``zero_shot``), after it as the app runs the network (one pass), and after
    it by DeepLab's evaluation protocol, when ``serving.evaluate --test-time scales-and-flip`` has scored it.
    Row labels stay short (a phone shows the scores beside them); ``transfer_notes`` says the rest once."""
    rows = [score_row(language, "transfer.before", zero_shot)] if zero_shot else []
    if fine_tuned and fine_tuned.available:
        for key, filename in (("transfer.after", METRICS_FILE), ("transfer.protocol", protocol_metrics_file(PROTOCOL))):
            metrics = fine_tuned.record(filename)
            if metrics:
                rows.append(score_row(language, key, metrics))
    return rows


def transfer_notes(language, fine_tuned):
    """What the table's rows leave out: the protocol's passes (when it was scored) and, when the shipped weights
    are the mean of runs (``segdemo.networks.soup``), how many."""
    if not (fine_tuned and fine_tuned.available):
        return ""
    notes = []
    if fine_tuned.record(protocol_metrics_file(PROTOCOL)):
        notes.append(say(language, "transfer.protocol_note"))
    runs = len(runs_in(fine_tuned.record(HISTORY_FILE)))
    if runs > 1:
        notes.append(say(language, "transfer.averaged", runs=runs))
    return " ".join(notes)


def ade20k_legend(labels, language):
    """The ADE20K classes found, largest share first, each with the regions class it counts as."""
    counts = np.bincount(labels.ravel(), minlength=len(ADE20K_CLASSES))
    rows = []
    for index in np.argsort(-counts):
        if counts[index] == 0 or counts[index] / labels.size < 0.005:
            continue
        colour = ADE20K_COLOURS[index]
        name = say(language, f"ade20k.{ADE20K_CLASSES[index]}")
        counted = say_class(language, REGIONS.classes[TO_REGIONS[index]])
        rows.append(f"<tr><td>{swatch(colour)}</td><td>{name}</td><td style='text-align:right'>{100 * counts[index] / labels.size:.1f}%"
                    f"</td><td>→ {counted}</td></tr>")
    return "<table class='segdemo-legend'>" + "".join(rows) + "</table>"


def build_section(page, built):
    """The section's components and events; its tables, drawn once in each language, are filled on page load."""
    registry = page.registry
    atrous = study(ATROUS_STUDY)
    if atrous:
        gr.Markdown(t("atrous.intro"))
        atrous_table = score_table(t("atrous.table"))

        atrous_drawn = {language: table(say_columns(language, "atrous.columns"), atrous_rows(language, atrous))
                        for language in TEXT}

        def draw_atrous(request: gr.Request = None):  # annotated: Gradio passes the request, hence the language
            return atrous_drawn[language_of(request)]

        built.fill_on_load(draw_atrous, [atrous_table])
    gr.Markdown(t("transfer.intro"))
    # the label column wraps so a phone shows the three scores beside it (with CSS's narrower padding)
    scores = score_table(t("transfer.scores"), column_widths=["33%", "23%", "16%", "28%"], elem_id="transfer-scores")
    notes = gr.Markdown()
    zero_shot = (study(ZERO_SHOT_STUDY) or {}).get("scores", {}).get("interpreter")
    fine_tuned = registry.entries.get(FINE_TUNED)
    # the shipped records do not change while the app runs: read once, in every language, not on each page load
    drawn = {language: (table(say_columns(language, "transfer.columns"), transfer_rows(language, zero_shot, fine_tuned)),
                        transfer_notes(language, fine_tuned)) for language in TEXT}

    def draw_scores(request: gr.Request = None):
        return drawn[language_of(request)]

    built.fill_on_load(draw_scores, [scores, notes])
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            photo = photo_input(t("transfer.photo"), height=240, elem_id="transfer-photo")
            show = gr.Button(t("transfer.show"), variant="primary")
            examples_gallery(photo)
        with gr.Column(scale=2):
            answers = gr.Gallery(label=t("transfer.answers"), columns=3, object_fit="contain", height="auto",
                                 elem_id="transfer-answers")
            legend = gr.HTML()
    interpreter = functools.cache(ADE20KInterpreter)  # made on the first click, not at start-up

    def on_show(source, request: gr.Request):
        language = language_of(request)
        image, _ = decode_or_explain(source, language)
        ade20k = interpreter().labels(image)
        pictures = [(save_image(overlay(image, ade20k, ADE20K_COLOURS), "ade20k"), say(language, "transfer.knew")),
                    (save_image(overlay(image, TO_REGIONS[ade20k], REGIONS.colours), "ade20k-regions"),
                     say(language, "transfer.counted"))]
        if fine_tuned and fine_tuned.available:
            answer = segment_or_explain(registry, FINE_TUNED, image, language)
            labels, _ = answer.labels_at(*image.shape[:2])
            pictures.append((save_image(overlay(image, labels, fine_tuned.config.colours), "fine-tuned"),
                             say(language, "transfer.learnt")))
        return {answers: pictures, legend: ade20k_legend(ade20k, language)}

    # one LiteRT interpreter, which is not safe to share between threads: Gradio's queue runs one click at a time
    show.click(on_show, [photo], {answers, legend}, api_name="transfer", concurrency_limit=1)
    return built

