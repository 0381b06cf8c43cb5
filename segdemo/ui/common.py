"""Pieces shared by the tabs: the upload component, error mapping, legends and model lists."""
import html
import shutil
import uuid
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder
from PIL import Image, UnidentifiedImageError

from segdemo.data.examples import ground_truth_for, list_examples
from segdemo.imaging import ImageError, Message, resize
from segdemo.networks.models import ARCH_TITLES, BACKBONE_TITLES
from segdemo.serving.kept_photos import decoded_photo
from segdemo.texts import TEXT
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


def camera_help(folded=False):
    """A notice the page's script shows only where the browser blocks the camera (a plain-HTTP
    page reached from another device), saying why and what to do.

    ``folded`` (beside a photo upload, where the camera is only one source): one line, the teacher's
    instructions a click away; whole, it had taken 115 px of a projector's first screen, 200 of a phone's.
    """
    gr.Markdown(t("camera.insecure_folded" if folded else "camera.insecure"), elem_classes=["segdemo-camera-help"])


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


def photo_input(label, height=320, elem_id=None):
    camera_help(folded=True)
    photo = PhotoInput(label=label, type="filepath", sources=["upload", "webcam", "clipboard"], height=height, elem_id=elem_id)
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


def photo_or_explain(source, language="en", shown_side=None, least=(0, 0)):
    """A ``Photo`` of an upload (decoded for showing with ``shown_side``: ``imaging.load_photo``; kept for the
    next request about the same file: ``serving.kept_photos``), or a message the user sees."""
    try:
        return decoded_photo(source, shown_side, least)
    except ImageError as error:
        raise gr.Error(say_message(language, error.message)) from None


def decode_or_explain(source, language="en"):
    """(RGB array, notes) for an upload, or a message the user sees."""
    photo = photo_or_explain(source, language)
    return photo.image, photo.notes


def segment_or_explain(registry, name, image, language="en", shown_side=None):
    """One model's ``NetworkAnswer``, turning bad input and unknown models into messages the user sees.

    With ``shown_side``, a large photo is decoded only as large as the page shows it.
    """
    if not name:
        raise gr.Error(say(language, "error.choose_model"))
    try:
        return registry.get(name).segmenter.answer(image, shown_side)
    except ImageError as error:
        raise gr.Error(say_message(language, error.message)) from None
    except KeyError:
        known = ", ".join(registry.available()) or "-"
        raise gr.Error(say(language, "error.model_unavailable", name=name, known=known)) from None


def client_host(request):
    return request.client.host if request is not None and request.client else ""


def is_teacher(teacher, request, code):
    """Whether this request is the teacher's (a ``serving.class_training.TeacherCode``): the right code, or
    this computer when the server set no code."""
    return request is not None and teacher.admits(code, client_host(request))


def rounded(value, digits):
    """A score for a table: rounded, or None (an empty cell) where metrics.json has none."""
    return None if value is None else round(value, digits)


def millions(count):
    """A parameter count as people read it: 8048456 -> "8.05 M"."""
    return f"{count / 1e6:.2f} M"


def input_size(config):
    """The network's input, height x width in pixels: photos are scaled to it, so it sets the time a pass takes."""
    return f"{config.height}x{config.width}"


def score_table(label, **options):
    """A read-only table whose first column (what a row is: a model, a photo, a loss) stays in view
    while a phone scrolls the other columns sideways, and whose long headers wrap between words
    (the ``segdemo-table`` rules of ``ui.app.CSS``)."""
    return gr.Dataframe(label=label, interactive=False, wrap=True, elem_classes=["segdemo-table"], **options)


def own_label(entry, language="en"):
    """A class run's own name in ``language`` (its label is one per language, ``{"en": ..., "ja": ...}``), else None."""
    label = entry.label
    if isinstance(label, dict):
        return label.get(language) or label.get("en") or next(iter(label.values()), None)
    return label


def model_label(entry, language="en"):
    """"U-Net (MobileNetV2) · unet": the network in words, then the checkpoint's folder name (a class run: its own label)."""
    return own_label(entry, language) or f"{entry.config.title} · {entry.name}"


def model_title(entry, language="en"):
    """"U-Net (MobileNetV2)": the network in words, as charts and captions name it (a class run: its own label)."""
    return own_label(entry, language) or (entry.config.title if entry.config else entry.name)


def distinct_titles(registry, names, language="en"):
    """{name: how a list or a chart's legend calls it}: the network in words ("U-Net (MobileNetV2)", a class run
    its own label); the folder name added only where two would read alike."""
    titles = {name: model_title(registry.entries[name], language) for name in names}
    seen = list(titles.values())
    return {name: title if seen.count(title) == 1 else f"{title} · {name}" for name, title in titles.items()}


def model_choices(registry, label_set, language="en"):
    """Predict's model list: (title, name) of each available model of ``label_set``, short enough for the
    projector's row beside the label set (the folder name only where two would read alike)."""
    return [(title, name) for name, title in distinct_titles(registry, registry.available(label_set), language).items()]


def say_counted(language, key, count, **values):
    """``key`` filled with ``count`` (as ``epochs``, ``count``, ...), in its singular form ``key_one``
    when ``count`` is 1 and the language has one: "1 epoch", "2 epochs"."""
    singular = f"{key}_one"
    return say(language, singular if count == 1 and singular in TEXT.get(language, TEXT["en"]) else key,
               **{"count": count, **values})


def hex_colour(rgb):
    """An RGB triple as CSS writes it ("#4682b4"), for Gradio's colour maps and brushes."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def swatch(colour):
    """A small square of an RGB colour, as the legends show a class."""
    return f'<span style="display:inline-block;width:1.1em;height:1.1em;border-radius:3px;background:rgb{tuple(colour)}"></span>'


# a gallery whose captions sit under their pictures, whole (the rules in ``ui.app.CSS``): over the picture,
# cut to one line, they had hidden the lower third of each result and most of their own words
CAPTIONS_BELOW = "segdemo-captions-below"
# a row of two columns that a phone stacks in another order (the rules in ``ui.app.CSS``): the first column's
# parts join the second's, and those marked later come after it; the projector keeps its columns
PHONE_STACK, PHONE_UNWRAP, PHONE_LATER = "segdemo-phone-stack", "segdemo-phone-unwrap", "segdemo-phone-later"


def legend_html(shares, classes, colours, language="en", translate=True):
    """A table of class colour, name and share of the image, largest share first; without
    ``shares``, a colour key in the classes' own order (``translate=False``: names already in words)."""
    rows = []
    order = np.argsort([-shares[name] for name in classes]) if shares else range(len(classes))
    for index in order:
        name, colour = classes[index], colours[index]
        share = f"<td style='text-align:right'>{100 * shares[name]:.1f}%</td>" if shares else ""
        shown = say_class(language, name) if translate else name
        rows.append(f"<tr><td>{swatch(colour)}</td><td>{html.escape(shown)}</td>{share}</tr>")
    return "<table class='segdemo-legend'>" + "".join(rows) + "</table>"


def models_by_encoder(entries):
    """"MobileNetV2: U-Net, PSPNet, FPN · EfficientNet-B0: U-Net, ...": the decoders each encoder
    carries, in words a class reads at a glance (the lists below name each checkpoint in full)."""
    decoders = {}
    for entry in entries:
        encoder = BACKBONE_TITLES.get(entry.config.backbone, entry.config.backbone)
        decoders.setdefault(encoder, []).append(own_label(entry) or ARCH_TITLES.get(entry.config.arch, entry.config.arch))
    return " · ".join(f"{encoder}: {', '.join(names)}" for encoder, names in decoders.items())


def availability_markdown(registry):
    """Which models the app offers, and which failed to load and why: one text per line.

    The page translates one marker per text, so each line is a text of its own.
    """
    available = registry.available()
    if available:
        lines = [t("models_available") + models_by_encoder(registry.entries[n] for n in available)]
    else:
        lines = [t("models_missing")]
    failed = registry.unavailable()
    if failed:
        lines.append(t("model_unloadable") + "; ".join(f"`{name}` ({error})" for name, error in failed.items()))
    noted = {name: registry.entries[name].segmenter.load_notes for name in available}
    if any(noted.values()):
        lines.append(t("model_load_notes") + "; ".join(f"`{name}` ({' '.join(notes)})" for name, notes in noted.items() if notes))
    return lines


DISPLAY_SIDE = 800  # the longest side of the pictures the page shows; the mask file keeps the photo's own size


def display_size(height, width, side=DISPLAY_SIDE):
    """(height, width) of a photo shown at most ``side`` px long (its own size when smaller)."""
    scale = min(1.0, side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def shown_labels(answer, side=DISPLAY_SIDE):
    """(labels, confidence) of a network answer at the size the page shows its photo.

    Drawn from the probabilities at that size rather than computed at the photo's full size and
    shrunk: for a photo no larger than ``side`` they are the same thing.
    """
    return answer.labels_at(*display_size(*answer.photo_size, side))


def shown_photo(image, photo_size, side=DISPLAY_SIDE):
    """The photo at the size the page shows it (that of ``shown_labels``), whatever size it was decoded at."""
    height, width = display_size(*photo_size, side)
    return image if image.shape[:2] == (height, width) else resize(image, (height, width))


def output_folder():
    """Where pictures for the page are written: inside Gradio's cache, which serves them as they are.

    A file outside it would be hashed and copied there by Gradio on every answer; inside, it is
    only recorded, and ``gr.Blocks(delete_cache=...)`` removes it with the rest of the cache.
    """
    folder = Path(get_upload_folder()) / "segdemo"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_output_path(name, suffix):
    """A file name of its own: no two answers ever share, or rewrite, a file."""
    return output_folder() / f"{name}-{uuid.uuid4().hex[:12]}.{suffix}"


def servable_copy(source):
    """A copy of ``source`` that Gradio may hand to the browser.

    Gradio refuses to move files from outside the working and temporary folders (such as the
    dataset unpacked in ~/.cache/segdemo) into its cache; the copy keeps the bytes, by which
    the Predict tab recognises a dataset photo and finds its truth.
    """
    source = Path(source)
    copy = new_output_path(source.stem, source.suffix.lstrip(".") or "bin")
    shutil.copyfile(source, copy)
    return str(copy)


def save_image(array, name, lossless=False):
    """Write an RGB(A) or label image to a file of its own and return its path.

    Pictures for the eye are JPEG (PNG encoding of a photo is far slower); label pictures and
    masks are ``lossless`` PNG at the fastest compression (their flat colours compress well
    anyway).
    """
    path = new_output_path(name, "png" if lossless else "jpg")
    image = np.asarray(array)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(path), image, [cv2.IMWRITE_PNG_COMPRESSION, 1] if lossless else [cv2.IMWRITE_JPEG_QUALITY, 90])
    return str(path)


def save_highlight(where, colour, name):
    """A PNG that is ``colour`` where ``where`` is true and transparent elsewhere, for the hover view.

    A 1-bit palette PNG: a tenth of the time of the RGBA picture gr.AnnotatedImage would encode.
    """
    path = new_output_path(name, "png")
    picture = Image.frombytes("P", where.shape[::-1], np.ascontiguousarray(where, np.uint8).tobytes())
    picture.putpalette([0, 0, 0, *colour])
    picture.save(path, transparency=0, compress_level=1, bits=1)
    return str(path)


def no_model_notice(registry):
    """Shown at the top of a tab that needs a model when none has loaded; True if shown."""
    if registry.available():
        return False
    gr.Markdown(t("no_models"))
    return True
