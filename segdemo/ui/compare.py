"""Compare tab: one photo through several models, with timings, sizes and where they disagree."""
import functools
import json
from concurrent.futures import ThreadPoolExecutor

import cv2
import gradio as gr
import numpy as np

from segdemo.imaging import faded, overlay
from segdemo.networks import metrics
from segdemo.networks.hardware import available_cores
from segdemo.networks.models import ARCH_TITLES, BACKBONE_TITLES
from segdemo.ui.capacity import SEGMENTING, WAITING_LIMIT
from segdemo.ui.common import (CAPTIONS_BELOW, DISPLAY_SIDE, PHONE_LATER, PHONE_STACK, PHONE_UNWRAP,
                               examples_gallery, input_size, known_truth, legend_html, millions, model_label,
                               model_title, no_model_notice, own_label, photo_input, photo_or_explain, save_image,
                               score_table, segment_or_explain, shown_labels, shown_photo)
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_columns, say_engine, say_message, say_table, t

ID = "compare"
CSS = """  /* one row of 4:3 pictures (the dataset's shape) without the gallery's empty fixed height, two per row on a phone */
#compare-gallery .grid-wrap { min-height: 0; max-height: none; }
/* each picture in the photo's own shape, a portrait photo's tall: decided in the browser (returning the gallery
   with a class for it had made Gradio rebuild the component's configuration on every answer) */
#compare-gallery.segdemo-captions-below .thumbnail-item > img { aspect-ratio: auto; }
/* a clicked result opens large (the gallery's own preview kept the thumbnails' row height) */
#compare-gallery .gallery-container:has(> .preview) { height: min(72vh, 560px); }
#compare-gallery .preview { height: 100%; }
@media (max-width: 640px) {
  #compare-gallery .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  #compare-keys-row { flex-direction: column; }
}
"""


def disagreement(label_maps):
    """Per pixel, the number of distinct answers beyond the first (0 = all agree): each model's answer
    counts when no model before it gave it (ten comparisons for five models, a tenth of a per-pixel sort's time)."""
    counts = np.zeros(np.shape(label_maps[0]), np.int32)
    for index, labels in enumerate(label_maps[1:], start=1):
        new = np.ones(counts.shape, bool)
        for earlier in label_maps[:index]:
            new &= labels != earlier
        counts += new
    return counts


# the disagreement map's colours: where every model agrees, the photo pale and grey (nothing to look at);
# where they part, one clearly different hue per count of answers, 2 to 7 and more (viridis's first shades,
# dark purple and dark blue, were hard to tell apart on a projector)
AGREE_GREY = (200, 200, 200)
DISAGREE_COLOURS = ((255, 215, 0), (255, 125, 0), (225, 30, 30), (200, 0, 150), (110, 30, 170), (20, 20, 90))


def disagreement_colour(count):
    """The colour of a pixel with ``count`` distinct answers beyond the first (> 0); the last for any more."""
    return DISAGREE_COLOURS[min(count, len(DISAGREE_COLOURS)) - 1]


def disagreement_picture(picture, spread):
    """The shown photo, pale grey where the models agree, each count of answers in its own solid colour."""
    grey = cv2.cvtColor(cv2.cvtColor(np.asarray(picture, np.uint8), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    drawn = faded(grey, keep=0.35)
    colours = np.array([AGREE_GREY, *DISAGREE_COLOURS], np.uint8)[np.minimum(spread, len(DISAGREE_COLOURS))]
    return np.where((spread > 0)[..., None], colours, drawn)


def largest_input(registry, names):
    """(height, width) covering the network input of every named model: the photo is decoded once for all."""
    sizes = [registry.get(name).segmenter.size for name in names if name in registry.available()]
    return max((height for height, _ in sizes), default=0), max((width for _, width in sizes), default=0)


def compared_model(registry, name, photo, picture, truth_of, language):
    """One model's part of a comparison: (overlay file and caption, table row, (label set, labels shown)).

    Its time is the network's own: the models run side by side, so the time from start to labels
    would also count the other model's share of the CPU.
    """
    answer = segment_or_explain(registry, name, photo, language)
    labels, _ = shown_labels(answer)
    entry = registry.get(name)
    config = entry.config
    truth = truth_of(config.label_set)
    scores = ["", ""]
    if truth is not None and truth.shape == answer.photo_size:
        full = labels if labels.shape == truth.shape else answer.full_resolution()[0]
        summary = metrics.score_labels(truth, full, config.classes)
        scores = [round(summary["pixel_accuracy"], 4), round(summary["miou"], 4)]
    milliseconds = answer.timings["network_ms"]
    shown = (save_image(overlay(picture, labels, config.colours), name),  # the input size sets the time
             f"{model_title(entry, language)}, {input_size(config)}: {milliseconds:.0f} ms")
    # what a class compares first (a phone shows these without scrolling the table), then what explains it
    row = [own_label(entry, language) or name, round(milliseconds, 1), *scores, len(config.classes), input_size(config),
           millions(entry.segmenter.parameter_count), say_engine(language, entry.segmenter.engine), config.title]
    return shown, row, (config.label_set, labels)


def compare(registry, image, model_names, language="en", view=None):
    """Overlays, a disagreement map, a table, a note and the colour keys for ``model_names``; the ``compare`` API.

    The models run side by side, one per core: each exported network runs on one core (so a class's
    photos go through at once), and one after another four of them took 0.8 s on two cores.
    """
    if not model_names:
        raise gr.Error(say(language, "error.choose_models"))
    photo = photo_or_explain(image, language, DISPLAY_SIDE, largest_input(registry, model_names))  # once for all models
    picture = shown_photo(photo.image, photo.size)
    truth_of = functools.lru_cache(lambda label_set: known_truth(view, image, label_set))
    with ThreadPoolExecutor(max_workers=min(len(model_names), available_cores())) as pool:
        results = list(pool.map(lambda name: compared_model(registry, name, photo, picture, truth_of, language), model_names))
    gallery, rows, same_set = [], [], {}
    for shown, row, (label_set, labels) in results:
        gallery.append(shown)
        rows.append(row)
        same_set.setdefault(label_set, []).append(labels)
    label_set, maps = max(same_set.items(), key=lambda item: len(item[1]))
    for row, (_, _, (own_set, _)) in zip(rows, results):  # marked in its own row: its scores had looked the best
        if own_set != label_set:
            row[0] = say(language, "compare.not_comparable_row", name=row[0])
    spread = disagreement(maps)
    note = [say(language, "compare.disagreement", count=len(maps), label_set=say(language, f"label_set.{label_set}"),
                share=100 * np.mean(spread > 0))]
    if len(same_set) > 1:
        note.append(say(language, "compare.label_sets"))
    if not any(row[2] != "" for row in rows):
        note.append(say(language, "compare.no_scores"))
    note.append(say(language, "compare.times_note"))  # one run's times: honest only with how much they vary
    if photo.notes:
        note.append(say(language, "compare.notes", notes="; ".join(say_message(language, n) for n in photo.notes)))
    table = say_table(language, "compare.columns", rows)
    spread_picture = save_image(disagreement_picture(picture, spread), "disagreement", lossless=True)  # exact colours
    return gallery, spread_picture, table, " ".join(note), colour_keys(registry, language, len(maps))


def most_answers(registry):
    """The most distinct answers a pixel can get: the models of the largest label set. The map and
    its key share one colour per count, so a colour means the same count however many models were ticked."""
    return max((len(registry.available(s)) for s in registry.label_sets()), default=1)


def colour_keys(registry, language="en", compared=None):
    """What the colours mean: each label set's classes, and the disagreement map's shades; after a
    comparison of ``compared`` models, only the counts of answers those can give."""
    keys = []
    for label_set in registry.label_sets():
        config = registry.get(registry.available(label_set)[0]).config
        keys.append(f"<p><b>{say(language, f'label_set.{label_set}')}</b></p>"
                    + legend_html(None, config.classes, config.colours, language))
    models = most_answers(registry)
    reachable = min(compared or models, models, len(DISAGREE_COLOURS) + 1)  # the last colour holds any more
    words = [say(language, "compare.all_agree")] + [
        say(language, "compare.answers_more" if n == len(DISAGREE_COLOURS) < models - 1 else "compare.answers", count=n + 1)
        for n in range(1, reachable)]
    colours = [AGREE_GREY] + [disagreement_colour(n) for n in range(1, reachable)]
    keys.append(f"<p><b>{say(language, 'disagreement_key')}</b></p>"
                + legend_html(None, words, colours, language, translate=False))
    return "<div class='segdemo-keys'>" + "".join(f"<div>{key}</div>" for key in keys) + "</div>"


def quick_choices(registry):
    """Ready-made selections: the default set (the decoders on one encoder), and each decoder
    on its encoders ("same decoder, two encoders"), as (Radio choices, {choice: model names})."""
    choices, chosen = [(t("compare.quick_decoders"), "decoders")], {"decoders": registry.default_set()}
    for (arch, label_set), runs in registry.same_decoder_on_several_encoders():
        key = f"{arch}-{label_set}"
        choices.append((f"{ARCH_TITLES.get(arch, arch)}: " + " / ".join(BACKBONE_TITLES.get(b, b) for b, _ in runs), key))
        chosen[key] = [name for _, name in runs]
    return choices, chosen


def build(page: Page) -> Built:
    """The tab; its score table and colour keys are filled in the browser's language on page load.

    Laid out for a projector: the results beside the photo, high enough to be seen without
    scrolling at 1366x768, with what their colours mean next to them.
    """
    registry, capacity, view = page.registry, page.capacity, page.view
    choices = [(model_label(registry.entries[n]), n) for n in registry.available()]
    missing = no_model_notice(registry)
    # on a phone (ui.common.PHONE_STACK): the photo, the button, the examples, then the results; the ready-made
    # selections and the list of models after them (they had put the results ~1800 px down)
    with gr.Row(elem_classes=[PHONE_STACK]):
        with gr.Column(scale=1, min_width=280, elem_classes=[PHONE_UNWRAP]):
            photo = photo_input(t("photo"), height=220)
            # under the photo, where a projector at 1366x768 still shows it; the choice of models follows
            run = gr.Button(t("compare"), variant="primary", interactive=not missing, elem_id="compare-run")
            examples_gallery(photo)  # within the first screen too: a class chooses a photo here, not a screen below
            quick, sets = quick_choices(registry)
            start = gr.Radio(quick, value="decoders", label=t("compare.quick"), visible=len(quick) > 1,
                             elem_classes=[PHONE_LATER])
            chosen = gr.CheckboxGroup(choices, value=registry.default_set(), label=t("models_to_compare"),
                                      elem_id="compare-models", elem_classes=[PHONE_LATER])
            # set in the browser: thirty phones picking a selection cost the server nothing (the
            # list is wrapped: a bare array returned by ``js`` would be read as one value per output)
            start.input(None, start, chosen, js=f"(key) => [({json.dumps(sets)})[key]]")
        with gr.Column(scale=3, min_width=320):
            # the overlays side by side (the default set's five in one row), so the decoders are compared at a glance
            gallery = gr.Gallery(label=t("results"), columns=min(len(choices), 5) or 1, object_fit="contain",
                                 height="auto", elem_id="compare-gallery", buttons=["fullscreen"],
                                 elem_classes=[CAPTIONS_BELOW])
            note = gr.Markdown()
            with gr.Row(elem_id="compare-keys-row"):
                spread = gr.Image(label=t("disagreement"), type="filepath", interactive=False, height=240, min_width=240)
                keys = gr.HTML(min_width=240)
    table = score_table(t("results"), headers=say_columns("en", "compare.columns"))

    def on_compare(image, names, request: gr.Request):
        language = language_of(request)
        with capacity.turn(language):
            return compare(registry, image, names, language, view)

    run.click(on_compare, [photo, chosen], [gallery, spread, table, note, keys], api_name="compare",
              concurrency_id=SEGMENTING, concurrency_limit=WAITING_LIMIT)
    # on a phone the results are below the photo and the examples: go there at once, where the progress shows
    run.click(None, js="() => { if (window.innerWidth < 700) document.getElementById('compare-gallery')"
                       "?.scrollIntoView({behavior: 'smooth'}); }")

    def on_load(request: gr.Request = None):
        language = language_of(request)
        return say_table(language, "compare.columns", []), colour_keys(registry, language)

    return Built(handles={"models": chosen}).fill_on_load(on_load, [table, keys])  # the Train tab adds class runs
