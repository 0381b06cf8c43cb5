"""Predict tab: one photo through one model, shown as overlay, legend, confidence and a mask file."""
import gradio as gr
import numpy as np

from segdemo.imaging import heatmap, overlay
from segdemo.ui.common import (examples_gallery, legend_html, model_label, no_model_notice, photo_input, preview,
                               save_image, segment_or_explain)
from segdemo.ui.text import language_of, say_message, t


def predict(registry, image, model_name, opacity=0.55, language="en"):
    """Everything the Predict tab shows for one photo, also served as the ``predict`` API.

    The last value (kept in the session, not part of the API) lets the opacity slider
    redraw the overlay without running the network again.
    """
    result = segment_or_explain(registry, model_name, image, language)
    config = registry.get(model_name).config
    shares = result.class_shares(config.classes)
    details = {
        "model": model_name,
        "size": [int(result.labels.shape[1]), int(result.labels.shape[0])],
        "class_shares": shares,
        "mean_confidence": float(result.confidence.mean()),
        "timings_ms": {key: round(value, 1) for key, value in result.timings.items()},
        "notes": [say_message(language, note) for note in result.notes],
    }
    photo, labels, confidence = preview(result)
    drawn = (photo, labels, config.colours)
    return (
        redraw(drawn, opacity),
        save_image(heatmap(confidence), "confidence"),
        legend_html(shares, config.classes, config.colours, language),
        save_image(result.labels.astype(np.uint8), f"{model_name}-mask", lossless=True),
        details,
        drawn,
    )


def redraw(drawn, opacity):
    """The overlay file for a (photo, labels, colours) already segmented, at a new opacity."""
    if drawn is None:
        return None
    photo, labels, colours = drawn
    return save_image(overlay(photo, labels, colours, float(opacity)), "overlay")


def build(registry):
    label_sets = registry.label_sets()
    default_set = "regions" if "regions" in label_sets else (label_sets[0] if label_sets else None)

    def choices(label_set):
        return [(model_label(registry.entries[n]), n) for n in registry.available(label_set)]

    missing = no_model_notice(registry)
    with gr.Row():
        with gr.Column():
            photo = photo_input(t("photo"))
            with gr.Row():
                label_set = gr.Radio(label_sets, value=default_set, label=t("label_set"))
                first = choices(default_set)
                model = gr.Dropdown(first, value=first[0][1] if first else None, label=t("model"))
            opacity = gr.Slider(0.0, 1.0, value=0.55, step=0.05, label=t("opacity"))
            run = gr.Button(t("segment"), variant="primary", interactive=not missing)
            examples_gallery(photo)
        with gr.Column():
            shown = gr.Image(label=t("overlay"), type="filepath", interactive=False)
            legend = gr.HTML(label=t("legend"))
            confidence = gr.Image(label=t("confidence"), type="filepath", interactive=False)
            mask = gr.File(label=t("download"))
            with gr.Accordion(t("details"), open=False):
                details = gr.JSON()
    drawn = gr.State()

    def on_label_set(chosen):
        options = choices(chosen)
        return gr.Dropdown(choices=options, value=options[0][1] if options else None)

    label_set.change(on_label_set, label_set, model, api_name=False)

    def on_segment(image, name, alpha, request: gr.Request):
        return predict(registry, image, name, alpha, language_of(request))

    run.click(
        on_segment,
        [photo, model, opacity],
        [shown, confidence, legend, mask, details, drawn],
        api_name="predict",
    )
    opacity.release(redraw, [drawn, opacity], shown, api_name=False, show_progress="hidden")
