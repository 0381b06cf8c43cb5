"""Error analysis tab: where each model goes wrong on the 143 validation photos.

Everything but the chosen photo's prediction comes from what ``python -m segdemo.serving.evaluate``
stored with the checkpoint: the confusion matrix, per-class IoU and each photo's own scores
(``metrics.json``), and each photo's own confusion matrix (``confusions.json``), so the tab opens,
and finds the photos behind any cell of the matrix, without running a network.
"""
import gradio as gr
import numpy as np
import plotly.graph_objects as go

from segdemo.imaging import colorize, error_map, overlay
from segdemo.networks import metrics
from segdemo.networks.checkpoint import CONFUSIONS_FILE, METRICS_FILE
from segdemo.ui.common import model_label, save_image, score_table, segment_or_explain
from segdemo.ui.dataset import example_or_explain
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_class, say_engine, say_table, t

ID = "errors"


def evaluated_models(registry):
    """{name: metrics.json} of the available models that were evaluated photo by photo."""
    return {name: metrics for name, metrics in registry.records(METRICS_FILE).items() if metrics.get("per_image")}


def stored_confusions(registry, evaluated_by_model):
    """{name: (photo ids, their confusion matrices as an array (photos, true, predicted))} of the evaluated
    models whose ``confusions.json`` comes from the same evaluation as their ``metrics.json``."""
    stored = {}
    for name, record in registry.records(CONFUSIONS_FILE).items():
        if name in evaluated_by_model and record.get("ids_sha1") == evaluated_by_model[name].get("ids_sha1"):
            ids = list(record["per_image"])
            stored[name] = (ids, np.array([record["per_image"][i] for i in ids], np.int64))
    return stored


def confusion_figure(evaluated, classes, language="en"):
    """Row-normalised confusion matrix: each row says where one true class's pixels went."""
    counts = np.array(evaluated["confusion_matrix"], np.float64)
    rows = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    names = [say_class(language, c) for c in classes]
    # two-word names on two lines and a slim colour bar leave the cells room on a phone
    ticks = {"tickmode": "array", "tickvals": names, "ticktext": [name.replace(" ", "<br>") for name in names]}
    figure = go.Figure(go.Heatmap(  # in percent, as the cells and the colour bar read
        z=100 * rows, x=names, y=names, colorscale="Blues", zmin=0, zmax=100, customdata=counts.astype(np.int64),
        text=[[f"{100 * v:.0f}" for v in row] for row in rows], texttemplate="%{text}",
        hovertemplate=say(language, "errors.hover") + "<extra></extra>",
        colorbar={"title": {"text": say(language, "errors.share_of_row"), "side": "right"}, "thickness": 12,
                  "ticksuffix": "%"}))
    figure.update_layout(title=say(language, "errors.confusion_title"), height=500, margin={"t": 70},
                         xaxis={"title": say(language, "errors.predicted"), **ticks},
                         yaxis={"title": say(language, "errors.true"), "autorange": "reversed", **ticks})
    return figure


def own_split(evaluated):
    """True when a model was scored on validation photos of its own (the seed recipe's), not the app's 143."""
    return evaluated.get("split", "fixed") != "fixed"


def iou_figure(evaluated, classes, language="en"):
    scores = [evaluated["per_class"][c]["iou"] or 0.0 for c in classes]
    figure = go.Figure(go.Bar(x=[say_class(language, c) for c in classes], y=scores, marker_color="#1f77b4",
                              text=[f"{v:.2f}" for v in scores], textposition="outside"))
    title = say(language, "errors.iou_title", miou=evaluated["miou"])
    if own_split(evaluated):
        title += "<br><sup>" + say(language, "errors.own_split_title", classes=len(classes)) + "</sup>"
    figure.update_layout(title=title, height=500,
                         yaxis={"range": [0, 1.08], "title": "IoU"}, xaxis_title=say(language, "dataset.class"),
                         margin={"t": 50})
    return figure


def ranking(evaluated):
    """Validation photos, worst mIoU first: (id, mIoU, pixel accuracy)."""
    rows = [(r["id"], r["miou"] if r["miou"] is not None else 0.0, r["pixel_accuracy"] or 0.0)
            for r in evaluated["per_image"]]
    return sorted(rows, key=lambda row: (row[1], row[0]))


def model_overview(registry, evaluated_by_model, name, language="en"):
    """Confusion matrix, per-class IoU, ranked table and photo choices for one model."""
    if name not in evaluated_by_model:
        raise gr.Error(say(language, "errors.unknown_model", name=str(name)[:40],
                           known=", ".join(evaluated_by_model) or "-"))
    evaluated, classes = evaluated_by_model[name], registry.get(name).config.classes
    ranked = ranking(evaluated)
    table = say_table(language, "errors.columns",
                      [[rank, image_id, round(miou, 3), round(accuracy, 3)]
                       for rank, (image_id, miou, accuracy) in enumerate(ranked, start=1)])
    choices = [(f"{image_id} · mIoU {miou:.2f}", image_id) for image_id, miou, _ in ranked]
    return (confusion_figure(evaluated, classes, language), iou_figure(evaluated, classes, language), table,
            gr.Dropdown(choices=choices, value=ranked[0][0]))


def inspect_photo(registry, view, name, image_id, language="en"):
    """Photo, truth, prediction and error map of one dataset photo for one model; the ``inspect`` API."""
    image_id = example_or_explain(view, image_id, language)
    if name not in registry.available():
        raise gr.Error(say(language, "errors.unknown_model", name=str(name)[:40], known=", ".join(registry.available()) or "-"))
    entry = registry.get(name)
    config = entry.config
    photo, truth = view.photo(image_id), view.truth(image_id, config.label_set)
    labels, _ = segment_or_explain(registry, name, photo, language).full_resolution()
    summary = metrics.score_labels(truth, labels, config.classes)
    wrong = float(np.mean(labels[truth >= 0] != truth[truth >= 0])) if np.any(truth >= 0) else 0.0
    app_split = say(language, f"dataset.{view.split_of(image_id)}")
    evaluated = entry.record(METRICS_FILE) or {}
    split = say(language, "errors.own_split" if own_split(evaluated) else "errors.app_split", split=app_split)
    caption = say(language, "errors.caption", image_id=image_id, split=split,
                  model=config.title, engine=say_engine(language, entry.segmenter.engine), accuracy=summary["pixel_accuracy"],
                  miou=summary["miou"], wrong=100 * wrong)
    return (save_image(photo, f"{image_id}-photo"),
            save_image(colorize(truth, config.colours), f"{image_id}-truth", lossless=True),
            save_image(overlay(photo, labels, config.colours, 0.75), f"{image_id}-{name}"),
            save_image(error_map(photo, truth, labels), f"{image_id}-{name}-errors"),
            caption)


def confused_photos(registry, confusions, name, true_class, predicted_class, language="en"):
    """The validation photos where ``true_class`` pixels are taken for ``predicted_class``, most such pixels first.

    A cell of the confusion matrix sums all photos; each photo's own matrix, stored when the model
    was evaluated (``confusions``: ``stored_confusions``), says which photos are behind it.
    """
    if name not in registry.available():
        raise gr.Error(say(language, "errors.unknown_model", name=str(name)[:40], known=", ".join(registry.available()) or "-"))
    classes = registry.get(name).config.classes
    if true_class not in classes or predicted_class not in classes:
        raise gr.Error(say(language, "errors.unknown_classes", known=", ".join(say_class(language, c) for c in classes)))
    if name not in confusions:
        raise gr.Error(say(language, "errors.no_confusions", name=name))
    ids, counts = confusions[name]
    true_index, predicted_index = classes.index(true_class), classes.index(predicted_class)
    confused, of_class = counts[:, true_index, predicted_index], counts[:, true_index, :].sum(axis=1)
    found = sorted(((ids[i], int(confused[i]), 100 * confused[i] / of_class[i]) for i in np.flatnonzero(confused)),
                   key=lambda row: (-row[1], row[0]))
    return say_table(language, "errors.confused_columns",
                     [[rank, image_id, pixels, round(float(share), 1)]
                      for rank, (image_id, pixels, share) in enumerate(found, start=1)])


def build(page: Page) -> Built:
    """The tab; the first model's errors are drawn when the page loads."""
    registry, view = page.registry, page.view
    evaluated_by_model = evaluated_models(registry)
    if not evaluated_by_model:
        gr.Markdown(t("errors.none"))
        return Built()
    gr.Markdown(t("errors.intro"))
    names = list(evaluated_by_model)
    model = gr.Dropdown([(model_label(registry.entries[n]), n) for n in names], value=names[0], label=t("model"))
    with gr.Row():
        confusion, per_class = gr.Plot(show_label=False), gr.Plot(show_label=False)
    classes = registry.get(names[0]).config.classes
    with gr.Accordion(t("errors.behind_a_cell"), open=False):
        with gr.Row():
            true_class = gr.Dropdown([(t(f"class.{c}"), c) for c in classes], value=classes[-2] if len(classes) > 1 else None,
                                     label=t("errors.true_class"))
            predicted_class = gr.Dropdown([(t(f"class.{c}"), c) for c in classes], value=classes[1] if len(classes) > 1 else None,
                                          label=t("errors.predicted_class"))
            find = gr.Button(t("errors.find"), variant="secondary")
        confused = score_table(t("errors.confused_photos"), max_height=300)
    with gr.Row():
        with gr.Column(scale=2):
            table = score_table(t("errors.ranking"), max_height=420)
        with gr.Column(scale=3):
            photo_id = gr.Dropdown([], label=t("errors.choose_photo"), filterable=True, allow_custom_value=True)
            if view is None:
                gr.Markdown(t("dataset.unavailable_page"))
            caption = gr.Markdown()
            with gr.Row():
                panels = [gr.Image(label=t(f"errors.{kind}"), type="filepath", interactive=False, height=200)
                          for kind in ("photo", "truth", "prediction", "errors")]

    def on_model(name, request: gr.Request):
        return model_overview(registry, evaluated_by_model, name, language_of(request))

    def on_photo(name, image_id, request: gr.Request):
        if not image_id:
            return [None] * 4 + [""]
        return inspect_photo(registry, view, name, image_id, language_of(request))

    def on_row(evt: gr.SelectData):
        return evt.row_value[1]

    confusions = stored_confusions(registry, evaluated_by_model)

    def on_find(name, true_name, predicted_name, request: gr.Request):
        return confused_photos(registry, confusions, name, true_name, predicted_name, language_of(request))

    def on_model_classes(name):
        names_of = [(t(f"class.{c}"), c) for c in registry.get(name).config.classes]
        return gr.Dropdown(choices=names_of, value=names_of[-2][1]), gr.Dropdown(choices=names_of, value=names_of[1][1])

    overview = [confusion, per_class, table, photo_id]
    model.change(on_model, model, overview, api_name="error_overview")
    model.change(on_model_classes, model, [true_class, predicted_class], api_name=False)
    find.click(on_find, [model, true_class, predicted_class], confused, api_name="confused_photos")
    confused.select(on_row, None, photo_id, api_name=False)
    photo_id.change(on_photo, [model, photo_id], [*panels, caption], api_name="inspect")
    table.select(on_row, None, photo_id, api_name=False)

    def draw(request: gr.Request = None):
        return model_overview(registry, evaluated_by_model, names[0], language_of(request))

    return Built().fill_on_load(draw, overview)
