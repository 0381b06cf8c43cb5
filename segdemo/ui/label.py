"""Label tab: the class makes its own dataset, the seed article's "prepare your own dataset" made runnable.

A student uploads a photo of their own place, takes the model's guess as a start (labelling by
correction is how real teams work), paints over what it got wrong in the classes' colours, paints
black what nobody can tell (unknown, ignored in training like -1 in Stanford Background) and saves:
the label is the guess with the strokes over it.  The guess, drawn over the photo, goes under the
brush through the editor's own upload (the page hands it the picture shown beside it): in Gradio
6.31 a value the server sends to the image editor shows, but the editor goes blank and waits as
soon as a tool is picked.  The server keeps the photo and the guess (``Draft``) and saves the photo,
never the picture with the guess drawn on it.  The label is kept as the dataset's own index mask
(``data.own_photos``) with the seconds it took; each browser keeps a token, so a student finds their
photos again after a reload.  Labels made in LabelMe or CVAT, or PNG index masks, are imported too.
Keeping (a zip in the dataset's layout) and clearing the class's photos is the teacher's.  The Train
tab fine-tunes on them.
"""
import html
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np

from segdemo.data.label_import import import_files
from segdemo.data.labels import REGIONS, UNKNOWN
from segdemo.data.own_photos import MAX_PHOTOS, MAX_SIDE, OwnPhotos, labelling_seconds
from segdemo.imaging import fit_within, labels_from_paint, overlay
from segdemo.serving.class_training import server_teacher_code
from segdemo.ui.capacity import SEGMENTING, WAITING_LIMIT
from segdemo.ui.common import (camera_help, client_host, hex_colour, is_teacher, model_label, new_output_path,
                               photo_or_explain, save_image, say_counted, segment_or_explain, swatch)
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_class, say_message, t

ID = "label"
TOKEN_KEY = "segdemo-labeller"  # the browser's localStorage key of its labeller token
LONGEST_SESSION_S = 30 * 60  # a photo open longer than this was left, not labelled: its time is not counted
GUESS_OPACITY = 0.5  # the guess is half transparent, so the photo shows through where it is to be checked
UNKNOWN_PAINT = (0, 0, 0)  # the brush for "nobody can tell": black, as the dataset views draw unknown
PAINTS = (*REGIONS.colours, UNKNOWN_PAINT)  # the brush's colours; a stroke in the last one means unknown
CSS = """
#label-editor { min-height: 420px; }
#label-key .segdemo-keys { gap: 4px 14px; }
.segdemo-key-item { white-space: nowrap; }
"""


def editor_photo(value, language="en"):
    """The photo in the editor (uint8 RGB, at most ``MAX_SIDE``), or a message the user sees."""
    background = (value or {}).get("background")
    if background is None:
        raise gr.Error(say(language, "label.no_photo"))
    return fit_within(photo_or_explain(background, language, shown_side=MAX_SIDE).image, MAX_SIDE)


def layer_pictures(value):
    """The editor's painted layers as RGBA arrays."""
    return [np.asarray(layer.convert("RGBA")) for layer in (value or {}).get("layers") or [] if layer is not None]


def same_picture(one, other):
    """Whether two pictures are the same up to an encoding's rounding."""
    return one.shape == other.shape and float(np.abs(one.astype(np.int16) - other).mean()) < 2


@dataclass
class Draft:
    """A photo under correction, the model's guess for it, and that guess drawn over it (what goes under the brush)."""

    photo: np.ndarray
    guess: np.ndarray
    shown: np.ndarray = None

    def shows(self, background):
        """Whether the editor still holds this draft (its photo, or the guess drawn over it), not a new photo."""
        return same_picture(background, self.photo) or (self.shown is not None and same_picture(background, self.shown))


def corrected_mask(value, draft, language="en"):
    """(photo, mask): the guess (when the editor still shows its photo) with the strokes painted over it.

    The photo is the draft's when the editor shows the guess drawn over it: the label is saved with the
    photo, not with the guess's colours."""
    photo = editor_photo(value, language)
    drafted = draft is not None and draft.shows(photo)
    mask = draft.guess.copy() if drafted else np.full(photo.shape[:2], UNKNOWN, np.int16)
    photo = draft.photo if drafted else photo
    strokes = labels_from_paint(layer_pictures(value), PAINTS, *photo.shape[:2])
    mask[strokes >= 0] = strokes[strokes >= 0]
    mask[mask == len(REGIONS.colours)] = UNKNOWN  # the black brush
    if (mask < 0).all():
        raise gr.Error(say(language, "label.nothing_painted"))
    return photo, mask


def colour_key(language="en"):
    """The brush's colours in one wrapping row, each with its class name: what to paint with what."""
    names = [say_class(language, name) for name in (*REGIONS.classes, "unknown")]
    items = "".join(f"<span class='segdemo-key-item'>{swatch(colour)} {html.escape(name)}</span>"
                    for colour, name in zip(PAINTS, names))
    return f"<div class='segdemo-keys'>{items}</div>"


def class_summary(entries, token, language="en"):
    """How many photos the class (``entries``: ``OwnPhotos.entries``) and this student have labelled, and how
    they are used."""
    held_out = sum(entry.held_out for entry in entries)
    mine = sum(entry.owner == token for entry in entries)
    timed = labelling_seconds(entries)
    summary = say_counted(language, "label.count", len(entries), train=len(entries) - held_out,
                          held_out=held_out, mine=mine)
    if timed:
        summary += " " + say(language, "label.median_time", seconds=float(np.median(timed)), timed=len(timed))
    return summary


def gallery_items(store, entries, token, language="en", drawn=None):
    """This student's labelled photos among ``entries``, each over its label, captioned with its id and use.

    ``drawn`` (id -> picture file) keeps the pictures between refreshes: a saved label never changes,
    so only a new one is read and drawn (a file the cache has since removed is drawn again).
    """
    drawn = {} if drawn is None else drawn
    items = []
    for entry in entries:
        if entry.owner != token:
            continue
        if not Path(drawn.get(entry.id, "")).is_file():
            photo, mask = store.read(entry.id)
            drawn[entry.id] = save_image(overlay(photo, mask, REGIONS.colours), f"{entry.id}-label")
        use = say(language, "label.held_out" if entry.held_out else "label.for_training")
        items.append((drawn[entry.id], f"{entry.id} · {use}"))
    return items


# after the guess: its picture beside the editor goes into the editor as if uploaded, so it is under the brush
GUESS_UNDER_BRUSH = """
async () => {
  const picture = () => document.querySelector('#label-guessed img');
  for (let k = 0; k < 100 && !(picture() && picture().complete && picture().naturalWidth); k++) {
    await new Promise((done) => setTimeout(done, 100));
  }
  const input = document.querySelector('#label-editor input[type=file]');
  if (!picture() || !input) return;
  const blob = await (await fetch(picture().src)).blob();
  const files = new DataTransfer();
  files.items.add(new File([blob], 'guess.png', {type: blob.type || 'image/png'}));
  input.files = files.files;
  input.dispatchEvent(new Event('change', {bubbles: true}));
}
"""


def elapsed(started, now=None):
    """Seconds since the photo was opened, or None when unknown or too long to be labelling time."""
    if not started:
        return None
    seconds = (now or time.time()) - started
    return seconds if 0 < seconds <= LONGEST_SESSION_S else None


def build(page: Page) -> Built:
    """The tab; lends nothing (the Train tab reads the same folder)."""
    registry, capacity = page.registry, page.capacity
    store, teacher = OwnPhotos(), server_teacher_code()
    drawn = {}  # labelled photo id -> its picture over its label, shared by every page
    models = registry.available(REGIONS.name)
    with gr.Row():
        with gr.Column(scale=3):
            camera_help()
            key = gr.HTML(elem_id="label-key")
            editor = gr.ImageEditor(
                label=t("label.editor"), type="pil", format="png", transforms=(),
                sources=("upload", "webcam", "clipboard"), height=440, elem_id="label-editor",
                layers=False,  # one layer of strokes; the layer panel said "Layer 1" in English on Japanese pages
                brush=gr.Brush(colors=[hex_colour(c) for c in PAINTS], color_mode="fixed",
                               default_color=hex_colour(PAINTS[0]), default_size=12),
                eraser=gr.Eraser(default_size=16))
        with gr.Column(scale=2):
            model = gr.Dropdown([(model_label(registry.entries[n]), n) for n in models],
                                value=registry.best(REGIONS.name), label=t("label.model"))  # the fewest strokes to mend
            guess = gr.Button(t("label.guess"), interactive=bool(models), elem_id="label-guess")
            guessed = gr.Image(label=t("label.guessed"), type="filepath", interactive=False, height=220, elem_id="label-guessed")
            save = gr.Button(t("label.save"), variant="primary", elem_id="label-save")
            status = gr.Markdown(elem_id="label-status")
    gr.Markdown(t("label.intro"))
    gr.Markdown(t("label.eraser_note"))
    mine = gr.Gallery(label=t("label.mine"), columns=4, height=240, object_fit="contain", allow_preview=False,
                      elem_id="label-mine")
    remove = gr.Button(t("label.remove"), size="sm", interactive=False)
    with gr.Accordion(t("label.import_title"), open=False):
        gr.Markdown(t("label.import_help"))
        files = gr.File(label=t("label.import_files"), file_count="multiple", type="filepath")
        bring = gr.Button(t("label.import_button"))
        imported = gr.Markdown()
    with gr.Accordion(t("label.teacher_title"), open=False):
        gr.Markdown(t("label.teacher_help"))
        with gr.Row():
            code = gr.Textbox(label=t("train.teacher_code"), type="password", max_lines=1, min_width=160)
            keep = gr.Button(t("label.download"))
            clear = gr.Button(t("label.clear"), variant="stop")
        kept = gr.File(label=t("label.archive"), visible=False)
        teacher_said = gr.Markdown()
    token = gr.BrowserState(None, storage_key=TOKEN_KEY)
    started = gr.State(None)
    draft = gr.State(None, time_to_live=LONGEST_SESSION_S)
    chosen = gr.State(None)

    def refreshed(owner, language):
        entries = store.entries()  # the class's record read once for both
        return {status: class_summary(entries, owner, language), mine: gallery_items(store, entries, owner, language, drawn)}

    def on_open(owner, request: gr.Request = None):
        language = language_of(request)
        owner = owner or secrets.token_hex(8)
        return {token: owner, key: colour_key(language),
                **refreshed(owner, language)}

    def forget_photo():
        """The editor was emptied: no clock, no guess."""
        return None, None, None

    def on_upload(value, opened, last, request: gr.Request):
        """A new photo starts the labelling clock (a photo uploaded over another keeps the first one's) and
        drops the previous photo's guess; the guess put under the brush (``GUESS_UNDER_BRUSH``) keeps both."""
        if last is not None and (value or {}).get("background") is not None and last.shows(
                editor_photo(value, language_of(request))):
            return opened, last, gr.skip()
        return opened or time.time(), None, None

    def on_guess(value, name, last, request: gr.Request):
        """The model's guess for the editor's photo, drawn over it beside the editor, from where the page puts it
        under the brush (another model's guess replaces it, on the same photo)."""
        language = language_of(request)
        photo = editor_photo(value, language)
        if last is not None and last.shows(photo):
            photo = last.photo
        with capacity.turn(language):
            labels, _ = segment_or_explain(registry, name, photo, language).full_resolution()
        shown = overlay(photo, labels, REGIONS.colours, GUESS_OPACITY)
        return save_image(shown, "label-guess", lossless=True), Draft(photo, labels, shown)

    def on_save(value, last, owner, opened, request: gr.Request):
        language, owner = language_of(request), owner or secrets.token_hex(8)  # an API client keeps no token
        photo, mask = corrected_mask(value, last, language)
        try:
            entry = store.add(photo, mask, owner, seconds=elapsed(opened))
        except OverflowError:
            raise gr.Error(say(language, "label.full", most=MAX_PHOTOS)) from None
        gr.Info(say(language, "label.saved_held_out" if entry.held_out else "label.saved", id=entry.id,
                    known=100 * float(np.mean(mask >= 0))))
        return {**refreshed(owner, language), editor: None, guessed: None, started: None, draft: None, token: owner}

    def on_select(owner, evt: gr.SelectData):
        entries = store.entries(owner)
        picked = entries[evt.index].id if evt.index is not None and evt.index < len(entries) else None
        return picked, gr.Button(interactive=picked is not None)

    def on_remove(picked, owner, request: gr.Request):
        store.remove(picked, owner)
        return {**refreshed(owner, language_of(request)), chosen: None, remove: gr.Button(interactive=False)}

    def on_import(paths, owner, request: gr.Request):
        language, owner = language_of(request), owner or secrets.token_hex(8)
        found, problems = import_files(paths)
        added = []
        for photo in found:
            try:
                added.append(store.add(photo.image, photo.mask, owner, source=photo.source).id)
            except OverflowError:
                problems.append(None)
                break
        lines = [say_counted(language, "label.imported", len(added), ids=", ".join(added) or "-")]
        lines += [f"- {say(language, 'label.full', most=MAX_PHOTOS) if p is None else say_message(language, p)}"
                  for p in problems]
        return {**refreshed(owner, language), imported: "\n".join(lines), files: None, token: owner}

    def on_keep(typed, request: gr.Request):
        language = language_of(request)
        if not is_teacher(teacher, request, typed):
            raise gr.Error(say(language, "label.not_teacher"))
        if not store.entries():
            raise gr.Error(say(language, "label.none_yet"))
        path = new_output_path("class-labels", "zip")
        path.write_bytes(store.archive())
        return gr.File(str(path), visible=True), say_counted(language, "label.kept", len(store.entries()))

    def on_clear(typed, owner, request: gr.Request):
        language = language_of(request)
        if not is_teacher(teacher, request, typed):
            raise gr.Error(say(language, "label.not_teacher"))
        count = len(store.entries())
        store.clear()
        print(f"segdemo: the class's {count} labelled photos were cleared from {client_host(request)}", flush=True)
        return {**refreshed(owner, language), teacher_said: say_counted(language, "label.cleared", count)}

    editor.upload(on_upload, [editor, started, draft], [started, draft, guessed], api_name=False, show_progress="hidden")
    editor.clear(forget_photo, None, [started, draft, guessed], api_name=False, show_progress="hidden")
    guess.click(on_guess, [editor, model, draft], [guessed, draft], api_name="label_guess", concurrency_id=SEGMENTING,
                concurrency_limit=WAITING_LIMIT).success(None, js=GUESS_UNDER_BRUSH)
    save.click(on_save, [editor, draft, token, started], [status, mine, editor, guessed, started, draft, token],
               api_name="label_save")
    mine.select(on_select, token, [chosen, remove], api_name=False)
    remove.click(on_remove, [chosen, token], [status, mine, chosen, remove], api_name=False)
    bring.click(on_import, [files, token], [status, mine, imported, files, token],
               api_name="label_import")
    keep.click(on_keep, code, [kept, teacher_said], api_name=False)
    clear.click(on_clear, [code, token], [status, mine, teacher_said], api_name=False)
    return Built().fill_on_load(on_open, [token, key, status, mine], [token])
