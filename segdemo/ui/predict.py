"""Predict tab: one photo through one model, as a before/after slider, hoverable classes,
confidence, a mask file and, for a photo whose truth is known, the truth and an error map."""
import time
from pathlib import Path
from typing import NamedTuple

import cv2

import gradio as gr
import numpy as np
from gradio.components.annotated_image import AnnotatedImageData, Annotation
from gradio.data_classes import FileData

from segdemo.imaging import colorize, error_map, heatmap, overlay
from segdemo.networks import metrics
from segdemo.serving.inference import class_shares
from segdemo.ui.capacity import SEGMENTING, WAITING_LIMIT
from segdemo.ui.common import (DISPLAY_SIDE, examples_gallery, hex_colour, known_truth, legend_html, model_choices,
                               no_model_notice, photo_input, photo_or_explain, save_highlight, save_image,
                               segment_or_explain, shown_labels, shown_photo)
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import TEXT, language_of, say, say_class, say_message, t

ID = "predict"
# a projector shows the model above the photo; a phone shows its upload box first and the model after the examples
CSS = """
@media (max-width: 640px) { #predict-choice { order: 10; } }
"""

SESSION_MINUTES = 30  # how long a student's last answer is kept for the opacity slider, the classes and the mask file


def class_colour_map(registry):
    """Every class name, in every language, to its colour: gr.AnnotatedImage would pick its own."""
    return {say_class(language, name): hex_colour(colour)
            for entry in registry.entries.values() if entry.available
            for name, colour in zip(entry.config.classes, entry.config.colours) for language in TEXT}


class ClassView(gr.AnnotatedImage):
    """gr.AnnotatedImage given its picture and one coloured PNG per class as files already written.

    gr.AnnotatedImage itself decodes the picture again, builds each class's mask in float64
    and PNG-encodes it at the slowest setting: several times the cost of the network.
    """

    is_template = True  # drawn by the browser exactly like gr.AnnotatedImage

    def postprocess(self, value):
        if value is None:
            return None
        picture, masks = value
        return AnnotatedImageData(image=FileData(path=picture),
                                  annotations=[Annotation(image=FileData(path=mask), label=label) for mask, label in masks])


class Answered(NamedTuple):
    """The last answer, kept in the session in tens of kilobytes rather than megabytes: enough to redraw
    its pictures exactly as they were.

    Not the photo nor the probabilities (for an 800x600 photo 1.4 and 3.5 MB, held for 30 minutes
    by every visitor): the opacity slider decodes the upload again as the answer did, and the mask
    file, asked for by few, runs the network on it again; both give what the answer gave.
    """

    source: str  # the upload, in Gradio's cache (which keeps it longer than the session)
    model: str
    least: tuple  # (height, width) the photo was decoded to at least: the model's input
    photo_file: str  # the photo as shown, already written
    labels_png: bytes  # the labels at the size shown (uint8), as a lossless PNG
    classes: tuple
    colours: tuple

    @property
    def labels(self):
        return cv2.imdecode(np.frombuffer(self.labels_png, np.uint8), cv2.IMREAD_UNCHANGED)


def packed_labels(labels):
    """Labels as a PNG in memory: a class map's flat regions shrink it a hundredfold."""
    return cv2.imencode(".png", np.asarray(labels, np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes()


def source_or_explain(answered, language):
    """The answer's upload, or a message when there is no answer or its file has left the cache."""
    if answered is None:
        raise gr.Error(say(language, "predict.segment_first"))
    if not Path(answered.source).is_file():
        raise gr.Error(say(language, "predict.segment_again"))
    return answered.source


def class_view(answered, language):
    """(picture file, [(mask file, class name)]) of the last answer for ``ClassView``, at the size shown: classes
    covering at least 0.1% of the photo, largest first (their shares are in the legend); each mask
    is the class's colour where it is and transparent elsewhere, as gr.AnnotatedImage draws them.

    Made only while the view is open: six or so pictures of their own, each written and fetched,
    which a student sees only after opening it.
    """
    classes, labels = answered.classes, answered.labels
    shares = class_shares(labels, classes)
    present = [i for i in np.argsort([-shares[c] for c in classes]) if shares[classes[i]] >= 0.001]
    return answered.photo_file, [(save_highlight(labels == i, answered.colours[i], "class"), say_class(language, classes[i]))
                                 for i in present]


def truth_outputs(answer, labels, truth, config):
    """Truth picture, error map and scores when the truth is known and fits, else Nones.

    Scored at the photo's own resolution: ``labels`` (shown size) are those when the photo is no
    larger than the page shows it, as every dataset photo is (and so is decoded whole).
    """
    if truth is None or truth.shape != answer.image.shape[:2]:
        return None, None, None
    if labels.shape != truth.shape:
        labels, _ = answer.full_resolution()
    summary = metrics.score_labels(truth, labels, config.classes)
    scores = {"pixel_accuracy": round(summary["pixel_accuracy"], 4), "miou": round(summary["miou"], 4)}
    return (save_image(colorize(truth, config.colours), "truth", lossless=True),
            save_image(error_map(answer.image, truth, labels), "errors"), scores)


def predict(registry, image, model_name, opacity=0.55, language="en", view=None):
    """Everything the Predict tab shows for one photo, also served as the ``predict`` API.

    Pictures are drawn at the size the page shows them.  The last value (``Answered``, kept in
    the session, not part of the API) lets the opacity slider redraw the overlay and ``class_view``
    draw the classes without running the network again, and ``mask_file`` make the
    full-resolution mask when it is asked for.
    """
    started = time.perf_counter()
    answer = segment_or_explain(registry, model_name, image, language, DISPLAY_SIDE)
    entry = registry.get(model_name)
    config = entry.config
    photo, (labels, confidence) = shown_photo(answer.image, answer.photo_size), shown_labels(answer)
    shares = class_shares(labels, config.classes)
    truth, errors, scores = truth_outputs(answer, labels, known_truth(view, image, config.label_set), config)
    height, width = answer.photo_size
    answered = Answered(str(image), model_name, entry.segmenter.size, save_image(photo, "photo"), packed_labels(labels),
                        config.classes, config.colours)
    outputs = (
        overlay_pair(answered.photo_file, photo, labels, config.colours, opacity),
        save_image(heatmap(confidence), "confidence"),
        legend_html(shares, config.classes, config.colours, language),
        truth,
        errors,
        say(language, "predict.scores", **scores) if scores else say(language, "predict.no_truth"),
    )
    timings = {**answer.timings, "total_ms": 1000 * (time.perf_counter() - started)}
    details = {
        "model": model_name,
        "engine": entry.segmenter.engine,
        "size": [int(width), int(height)],
        "shown_at": [int(labels.shape[1]), int(labels.shape[0])],
        "class_shares": shares,
        "mean_confidence": float(confidence.mean()),
        "scores_against_truth": scores,
        "timings_ms": {key: round(value, 1) for key, value in timings.items()},
        "notes": [say_message(language, note) for note in answer.notes],
    }
    return (*outputs, details, answered)


def mask_file(registry, answered, language="en"):
    """The mask of the last answer as a PNG at the photo's own size (grey level = class index).

    Made when asked for: most students never download it, and a 12-megapixel PNG costs more
    than the rest of the answer.  The network runs on the upload again, as the answer ran it, so
    the session need not hold the probabilities.
    """
    source = source_or_explain(answered, language)
    labels, _ = segment_or_explain(registry, answered.model, source, language, DISPLAY_SIDE).full_resolution()
    return save_image(labels.astype(np.uint8), f"{answered.model}-mask", lossless=True)


def overlay_pair(photo_file, photo, labels, colours, opacity):
    """(photo, photo with mask) files for the before/after slider."""
    return photo_file, save_image(overlay(photo, labels, colours, float(opacity)), "overlay")


def redraw(answered, opacity, language="en"):
    """The slider's pair at a new opacity, the photo decoded again as the answer decoded it."""
    if answered is None:
        return None
    photo = photo_or_explain(source_or_explain(answered, language), language, DISPLAY_SIDE, answered.least)
    return overlay_pair(answered.photo_file, shown_photo(photo.image, photo.size), answered.labels, answered.colours, opacity)


def build(page: Page) -> Built:
    """The tab; lends its photo box and ``segment_after(event)``, so another tab can send a
    photo here and have it segmented at once, and its model list and label set (the Train tab adds class runs)."""
    registry, capacity, view = page.registry, page.capacity, page.view
    label_sets = registry.label_sets()
    default_set = "regions" if "regions" in label_sets else (label_sets[0] if label_sets else None)

    missing = no_model_notice(registry)
    with gr.Row():
        with gr.Column():
            # projector first (1366x768): the model, the photo, Segment and the examples on the first screen
            # beside the answer
            with gr.Row(elem_id="predict-choice"):
                first = model_choices(registry, default_set)
                model = gr.Dropdown(first, value=registry.best(default_set), label=t("model"), min_width=240, scale=2,
                                    allow_custom_value=True)  # the API may name a model of the other label set
                label_set = gr.Radio([(t(f"label_set.{name}"), name) for name in label_sets], value=default_set,
                                     label=t("label_set"), min_width=320, scale=3)  # both choices on one line
            photo = photo_input(t("photo"), height=170)
            run = gr.Button(t("segment"), variant="primary", interactive=not missing, elem_id="predict-segment")
            examples_gallery(photo)
        with gr.Column(elem_id="predict-result"):
            # fixed heights: a portrait photo would otherwise make each picture (and the page) very tall
            shown = gr.ImageSlider(label=t("overlay"), type="filepath", interactive=False, max_height=400,
                                   elem_id="predict-overlay")
            opacity = gr.Slider(0.0, 1.0, value=0.55, step=0.05, label=t("opacity"))  # under what it changes
            legend = gr.HTML(label=t("legend"))
            confidence = gr.Image(label=t("confidence"), type="filepath", interactive=False, height=260)
            make_mask = gr.Button(t("predict.make_mask"), size="sm")
            mask = gr.File(label=t("download"), visible=False)  # shown once made: not an empty box until then
    verdict = gr.Markdown()
    with gr.Row():
        truth = gr.Image(label=t("predict.truth"), type="filepath", interactive=False, height=260, visible=False)
        errors = gr.Image(label=t("predict.errors"), type="filepath", interactive=False, height=260, visible=False)
    with gr.Accordion(t("predict.hover"), open=False, elem_id="predict-classes") as class_box:
        classes = ClassView(show_label=False, show_legend=True, color_map=class_colour_map(registry), height=420)
    with gr.Accordion(t("details"), open=False):
        details = gr.JSON()
    answered = gr.State(time_to_live=60 * SESSION_MINUTES)
    classes_open = gr.State(False)

    def on_label_set(chosen, request: gr.Request):
        return gr.Dropdown(choices=model_choices(registry, chosen, language_of(request)), value=registry.best(chosen))

    label_set.change(on_label_set, label_set, model, api_name=False)

    def on_segment(image, name, alpha, request: gr.Request):
        language = language_of(request)
        with capacity.turn(language):
            return predict(registry, image, name, alpha, language, view)

    def after_answer(truth_file, last, showing_classes, request: gr.Request):
        """Truth and error map only for a photo whose truth is known (no empty boxes otherwise);
        the classes again if their view is open."""
        shown_classes = class_view(last, language_of(request)) if showing_classes and last else gr.skip()
        return gr.Image(visible=bool(truth_file)), gr.Image(visible=bool(truth_file)), shown_classes

    def on_open_classes(last, request: gr.Request):
        return (class_view(last, language_of(request)) if last else None), True

    inputs = [photo, model, opacity]
    outputs = [shown, confidence, legend, truth, errors, verdict, details, answered]
    follow_up = dict(fn=after_answer, inputs=[truth, answered, classes_open], outputs=[truth, errors, classes],
                     api_name=False, show_progress="hidden")
    run.click(on_segment, inputs, outputs, api_name="predict", concurrency_id=SEGMENTING,
              concurrency_limit=WAITING_LIMIT).then(**follow_up)
    run.click(lambda: gr.File(None, visible=False), None, mask, api_name=False, queue=False)  # the previous photo's mask goes
    # on a phone the results are below the inputs: go there at once, where the progress shows
    run.click(None, js="() => { if (window.innerWidth < 700) document.getElementById('predict-result')"
                       "?.scrollIntoView({behavior: 'smooth'}); }")

    def on_make_mask(last, request: gr.Request):
        language = language_of(request)
        with capacity.turn(language):
            return mask_file(registry, last, language)

    def on_opacity(last, alpha, request: gr.Request):
        return redraw(last, alpha, language_of(request))

    make_mask.click(on_make_mask, answered, mask, api_name="mask", concurrency_id=SEGMENTING,
                    concurrency_limit=WAITING_LIMIT).success(lambda: gr.File(visible=True), None, mask, api_name=False,
                                                              queue=False)
    class_box.expand(on_open_classes, answered, [classes, classes_open], api_name="classes")
    class_box.collapse(lambda: False, None, classes_open, api_name=False, queue=False)
    opacity.release(on_opacity, [answered, opacity], shown, api_name=False, show_progress="hidden")

    def segment_after(event):
        return event.then(on_segment, inputs, outputs, api_name=False, concurrency_id=SEGMENTING,
                          concurrency_limit=WAITING_LIMIT).then(**follow_up)

    return Built(handles={"photo": photo, "segment_after": segment_after, "model": model, "label_set": label_set})
