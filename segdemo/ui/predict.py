"""Predict tab: one photo through one model, as a before/after slider, hoverable classes,
confidence, a mask file and, for a photo whose truth is known, the truth and an error map."""
import gradio as gr
import numpy as np

from segdemo import metrics
from segdemo.imaging import colorize, error_map, fit_within, heatmap, overlay
from segdemo.ui.common import (examples_gallery, known_truth, legend_html, model_label, no_model_notice, photo_input,
                               preview, save_image, segment_or_explain)
from segdemo.ui.text import TEXT, language_of, say, say_class, say_message, t

ANNOTATION_SIDE = 800  # the hover-to-highlight view sends one mask per class: keep them light
STAMP_PIXELS = 16


def hex_colour(rgb):
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def class_colour_map(registry):
    """Every class name, in every language, to its colour: gr.AnnotatedImage would pick its own."""
    return {say_class(language, name): hex_colour(colour)
            for entry in registry.entries.values() if entry.available
            for name, colour in zip(entry.config.classes, entry.config.colours) for language in TEXT}


def stamped(mask, rng):
    """``mask`` with its first 16 pixels set to 0 or 1/255 at random: invisible, but unique.

    Gradio caches mask arrays under the hash of their bytes and rewrites the file in place, so
    two requests for the same photo at once could serve each other a half-written file (seen
    in the 8-client load test); a mask unique to its request gets a file of its own.
    """
    mask[0, :STAMP_PIXELS] = rng.integers(0, 2, min(STAMP_PIXELS, mask.shape[1])) / 255.0
    return mask


def class_annotations(photo, labels, classes, shares, language):
    """(photo file, [(mask, class name)]) for gr.AnnotatedImage: classes covering at least 0.1% of
    the photo, largest first (their shares are in the legend)."""
    photo = fit_within(photo, ANNOTATION_SIDE)
    labels = fit_within(labels.astype(np.uint8), ANNOTATION_SIDE, nearest=True)
    present = [i for i in np.argsort([-shares[c] for c in classes]) if shares[classes[i]] >= 0.001]
    rng = np.random.default_rng()
    return save_image(photo, "classes"), [(stamped((labels == i).astype(np.float32), rng), say_class(language, classes[i]))
                                          for i in present]


def truth_outputs(photo, labels, truth, config, language):
    """Truth picture, error map and scores when the truth is known and fits, else Nones."""
    if truth is None or truth.shape != labels.shape:
        return None, None, None
    summary = metrics.score_labels(truth, labels, config.classes)
    scores = {"pixel_accuracy": round(summary["pixel_accuracy"], 4), "miou": round(summary["miou"], 4)}
    return (save_image(colorize(truth, config.colours), "truth", lossless=True),
            save_image(error_map(photo, truth, labels), "errors"), scores)


def predict(registry, image, model_name, opacity=0.55, language="en", view=None):
    """Everything the Predict tab shows for one photo, also served as the ``predict`` API.

    The last value (kept in the session, not part of the API) lets the opacity slider
    redraw the overlay without running the network again.
    """
    result = segment_or_explain(registry, model_name, image, language)
    config = registry.get(model_name).config
    shares = result.class_shares(config.classes)
    truth, errors, scores = truth_outputs(result.image, result.labels, known_truth(view, image, config.label_set),
                                          config, language)
    details = {
        "model": model_name,
        "engine": registry.get(model_name).segmenter.engine,
        "size": [int(result.labels.shape[1]), int(result.labels.shape[0])],
        "class_shares": shares,
        "mean_confidence": float(result.confidence.mean()),
        "scores_against_truth": scores,
        "timings_ms": {key: round(value, 1) for key, value in result.timings.items()},
        "notes": [say_message(language, note) for note in result.notes],
    }
    photo, labels, confidence = preview(result)
    drawn = (photo, labels, config.colours)
    return (
        redraw(drawn, opacity),
        class_annotations(result.image, result.labels, config.classes, shares, language),
        save_image(heatmap(confidence), "confidence"),
        legend_html(shares, config.classes, config.colours, language),
        save_image(result.labels.astype(np.uint8), f"{model_name}-mask", lossless=True),
        truth,
        errors,
        say(language, "predict.scores", **scores) if scores else say(language, "predict.no_truth"),
        details,
        drawn,
    )


def redraw(drawn, opacity):
    """(photo, photo with mask) files for the before/after slider, at a new opacity."""
    if drawn is None:
        return None
    photo, labels, colours = drawn
    return save_image(photo, "photo"), save_image(overlay(photo, labels, colours, float(opacity)), "overlay")


def build(registry, view=None):
    """The tab; returns its photo input and ``segment_after(event)``, so another tab can send a
    photo here and have it segmented at once."""
    label_sets = registry.label_sets()
    default_set = "regions" if "regions" in label_sets else (label_sets[0] if label_sets else None)

    def choices(label_set):
        return [(model_label(registry.entries[n]), n) for n in registry.available(label_set)]

    missing = no_model_notice(registry)
    with gr.Row():
        with gr.Column():
            photo = photo_input(t("photo"))
            with gr.Row():
                label_set = gr.Radio([(t(f"label_set.{name}"), name) for name in label_sets], value=default_set,
                                     label=t("label_set"), min_width=180)
                first = choices(default_set)
                model = gr.Dropdown(first, value=first[0][1] if first else None, label=t("model"), min_width=240,
                                    allow_custom_value=True)  # the API may name a model of the other label set
            opacity = gr.Slider(0.0, 1.0, value=0.55, step=0.05, label=t("opacity"))
            run = gr.Button(t("segment"), variant="primary", interactive=not missing)
            examples_gallery(photo)
        with gr.Column(elem_id="predict-result"):
            # fixed heights: a portrait photo would otherwise make each picture (and the page) very tall
            shown = gr.ImageSlider(label=t("overlay"), type="filepath", interactive=False, max_height=440)
            legend = gr.HTML(label=t("legend"))
            confidence = gr.Image(label=t("confidence"), type="filepath", interactive=False, height=260)
            mask = gr.File(label=t("download"))
    with gr.Row():
        classes = gr.AnnotatedImage(label=t("predict.hover"), show_legend=True, color_map=class_colour_map(registry),
                                    height=420)
        with gr.Column():
            verdict = gr.Markdown()
            with gr.Row():
                truth = gr.Image(label=t("predict.truth"), type="filepath", interactive=False, height=260, visible=False)
                errors = gr.Image(label=t("predict.errors"), type="filepath", interactive=False, height=260, visible=False)
    with gr.Accordion(t("details"), open=False):
        details = gr.JSON()
    drawn = gr.State()

    def on_label_set(chosen):
        options = choices(chosen)
        return gr.Dropdown(choices=options, value=options[0][1] if options else None)

    label_set.change(on_label_set, label_set, model, api_name=False)

    def on_segment(image, name, alpha, request: gr.Request):
        return predict(registry, image, name, alpha, language_of(request), view)

    def show_truth_panels(truth_file):
        """Truth and error map only for a photo whose truth is known: no empty boxes otherwise."""
        return gr.Image(visible=bool(truth_file)), gr.Image(visible=bool(truth_file))

    inputs, outputs = [photo, model, opacity], [shown, classes, confidence, legend, mask, truth, errors, verdict, details, drawn]
    run.click(on_segment, inputs, outputs, api_name="predict").then(
        show_truth_panels, truth, [truth, errors], api_name=False, show_progress="hidden")
    # on a phone the results are below the inputs: go there at once, where the progress shows
    run.click(None, js="() => { if (window.innerWidth < 700) document.getElementById('predict-result')"
                       "?.scrollIntoView({behavior: 'smooth'}); }")
    opacity.release(redraw, [drawn, opacity], shown, api_name=False, show_progress="hidden")

    def segment_after(event):
        return event.then(on_segment, inputs, outputs, api_name=False).then(
            show_truth_panels, truth, [truth, errors], api_name=False, show_progress="hidden")

    return photo, segment_after
