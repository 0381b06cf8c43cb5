"""Dataset tab: any of the 715 photos beside its regions, surfaces and layers labels, and statistics.

The interactive version of the seed article's first figure: choose a photo by id, at random
or by the classes it contains; see which split it is in; send it to Predict, where its truth
is known.  Statistics charts show what the models learnt from.
"""
import random

import gradio as gr
import numpy as np
import plotly.graph_objects as go

from segdemo.data.labels import REGIONS, SURFACES
from segdemo.data.view import layer_colours
from segdemo.imaging import colorize
from segdemo.ui.common import legend_html, save_image, servable_copy
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_class, t

ID = "dataset"


def example_or_explain(view, image_id, language="en"):
    """The id as the dataset knows it, or a message naming what was asked for."""
    image_id = str(image_id or "").strip()
    if view is None:
        raise gr.Error(say(language, "dataset.unavailable"))
    if not view.has(image_id):
        raise gr.Error(say(language, "dataset.unknown_id", image_id=image_id[:40], count=len(view.ids)))
    return image_id


def shares_of(mask, classes):
    counts = np.bincount(mask[mask >= 0].reshape(-1), minlength=len(classes))
    total = max(int(counts.sum()), 1)
    return {name: counts[i] / total for i, name in enumerate(classes)}


def show_example(view, image_id, language="en"):
    """Photo, regions, surfaces and layers pictures, both legends and a caption; the ``dataset_example`` API."""
    image_id = example_or_explain(view, image_id, language)
    photo = view.photo(image_id)
    regions, surfaces, layers = view.truth(image_id, "regions"), view.truth(image_id, "surfaces"), view.layers(image_id)
    pictures = [
        save_image(photo, f"{image_id}-photo"),
        save_image(colorize(regions, REGIONS.colours), f"{image_id}-regions", lossless=True),
        save_image(colorize(surfaces, SURFACES.colours), f"{image_id}-surfaces", lossless=True),
        save_image(colorize(layers, layer_colours(int(layers.max()) + 1)), f"{image_id}-layers", lossless=True),
    ]
    caption = say(language, "dataset.caption", image_id=image_id, width=photo.shape[1], height=photo.shape[0],
                  split=say(language, f"dataset.{view.split_of(image_id)}"), layers=len(np.unique(layers[layers >= 0])),
                  unknown=100 * float(np.mean(regions < 0)),
                  classes=", ".join(say_class(language, c) for c in view.classes_present(image_id)))
    return (*pictures,
            legend_html(shares_of(regions, REGIONS.classes), REGIONS.classes, REGIONS.colours, language),
            legend_html(shares_of(surfaces, SURFACES.classes), SURFACES.classes, SURFACES.colours, language),
            caption)


def matching_ids(view, classes, split="all"):
    """Ids of the photos in ``split`` ("all", "training", "validation") containing every chosen class."""
    return [i for i in view.ids_with(classes or []) if split in ("all", None) or view.split_of(i) == split]


def statistics_figures(view, language="en"):
    """Pixel share per class (training vs validation), image sizes, and unknown share per photo."""
    stats = view.statistics()
    names = [say_class(language, c) for c in REGIONS.classes]
    shares = go.Figure([go.Bar(x=names, y=[100 * v for v in stats["class_shares"][split]],
                               name=say(language, f"dataset.{split}"))
                        for split in ("training", "validation")])
    shares.update_layout(title=say(language, "dataset.shares_title"), barmode="group", height=360,
                         yaxis_title=say(language, "dataset.percent_pixels"), xaxis_title=say(language, "dataset.class"),
                         margin={"t": 50})
    sizes = sorted(stats["sizes"].items(), key=lambda item: -item[1])
    size_figure = go.Figure(go.Scatter(
        x=[w for (w, _), _ in sizes], y=[h for (_, h), _ in sizes], mode="markers",
        marker={"size": [8 + 4 * np.log2(n) for _, n in sizes], "color": "#1f77b4", "opacity": 0.7},
        text=[say(language, "dataset.size_hover", width=w, height=h, count=n) for (w, h), n in sizes],
        hoverinfo="text"))
    size_figure.update_layout(title=say(language, "dataset.sizes_title", distinct=len(sizes)), height=360,
                              xaxis_title=say(language, "dataset.width"), yaxis_title=say(language, "dataset.height"),
                              margin={"t": 50})
    unknown = go.Figure(go.Histogram(x=[100 * v for v in stats["unknown_share"]], nbinsx=40, marker_color="#8c564b"))
    unknown.update_layout(title=say(language, "dataset.unknown_title"), height=360, bargap=0.05,
                          yaxis={"type": "log", "dtick": 1},  # ticks at 1, 10, 100 only: not "5 2 100 5 2 10"
                          xaxis_title=say(language, "dataset.percent_unknown"), yaxis_title=say(language, "dataset.photos"),
                          margin={"t": 50})
    return shares, size_figure, unknown


def build(page: Page) -> Built:
    """The tab: browse the photos and their three label sets, and send one to Predict."""
    view = page.view
    if view is None:
        gr.Markdown(t("dataset.unavailable_page"))
        return Built()
    gr.Markdown(t("dataset.intro"))
    first = view.ids[0]
    with gr.Row():
        with gr.Column(scale=3):
            classes = gr.CheckboxGroup([(t(f"class.{c}"), c) for c in REGIONS.classes], label=t("dataset.filter"))
            split = gr.Radio([(t(f"dataset.{s}"), s) for s in ("all", "training", "validation")], value="all",
                             label=t("dataset.split"))
        with gr.Column(scale=2):
            image_id = gr.Dropdown(view.ids, value=first, label=t("dataset.photo_id"), filterable=True,
                                   allow_custom_value=True)  # a typed id gets segdemo's own message
            found = gr.Markdown()
            with gr.Row():
                pick = gr.Button(t("dataset.random"))
                send = gr.Button(t("dataset.send"), variant="primary")
    caption = gr.Markdown()
    with gr.Row(equal_height=True):
        pictures = [gr.Image(label=t(f"dataset.{kind}"), type="filepath", interactive=False, height=260)
                    for kind in ("photo", "regions", "surfaces", "layers")]
    with gr.Row():
        regions_legend, surfaces_legend = gr.HTML(), gr.HTML()
    with gr.Accordion(t("dataset.statistics"), open=True):
        with gr.Row():
            charts = [gr.Plot(show_label=False) for _ in range(3)]

    def on_show(chosen, request: gr.Request):
        return show_example(view, chosen, language_of(request))

    def on_filter(chosen_classes, chosen_split, request: gr.Request):
        options = matching_ids(view, chosen_classes, chosen_split)
        language = language_of(request)
        count = say(language, "dataset.found", count=len(options), total=len(view.ids))
        if not options:  # keep showing the last photo rather than asking for photo ""
            return gr.Dropdown(choices=[]), count + " " + say(language, "dataset.none_found")
        return gr.Dropdown(choices=options, value=options[0]), count

    def on_random(chosen_classes, chosen_split):
        options = matching_ids(view, chosen_classes, chosen_split)
        return random.choice(options) if options else None

    outputs = [*pictures, regions_legend, surfaces_legend, caption]
    image_id.change(on_show, image_id, outputs, api_name="dataset_example")
    for control in (classes, split):
        control.change(on_filter, [classes, split], [image_id, found], api_name=False)
    pick.click(on_random, [classes, split], image_id, api_name=False)

    def draw(request: gr.Request = None):
        language = language_of(request)
        return (*statistics_figures(view, language), *show_example(view, first, language))

    photo, segment_after = page.handle("predict", "photo"), page.handle("predict", "segment_after")
    if photo is not None:
        def send_to_predict(chosen):
            return servable_copy(view.photo_path(chosen)), gr.Tabs(selected="predict")

        segment_after(send.click(send_to_predict, image_id, [photo, page.tabs], api_name=False))
    return Built().fill_on_load(draw, [*charts, *outputs])
