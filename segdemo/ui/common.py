"""Pieces shared by the tabs: the upload component, error mapping, legends and model lists."""
import atexit
import html
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
from PIL import Image, UnidentifiedImageError

from segdemo.examples import ground_truth_for, list_examples
from segdemo.imaging import ImageError, Message, fit_within, load_rgb
from segdemo.ui.text import language_of, say, say_class, say_message, t


class PhotoInput(gr.Image):
    """An image input that hands the raw uploaded file to segdemo's own decoder.

    Gradio's Image opens every upload with PIL before the app sees it, so a corrupt file
    or a decompression bomb fails there with a generic error.  Passing the file path
    through lets ``segdemo.imaging`` answer every bad upload with a clear message.
    """

    is_template = True  # drawn by the browser exactly like gr.Image

    def preprocess(self, payload):
        if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
            return str(payload.path)
        return super().preprocess(payload)


def camera_help():
    """A notice the page's script shows only where the browser blocks the camera (a plain-HTTP
    page reached from another device), saying why and what to do."""
    gr.Markdown(t("camera.insecure"), elem_classes=["segdemo-camera-help"])


def refuse_non_image(path, request: gr.Request):
    """Clear an upload that is not a picture, saying so, rather than show a broken-image icon."""
    if not path:
        return gr.skip()
    try:
        with Image.open(path):
            return gr.skip()
    except (UnidentifiedImageError, OSError, ValueError):
        gr.Warning(say_message(language_of(request), Message("not_image")))
        return None


def photo_input(label, height=320):
    camera_help()
    photo = PhotoInput(label=label, type="filepath", sources=["upload", "webcam", "clipboard"], height=height)
    photo.upload(refuse_non_image, photo, photo, api_name=False, show_progress="hidden")
    return photo


def known_truth(view, source, label_set):
    """The true labels of a photo that is a bundled example or a dataset image, else None.

    Recognised by its file's bytes, which Gradio's upload copy keeps.
    """
    if not isinstance(source, str):
        return None
    truth = ground_truth_for(source, label_set)
    if truth is None and view is not None:
        image_id = view.id_of_file(source)
        truth = view.truth(image_id, label_set) if image_id else None
    return truth


def examples_gallery(photo):
    """The bundled validation photos as clickable examples for ``photo``, when there are any."""
    examples = list_examples()
    if examples:
        gr.Examples(examples, inputs=[photo], label=t("examples"))


def decode_or_explain(source, language="en"):
    """(RGB array, notes) for an upload, or a message the user sees."""
    try:
        return load_rgb(source)
    except ImageError as error:
        raise gr.Error(say_message(language, error.message)) from None


def segment_or_explain(registry, name, image, language="en", **kwargs):
    """Run one model, turning bad input and unknown models into messages the user sees."""
    if not name:
        raise gr.Error(say(language, "error.choose_model"))
    try:
        return registry.segment(name, image, **kwargs)
    except ImageError as error:
        raise gr.Error(say_message(language, error.message)) from None
    except KeyError:
        known = ", ".join(registry.available()) or "-"
        raise gr.Error(say(language, "error.model_unavailable", name=name, known=known)) from None


def rounded(value, digits):
    """A score for a table: rounded, or None (an empty cell) where metrics.json has none."""
    return None if value is None else round(value, digits)


def millions(count):
    """A parameter count as people read it: 8048456 -> "8.05 M"."""
    return f"{count / 1e6:.2f} M"


def input_size(config):
    """The network's input, height x width in pixels: photos are scaled to it, so it sets the time a pass takes."""
    return f"{config.height}x{config.width}"


def model_label(entry):
    """"U-Net (MobileNetV2) · unet": the network in words, then the checkpoint's folder name."""
    return f"{entry.config.title} · {entry.name}"


def legend_html(shares, classes, colours, language="en", translate=True):
    """A table of class colour, name and share of the image, largest share first; without
    ``shares``, a colour key in the classes' own order (``translate=False``: names already in words)."""
    rows = []
    order = np.argsort([-shares[name] for name in classes]) if shares else range(len(classes))
    for index in order:
        name, colour = classes[index], colours[index]
        swatch = f'<span style="display:inline-block;width:1.1em;height:1.1em;border-radius:3px;background:rgb{tuple(colour)}"></span>'
        share = f"<td style='text-align:right'>{100 * shares[name]:.1f}%</td>" if shares else ""
        shown = say_class(language, name) if translate else name
        rows.append(f"<tr><td>{swatch}</td><td>{html.escape(shown)}</td>{share}</tr>")
    return "<table class='segdemo-legend'>" + "".join(rows) + "</table>"


def availability_markdown(registry):
    """Which models the app offers, and which failed to load and why: one text per line.

    The page translates one marker per text, so each line is a text of its own.
    """
    available = registry.available()
    if available:
        lines = [t("models_available") + ", ".join(model_label(registry.entries[n]) for n in available)]
    else:
        lines = [t("models_missing")]
    failed = registry.unavailable()
    if failed:
        lines.append(t("model_unloadable") + "; ".join(f"`{name}` ({error})" for name, error in failed.items()))
    noted = {name: registry.entries[name].segmenter.load_notes for name in available}
    if any(noted.values()):
        lines.append(t("model_load_notes") + "; ".join(f"`{name}` ({' '.join(notes)})" for name, notes in noted.items() if notes))
    return lines


PREVIEW_SIDE = 2048  # pictures shown in the page; the downloadable mask keeps full resolution


def preview(result):
    """(photo, labels, confidence) of a segmentation at the size the page shows them."""
    return (
        fit_within(result.image, PREVIEW_SIDE),
        fit_within(result.labels.astype(np.uint8), PREVIEW_SIDE, nearest=True),
        fit_within(result.confidence, PREVIEW_SIDE),
    )


OUTPUT_DIR = Path(tempfile.mkdtemp(prefix="segdemo-outputs-"))
atexit.register(shutil.rmtree, OUTPUT_DIR, ignore_errors=True)  # Gradio serves its own copies
OUTPUT_LIFETIME_S = 15 * 60


def fresh_output_path(name, suffix):
    """A unique file name in the folder Gradio may serve from, after removing expired outputs."""
    cutoff = time.time() - OUTPUT_LIFETIME_S
    for old in OUTPUT_DIR.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass
    return OUTPUT_DIR / f"{name}-{uuid.uuid4().hex[:12]}.{suffix}"


def servable_copy(source):
    """A copy of ``source`` that Gradio may hand to the browser.

    Gradio refuses to move files from outside the working and temporary folders (such as the
    dataset unpacked in ~/.cache/segdemo) into its cache; the copy keeps the bytes, by which
    the Predict tab recognises a dataset photo and finds its truth.
    """
    source = Path(source)
    copy = fresh_output_path(source.stem, source.suffix.lstrip(".") or "bin")
    shutil.copyfile(source, copy)
    return str(copy)


def save_image(array, name, lossless=False):
    """Write an RGB or label image to a unique file and return its path.

    Pictures for the eye are JPEG (PNG encoding of a photo is far slower and feeds the
    Compare tab's latency); label maps meant for download are ``lossless`` PNG.

    Gradio copies returned files into its cache atomically; returning arrays instead lets
    concurrent identical requests read a half-written cached image.  Files older than
    ``OUTPUT_LIFETIME_S`` are removed as new ones are written.
    """
    path = fresh_output_path(name, "png" if lossless else "jpg")
    image = np.asarray(array)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image,
                [] if lossless else [cv2.IMWRITE_JPEG_QUALITY, 90])
    return str(path)


def no_model_notice(registry):
    """Shown at the top of a tab that needs a model when none has loaded; True if shown."""
    if registry.available():
        return False
    gr.Markdown(t("no_models"))
    return True
