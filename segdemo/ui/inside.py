"""Inside the network tab: what decided a pixel, class probabilities, feature maps, and hiding a region.

Every view runs on demand (a click or a button), on the float32 Keras rebuild of each
checkpoint (``segdemo.inside``); nothing is computed on page load.  The models ticked by default
are rebuilt and traced in the background once the app serves, so a class's first click is as
quick as the next.  Points and boxes travel as fractions of the photo, so the API takes the same
values whatever the models' input size.
"""
import hashlib
import json
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future

import gradio as gr
import numpy as np

from segdemo.imaging import resize
from segdemo.inside import drawing, influence, views
from segdemo.inside.occlusion import BOXES, PRESETS, NothingToHide
from segdemo.inside.probe import probe_for
from segdemo.networks.models import ARCH_TITLES
from segdemo.ui.common import (CAPTIONS_BELOW, PHONE_LATER, PHONE_STACK, PHONE_UNWRAP, examples_gallery, model_label,
                               no_model_notice, photo_input, photo_or_explain, save_image, score_table)
from segdemo.ui.dataset import example_or_explain
from segdemo.ui.tab import Built, Page, tab_element_id
from segdemo.ui.text import EN, language_of, say, say_class, t, table

ID = "inside"

# galleries of 4:3 pictures without the gallery's fixed height; on a phone two per row, feature maps one
# (their captions are long)
CSS = """
#inside-influence .grid-wrap, #inside-probabilities .grid-wrap, #inside-features .grid-wrap, #inside-hidden .grid-wrap { min-height: 0; max-height: none; }
@media (max-width: 640px) {
  #inside-influence .grid-container, #inside-probabilities .grid-container, #inside-hidden .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  #inside-features .grid-container { grid-template-columns: minmax(0, 1fr); }
}
.segdemo-scale-bar { height: 16px; border-radius: 3px; }
.segdemo-scale-ticks { display: flex; justify-content: space-between; }
.segdemo-scale p { margin: 4px 0 0; }
"""
TARGET_SIZE = (288, 384)  # the clickable photo, shown as the shipped models see it
# models ticked at first: U-Net, PSPNet and FPN of the default set (three pixel maps per click); a fourth
# adds a third to every click of a class, DeepLabV3+ is a tick away
FIRST_LOOKED_INTO = 3
SCALE_STOPS = np.linspace(0.0, 1.0, 11)  # the colour key's stops: 0%, 10%, ... 100%


def probes_or_explain(registry, names, language):
    """[(name, probe)] for the chosen models, or a message the user sees."""
    if not names:
        raise gr.Error(say(language, "error.choose_models"))
    if isinstance(names, str):
        names = [names]
    chosen = []
    for name in names:
        try:
            chosen.append((name, probe_for(registry.get(name).folder)))
        except KeyError:
            known = ", ".join(registry.available()) or "-"
            raise gr.Error(say(language, "error.model_unavailable", name=name, known=known)) from None
    return chosen


def photo_at_most(source, size, language):
    """The upload decoded no larger than a network input of ``size`` (height, width) needs, or a message.

    The networks see every photo resized to their input, so a phone's 12-megapixel JPEG is decoded at
    an eighth of its size in libjpeg: decoding it whole and shrinking it once per model had cost a
    click on a phone photo 300 ms of server CPU, more than a model's gradient.
    """
    height, width = size
    return photo_or_explain(source, language, max(height, width), (height, width)).image


def photo_for_probes(source, chosen, language):
    """``photo_at_most`` the largest input among the ``chosen`` [(name, probe)]."""
    return photo_at_most(source, tuple(max(probe.size[i] for _, probe in chosen) for i in (0, 1)), language)


def fraction_or_explain(value, language):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise gr.Error(say(language, "inside.bad_fraction", value=str(value)[:20])) from None
    if not 0.0 <= value <= 1.0:
        raise gr.Error(say(language, "inside.bad_fraction", value=str(value)[:20]))
    return value


def title_of(registry, name):
    return registry.entries[name].config.title


def column_titles(registry, names):
    """The probability table's model columns: only the decoder when the models share one encoder
    and differ in decoder (four full titles do not fit across a phone), else the full titles."""
    configs = [registry.entries[name].config for name in names]
    decoders = [ARCH_TITLES.get(config.arch, config.arch) for config in configs]
    if len({config.backbone for config in configs}) == 1 and len(set(decoders)) == len(decoders):
        return decoders
    return [config.title for config in configs]


def field_words(report, language):
    if report.global_pooling:
        return say(language, "inside.field_global")
    height, width = report.field_size
    key = "inside.field_exceeds" if report.field_exceeds_photo else "inside.field_size"
    return say(language, key, height=height, width=width)


def explain_pixel(registry, source, row, column, names, language="en"):
    """Influence maps, probability table and summary for one pixel; the ``inside_pixel`` API.

    One answer for all the models: yielding after each model had made Gradio check, copy and send
    the growing gallery and table again for every model (a quarter of a click's Python time when a
    class clicks together, profiled), to show the first map ~0.1 s sooner to one viewer.
    """
    row, column = fraction_or_explain(row, language), fraction_or_explain(column, language)
    chosen = probes_or_explain(registry, names, language)
    photo = photo_for_probes(source, chosen, language)
    gallery, lines, columns = [], [], []
    titles = column_titles(registry, [name for name, _ in chosen])
    for (name, probe), column_title in zip(chosen, titles):
        report = views.explain_pixel(probe, photo, row, column)
        classes = probe.config.classes
        label = say_class(language, classes[report.label])
        # the table's column title: the decoder alone when the models share an encoder, so a caption is one line
        caption = say(language, "inside.pixel_caption", model=column_title, label=label,
                      probability=100 * report.probabilities[report.label])
        gallery.append((save_image(report.picture, f"influence-{name}"), caption))
        lines.append(say(language, "inside.pixel_line", model=title_of(registry, name), label=label,
                         probability=100 * report.probabilities[report.label], field=field_words(report, language),
                         outside=100 * report.share_outside_window, window=influence.LOCAL_WINDOW,
                         radius=report.effective_radius, width_share=100 * report.effective_radius / report.input_width,
                         milliseconds=report.milliseconds))
        columns.append((column_title, dict(zip(classes, report.probabilities))))
    return gallery, probability_table(columns, language), "\n".join(f"- {line}" for line in lines)


def probability_table(columns, language):
    """Rows of classes, one column of probabilities (%) per model: [(model title, {class: probability})]."""
    classes = list(dict.fromkeys(c for _, shares in columns for c in shares))
    return table([say(language, "inside.class")] + [title for title, _ in columns],
                 [[say_class(language, c)] + [round(100 * float(shares.get(c, 0.0)), 1) for _, shares in columns]
                  for c in classes])


def class_probabilities(registry, source, name, language="en"):
    """A heatmap per class and the entropy map for one model; the ``inside_probabilities`` API."""
    chosen = probes_or_explain(registry, name, language)
    (_, probe), = chosen
    photo = photo_for_probes(source, chosen, language)
    report = views.class_probabilities(probe, photo)
    gallery = [(save_image(picture, f"probability-{c}"), say_class(language, c))
               for c, picture in zip(probe.config.classes, report.pictures)]
    gallery.append((save_image(report.entropy_picture, "entropy"), say(language, "inside.entropy_caption")))
    note = say(language, "inside.probabilities_note", model=title_of(registry, name), mean=report.mean_entropy,
               uncertain=100 * report.uncertain_share, milliseconds=report.milliseconds)
    return gallery, note


def stage_caption(view, language):
    stage = view.stage
    height, width, channels = stage.shape
    shown = ", ".join(str(c) for c in view.channels)
    return say(language, f"inside.stage.{stage.role}", step=stage.step, stride=stage.stride, height=height, width=width,
               channels=channels, shown=shown, layer=stage.layer)


def feature_maps(registry, source, name, language="en"):
    """The most active channels of every encoder and decoder stage of one model; the ``inside_features`` API."""
    chosen = probes_or_explain(registry, name, language)
    (_, probe), = chosen
    photo = photo_for_probes(source, chosen, language)
    shown, milliseconds = views.feature_maps(probe, photo)
    gallery = [(save_image(view.picture, f"feature-{view.stage.role}"), stage_caption(view, language)) for view in shown]
    key = f"inside.features_note.{probe.config.arch}"
    note = say(language, key if key in EN else "inside.features_note.other", model=title_of(registry, name),
               milliseconds=milliseconds)
    return gallery, note


LABELS_KEPT = 128  # photos' own served answers (uint8, 110 KB at 288x384): a class of 30 on three models, for all pages
_KEPT, _KEPT_LOCK = OrderedDict(), threading.Lock()
_COMING = {}  # key -> Future of an answer being computed


def served_labels(segmenter):
    """Labels of an image at the network's input size from the engine Predict serves (LiteRT or bfloat16
    Keras): hiding a region then changes the answers the class sees in Predict, for half the server CPU
    of two float32 Keras passes (python -m tools.inside_class: 566 against 1143 ms an answer)."""
    return lambda image: segmenter.predict(np.asarray(image, np.float32)[None])[0].numpy()[0].astype(np.uint8)


def photo_labels(segmenter, image):
    """``served_labels`` of a photo itself, kept: a student hiding one region after another of a photo pays
    one pass a model for each region, not two.  Keyed by the engine itself, not its id: a kept answer holds its
    engine, so no later engine can take the id of one gone.  An answer being computed is waited for, not
    computed again: a student who hides while the view's readying still runs pays for the photo once."""
    key = (segmenter, hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest())
    with _KEPT_LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key]
        coming = _COMING.get(key)
        computing = coming is None
        if computing:
            coming = _COMING[key] = Future()
    if not computing:
        return coming.result()
    try:
        labels = served_labels(segmenter)(image)
    except BaseException as error:
        with _KEPT_LOCK:
            del _COMING[key]
        coming.set_exception(error)
        raise
    with _KEPT_LOCK:
        _KEPT[key] = labels
        del _COMING[key]
        while len(_KEPT) > LABELS_KEPT:
            _KEPT.popitem(last=False)
    coming.set_result(labels)
    return labels


def own_answers(registry, chosen, photo):
    """Each chosen (name, probe)'s served labels of the photo itself, kept (``photo_labels``)."""
    return {name: photo_labels(registry.get(name).segmenter, probe.network_input(photo)) for name, probe in chosen}


def ready_to_hide(registry, source, names):
    """The photo's own answers, computed while the student chooses a region (the view opened, or a photo chosen
    in it): the first region then costs one served pass a model, as the next ones do; the ``inside_hide_ready``
    API.  Silent: what is wrong with a photo or the models is said when the student asks to hide."""
    if source is None or not names:
        return
    try:
        chosen = probes_or_explain(registry, names, "en")
        own_answers(registry, chosen, photo_for_probes(source, chosen, "en"))
    except gr.Error:
        pass


def hide_region(registry, source, preset, top, left, bottom, right, names, language="en"):
    """Per model, the labels that change outside a hidden region; the ``inside_hide`` API.

    One answer for all the models, as ``explain_pixel`` gives (a yield per model had Gradio send the growing
    gallery again for each)."""
    if preset not in PRESETS:
        raise gr.Error(say(language, "inside.bad_region", region=str(preset)[:20], known=", ".join(PRESETS)))
    box = tuple(fraction_or_explain(v, language) for v in (top, left, bottom, right))
    chosen = probes_or_explain(registry, names, language)
    photo = photo_for_probes(source, chosen, language)
    gallery, lines = [], []
    segmenters = {name: registry.get(name).segmenter for name, _ in chosen}
    before = own_answers(registry, chosen, photo)
    first, first_probe = chosen[0]
    sky = views.sky_of(first_probe, photo, before[first]) if preset == "sky" and len(chosen) > 1 else None  # the first model's
    for name, probe in chosen:
        try:
            report = views.hide_region(probe, photo, preset, box, sky, served_labels(segmenters[name]), before[name])
        except NothingToHide:
            raise gr.Error(say(language, f"inside.nothing_to_hide.{'sky' if preset == 'sky' else 'box'}")) from None
        caption = say(language, "inside.hide_caption", model=title_of(registry, name), share=100 * report.changed_share)
        gallery.append((save_image(report.picture, f"hidden-{name}"), caption))
        # where the region reaches every pixel (every shipped network), "0 changed beyond its reach" says nothing
        whole = report.reach_share >= 0.9995 and not report.changed_beyond_reach
        reach = say(language, "inside.hide_reach_whole") if whole else say(
            language, "inside.hide_reach", reach=100 * report.reach_share, beyond=report.changed_beyond_reach)
        lines.append(say(language, "inside.hide_line", model=title_of(registry, name), changed=report.changed,
                         share=100 * report.changed_share, milliseconds=report.milliseconds) + " " + reach)
    return gallery, "\n".join(f"- {line}" for line in lines)


def clickable(source, language="en"):
    """The photo at the shipped models' input size, for clicking; None when the photo is cleared."""
    if source is None:
        return None
    return save_image(resize(photo_at_most(source, TARGET_SIZE, language), TARGET_SIZE), "inside-target")


def warm_up(registry, names):
    """Rebuild and trace ``names``' probes (seconds each), then say so in the log."""
    started = time.perf_counter()
    for name in names:
        probe_for(registry.get(name).folder)
    print(f"segdemo: Inside the network is ready ({', '.join(names)}: {time.perf_counter() - started:.1f} s)", flush=True)


def warm_up_once_serving(registry, names):
    """``warm_up`` in a thread of its own once the app serves (a Gradio start-up event), not while it starts."""
    async def start():
        threading.Thread(target=warm_up, args=(registry, names), name="inside-warm-up", daemon=True).start()

    gr.context.Context.root_block.extra_startup_events.append(start)


def colour_scale(language):
    """The probability maps' colours from 0% to 100%, in the maps' own shades, with what the ends mean.

    Without it a class read the maps' shades by guesswork: is dark blue 30% or 0%?
    """
    stops = ", ".join(f"rgb{tuple(int(c) for c in colour)} {100 * share:.0f}%"
                      for share, colour in zip(SCALE_STOPS, drawing.probability_picture(SCALE_STOPS[None])[0]))
    ticks = "".join(f"<span>{100 * share:.0f}%</span>" for share in SCALE_STOPS[::5])
    return (f"<div class='segdemo-scale'><div class='segdemo-scale-bar' style='background: linear-gradient(to right, {stops})'>"
            f"</div><div class='segdemo-scale-ticks'>{ticks}</div><p>{say(language, 'inside.probability_scale')}</p></div>")


def one_model_view(view, choices, preferred, missing, note_first=False, key=False):
    """A view of one model at a time: a model choice and button, a gallery and a note, then its help.

    Returns (model dropdown, button, gallery, note, colour key); ``note_first`` puts the note above the
    gallery, ``key`` an empty HTML under it for its colour key (else None).
    """
    with gr.Row():
        model = gr.Dropdown(choices, value=preferred[0] if preferred else None, label=t("model"))
        show = gr.Button(t(f"inside.show_{view}"), variant="primary", interactive=not missing,
                         elem_id=f"inside-show-{view}")
    note = gr.Markdown(render=False)
    if note_first:
        note.render()
    gallery = gr.Gallery(label=t(f"inside.{view}"), columns=3, object_fit="contain", height="auto",
                         elem_id=f"inside-{view}", elem_classes=[CAPTIONS_BELOW])
    scale = gr.HTML(elem_id=f"inside-{view}-scale") if key else None
    if not note_first:
        note.render()
    gr.Markdown(t(f"inside.{view}_help"))
    return model, show, gallery, note, scale


def build(page: Page) -> Built:
    """The tab.  Heavy views run only when asked for."""
    registry, view = page.registry, page.view
    available = registry.available()
    choices = [(model_label(registry.entries[n]), n) for n in available]
    preferred = [name for name in registry.default_set()
                 if registry.get(name).config.label_set == "regions"][:FIRST_LOOKED_INTO]
    missing = no_model_notice(registry)
    if preferred:
        warm_up_once_serving(registry, preferred)
    # projector first (1366x768): what to look at (photo, models) on the left, the four views on the
    # right, each with its control and then its answer, how to read it last; the answers had come
    # 900-1000 px below their buttons
    # on a phone (ui.common.PHONE_STACK): the photo, the examples, then the views (the picture to click and its
    # answers); the ticked models' list and the dataset photo's number after them, ~600 px that came first
    with gr.Row(elem_classes=[PHONE_STACK]):
        with gr.Column(scale=2, elem_classes=[PHONE_UNWRAP]):
            photo = photo_input(t("photo"), height=200)
            examples_gallery(photo)
            if view is not None:
                with gr.Row(elem_id="inside-dataset-photo", elem_classes=[PHONE_LATER]):
                    image_id = gr.Textbox(label=t("dataset.photo_id"), placeholder=t("dataset.photo_id_example"), min_width=160)
                    open_id = gr.Button(t("inside.open_dataset_photo"), size="sm")
            models = gr.CheckboxGroup(choices, value=preferred, label=t("inside.models"), elem_id="inside-models",
                                        elem_classes=[PHONE_LATER])
        with gr.Column(scale=3):
            with gr.Tabs(overflow_behavior="wrap"):  # every view visible on a phone too
                with gr.Tab(t("inside.pixel_tab"), id="inside-pixel", elem_id=tab_element_id("inside-pixel")) as pixel_view:
                    target = gr.Image(label=t("inside.target"), type="filepath", interactive=False,
                                      elem_id="inside-target", height=150)
                    influence_gallery = gr.Gallery(label=t("inside.influence"), columns=3, object_fit="contain",
                                                   height="auto", elem_id="inside-influence", elem_classes=[CAPTIONS_BELOW])
                    # the table on the whole width (a column per model: side by side with the notes, the third was cut)
                    # a third for the class, 22% per model: on a phone "foreground object" wraps, and three models fit in EN and JA
                    pixel_table = score_table(t("inside.pixel_table"), column_widths=["34%", "22%", "22%", "22%"])
                    pixel_note = gr.Markdown()
                    gr.Markdown(t("inside.target_help"))
                    with gr.Row():
                        row_fraction = gr.Number(0.5, label=t("inside.row"), minimum=0, maximum=1, step=0.01, min_width=120)
                        column_fraction = gr.Number(0.5, label=t("inside.column"), minimum=0, maximum=1, step=0.01,
                                                    min_width=120)
                        explain = gr.Button(t("inside.explain"), variant="primary", interactive=not missing)
                    gr.Markdown(t("inside.pixel_help"))
                with gr.Tab(t("inside.probabilities_tab"), id="inside-probabilities",
                            elem_id=tab_element_id("inside-probabilities")) as chances_view:
                    chance_model, show_chances, chance_gallery, chance_note, chance_scale = one_model_view(
                        "probabilities", choices, preferred, missing, key=True)
                with gr.Tab(t("inside.features_tab"), id="inside-features",
                            elem_id=tab_element_id("inside-features")) as features_view:
                    feature_model, show_features, feature_gallery, feature_note, _ = one_model_view(
                        "features", choices, preferred, missing, note_first=True)
                with gr.Tab(t("inside.hide_tab"), id="inside-hide", elem_id=tab_element_id("inside-hide")) as hide_view:
                    region = gr.Radio([(t(f"inside.region.{p}"), p) for p in PRESETS], value="centre",
                                      label=t("inside.region"))
                    shown = {preset: [round(edge, 2) for edge in box] for preset, box in BOXES.items()}
                    with gr.Row():  # the box folded beside the button: the button and its answer on a projector's screen
                        with gr.Column(scale=3), gr.Accordion(t("inside.box_edges"), open=False), gr.Row():
                            edges = [gr.Slider(0, 1, value, step=0.01, label=t(f"inside.box_{edge}"), min_width=140)
                                     for edge, value in zip(("top", "left", "bottom", "right"), shown["centre"])]
                        hide = gr.Button(t("inside.hide"), variant="primary", interactive=not missing, scale=2,
                                         elem_id="inside-hide")
                    top, left, bottom, right = edges
                    # in the browser: a preset shows its box on the sliders, and moving one makes it the box below
                    region.input(None, [region, *edges], edges,
                                 js=f"(preset, ...edges) => ({json.dumps(shown)})[preset] || edges")
                    for edge in edges:
                        edge.input(None, None, region, js="() => 'box'")
                    hide_gallery = gr.Gallery(label=t("inside.hidden"), columns=3, object_fit="contain", height="auto",
                                              elem_id="inside-hidden", elem_classes=[CAPTIONS_BELOW])
                    hide_note = gr.Markdown()
                    gr.Markdown(t("inside.hide_help"))
    gr.Markdown(t("inside.intro"))

    def on_photo(source, request: gr.Request):
        return clickable(source, language_of(request))

    hiding = gr.State(False)  # the hide view is open: a photo chosen there is answered before its first region

    def prepare(source, names, hiding_open):
        """Load and trace the chosen models while the student looks at the photo, not on their first click."""
        for name in names or []:
            if name in registry.available():
                probe_for(registry.get(name).folder)
        if hiding_open:
            ready_to_hide(registry, source, names)

    # named: a class bench shows each student's photo as the page does before their clicks (tools.classroom)
    photo.change(on_photo, photo, target, api_name="inside_photo").then(
        prepare, [photo, models, hiding], None, api_name=False, show_progress="hidden")
    for other_view in (pixel_view, chances_view, features_view):
        other_view.select(lambda: False, None, hiding, api_name=False, show_progress="hidden")

    def on_hide_view(source, names):
        """Marks the view open at once, then readies: a student who leaves it meanwhile (another view's
        select sets the mark back) is not taken for one still in it when the readying ends."""
        yield True
        ready_to_hide(registry, source, names)

    hide_view.select(on_hide_view, [photo, models], hiding, api_name="inside_hide_ready", show_progress="hidden")

    def on_click(event: gr.SelectData):
        column, row = event.index
        return round(row / TARGET_SIZE[0], 4), round(column / TARGET_SIZE[1], 4)

    def on_pixel(source, row, column, names, request: gr.Request):
        return explain_pixel(registry, source, row, column, names, language_of(request))

    pixel_outputs = [influence_gallery, pixel_table, pixel_note]
    target.select(on_click, None, [row_fraction, column_fraction], api_name=False).then(
        on_pixel, [photo, row_fraction, column_fraction, models], pixel_outputs, api_name=False)
    explain.click(on_pixel, [photo, row_fraction, column_fraction, models], pixel_outputs, api_name="inside_pixel")

    def on_probabilities(source, name, request: gr.Request):
        return class_probabilities(registry, source, name, language_of(request))

    show_chances.click(on_probabilities, [photo, chance_model], [chance_gallery, chance_note], api_name="inside_probabilities")

    def on_features(source, name, request: gr.Request):
        return feature_maps(registry, source, name, language_of(request))

    show_features.click(on_features, [photo, feature_model], [feature_gallery, feature_note], api_name="inside_features")

    def on_hide(source, preset, top, left, bottom, right, names, request: gr.Request):
        return hide_region(registry, source, preset, top, left, bottom, right, names, language_of(request))

    hide.click(on_hide, [photo, region, top, left, bottom, right, models], [hide_gallery, hide_note], api_name="inside_hide")

    if view is not None:
        def on_open(chosen, request: gr.Request):
            return str(view.photo_path(example_or_explain(view, chosen, language_of(request))))

        open_id.click(on_open, image_id, photo, api_name=False)

    def on_load(request: gr.Request = None):
        return colour_scale(language_of(request))

    return Built().fill_on_load(on_load, [chance_scale])
