"""Turn whatever a user uploads into an RGB array, and draw label maps over photos.

Uploads arrive as paths, bytes, PIL images or arrays, in any mode (grey, 16-bit, RGBA,
CMYK, palette, animated), possibly EXIF-rotated, possibly not images at all.  Each case
gives either a uint8 RGB array or an ``ImageError`` whose message can be shown as is.
Messages and notes are ``Message`` strings: English, with the key a UI translates by.
"""
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from segdemo.texts import ENGLISH, say

MAX_PIXELS = 40_000_000  # about 7300x5500; a larger photo is shrunk to this while it is decoded
BOMB_PIXELS = 150_000_000  # beyond any camera (about 14000x10000): refused before decoding, as a decompression bomb
MIN_SIDE = 8
EXIF_ORIENTATION = 0x0112


class Message(str):
    """The English text of ``<namespace>.<key>`` (``segdemo/locales``), remembering key and values so a UI
    can translate it; ``image.*`` unless a subclass names another namespace."""

    namespace = "image"

    def __new__(cls, key, **values):
        text = super().__new__(cls, say(ENGLISH, f"{cls.namespace}.{key}", **values))
        text.key, text.values = key, values
        return text


class ImageError(ValueError):
    """The upload cannot be segmented; ``message`` says why in plain words."""

    def __init__(self, key, **values):
        self.message = Message(key, **values)
        super().__init__(self.message)


def _open(source):
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ImageError("empty")
        source = io.BytesIO(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ImageError("missing", name=path.name)
        if path.stat().st_size == 0:
            raise ImageError("empty_file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # BOMB_PIXELS is checked instead
            picture = Image.open(source)
    except UnidentifiedImageError:
        raise ImageError("not_image") from None
    except Image.DecompressionBombError:
        raise ImageError("bomb", megapixels=BOMB_PIXELS // 1_000_000) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError("damaged", detail=error) from None
    if picture.size[0] * picture.size[1] > BOMB_PIXELS:
        raise ImageError("bomb", megapixels=BOMB_PIXELS // 1_000_000)
    return picture


def _shrink_while_decoding(picture, shown_side=None, least=(0, 0)):
    """(picture, its size decoded whole, note or None); the size is (width, height) as the
    returned picture is stored (turned upright only if it was resized here).

    A picture over MAX_PIXELS is brought under it: JPEGs decode directly at 1/2, 1/4 or 1/8
    size (``draft``, fast and light); other formats are decoded, turned upright (their EXIF would
    not survive the resize) and reduced.  With ``shown_side``, a JPEG is also decoded no larger
    than it is shown (``shown_side`` long) and than ``least`` (upright width, height): libjpeg
    then skips most of the work.
    """
    width, height = picture.size
    reduction = 1
    if width * height > MAX_PIXELS:
        reduction = next((r for r in (2, 4, 8) if width * height / r ** 2 <= MAX_PIXELS), 8)
    whole = (-(-width // reduction), -(-height // reduction))  # libjpeg's size at that reduction
    if shown_side and picture.format in ("JPEG", "MPO"):
        scale = min(1.0, shown_side / max(width, height))
        least = _upright(least, picture.getexif().get(EXIF_ORIENTATION, 1))  # as stored: the same swap
        needed = (max(round(width * scale), least[0]), max(round(height * scale), least[1]))
        reduction = max([reduction] + [r for r in (2, 4, 8) if width // r >= needed[0] and height // r >= needed[1]])
    if reduction > 1:
        picture.draft("RGB", (width // reduction, height // reduction))  # a no-op for formats other than JPEG
    if picture.size[0] * picture.size[1] > MAX_PIXELS:
        scale = (MAX_PIXELS / (picture.size[0] * picture.size[1])) ** 0.5
        picture = ImageOps.exif_transpose(picture)
        picture = picture.resize((int(picture.size[0] * scale), int(picture.size[1] * scale)), Image.Resampling.BILINEAR)
        whole = picture.size
    if whole == (width, height):
        return picture, whole, None
    return picture, whole, Message("shrunk", width=width, height=height, new_width=whole[0], new_height=whole[1])


def _upright(size, orientation):
    """(width, height) of a picture ``size`` as stored, once turned by its EXIF ``orientation`` (5 to 8 turn it 90 degrees)."""
    return tuple(size[::-1]) if orientation in (5, 6, 7, 8) else tuple(size)


def _to_uint8(array):
    """Scale 16-bit or float pixel values into 0..255."""
    if array.dtype == np.uint8:
        return array
    array = array.astype(np.float32)
    if array.dtype.kind == "f" and array.max() <= 1.0:
        top = 1.0
    else:
        top = 65535.0 if array.max() > 255 else 255.0
    return np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _rgb_from_array(array):
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(_to_uint8(array)[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ImageError("channels", shape=array.shape)
    array = _to_uint8(array)
    if array.shape[2] == 4:
        alpha = array[..., 3:].astype(np.float32) / 255.0
        array = (array[..., :3] * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)  # over white
    return np.ascontiguousarray(array)


@dataclass
class Photo:
    """A decoded upload: its pixels, what was adapted (notes), and its own (height, width).

    ``image`` is smaller than ``size`` when the photo was decoded for showing (``load_photo``).
    """

    image: np.ndarray
    notes: list
    size: tuple


def load_rgb(source):
    """(uint8 RGB array, notes) for an upload; notes tell the user what was adapted."""
    photo = load_photo(source)
    return photo.image, photo.notes


def load_photo(source, shown_side=None, least=(0, 0)):
    """A ``Photo`` of an upload, decoded whole, or with ``shown_side`` no larger than needed to
    show it that long and to give the network at least ``least`` (height, width) pixels.

    A JPEG larger than that is decoded at 1/2, 1/4 or 1/8 of its size in libjpeg's DCT domain, a
    phone's 12-megapixel photo in a third of the time; a photo no larger is decoded as it is.
    """
    if isinstance(source, np.ndarray):
        image, notes = _rgb_from_array(source), []
        size = image.shape[:2]
    else:
        if source is None:
            raise ImageError("no_image")
        picture = _open(source)
        notes = []
        if getattr(picture, "n_frames", 1) > 1:
            notes.append(Message("animated", frames=picture.n_frames))
            picture.seek(0)
        try:
            picture, whole, shrunk = _shrink_while_decoding(picture, shown_side, least[::-1])
            if shrunk:
                notes.append(shrunk)
            orientation = picture.getexif().get(EXIF_ORIENTATION, 1)
            if orientation != 1:  # else exif_transpose would only copy it
                notes.append(Message("exif"))
                picture = ImageOps.exif_transpose(picture)
            picture.load()
        except (OSError, SyntaxError, ValueError) as error:
            raise ImageError("damaged", detail=error) from None
        size = _upright(whole, orientation)[::-1]
        if picture.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            notes.append(Message("deep"))
            image = _rgb_from_array(np.asarray(picture))
        elif picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
            image = _rgb_from_array(np.asarray(picture.convert("RGBA")))
            notes.append(Message("transparent"))
        else:
            image = np.asarray(picture if picture.mode == "RGB" else picture.convert("RGB"))  # convert() would copy an RGB one
    height, width = size
    if min(height, width) < MIN_SIDE:
        raise ImageError("too_small", width=width, height=height, min_side=MIN_SIDE)
    return Photo(image, notes, tuple(int(side) for side in size))


def resize(image, size, nearest=False):
    """``image`` at ``size`` (height, width: the order of every size in the project, not OpenCV's), by
    area averaging to shrink and bilinear to enlarge (nearest neighbour for labels)."""
    height, width = size
    if nearest:
        interpolation = cv2.INTER_NEAREST
    elif width * height < image.shape[0] * image.shape[1]:
        interpolation = cv2.INTER_AREA
    else:
        interpolation = cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def fit_within(array, max_side, nearest=False):
    """``array`` shrunk so its longer side is at most ``max_side`` (unchanged if it fits)."""
    height, width = array.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return array
    return resize(array, (max(1, round(height * scale)), max(1, round(width * scale))), nearest=nearest)


def colorize(labels, palette):
    """An RGB picture of a label map; unknown (negative) labels are black.

    An OpenCV table lookup per channel: indexing the palette with the map in NumPy took six times as
    long on an 800x600 map (5.0 against 0.8 ms), and Compare colours one such map per model.
    """
    palette = np.asarray(palette, np.uint8)
    labels = np.asarray(labels)
    if len(palette) >= 256:  # no entry left for unknown pixels in an 8-bit table
        palette = np.vstack([palette, [[0, 0, 0]]]).astype(np.uint8)
        return palette[np.where(labels < 0, len(palette) - 1, labels)]
    table = np.zeros((256, 1, 3), np.uint8)  # 255, where unknown pixels go, stays black
    table[:len(palette), 0] = palette
    index = labels if labels.dtype == np.uint8 else np.maximum(labels, -1).astype(np.uint8)  # -1 -> 255
    return cv2.LUT(cv2.merge([index, index, index]), table)


def packed_rgb(rgb):
    """Each RGB colour as one integer, 0xRRGGBB: a painted picture's few colours are then one ``np.unique`` away."""
    rgb = np.asarray(rgb).astype(np.int32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def unpacked_rgb(packed):
    """``packed_rgb`` undone: (..., 3) integers."""
    packed = np.asarray(packed)
    return np.stack([packed >> 16, (packed >> 8) & 255, packed & 255], axis=-1)


def labels_from_paint(layers, palette, height, width, min_alpha=32):
    """The label map painted in ``layers`` (RGBA, later over earlier), read back at ``height`` x ``width``.

    Each painted pixel takes the class of the nearest palette colour (a brush's soft edge or a
    stroke over a half-transparent one blends colours; the nearest is still the one painted
    most); a pixel no layer covers (never painted, or erased) is unknown, -1.
    """
    palette = np.asarray(palette, np.float32)
    labels = np.full((height, width), -1, np.int16)
    for layer in layers:
        layer = np.asarray(layer)
        if layer.ndim != 3 or layer.shape[2] != 4:
            continue
        if layer.shape[:2] != (height, width):
            layer = resize(layer, (height, width), nearest=True)
        painted = layer[..., 3] >= min_alpha
        packed, each = np.unique(packed_rgb(layer[painted][:, :3]), return_inverse=True)
        colours = unpacked_rgb(packed).astype(np.float32)
        labels[painted] = np.argmin(((colours[:, None, :] - palette[None]) ** 2).sum(-1), axis=1)[each.reshape(-1)]
    return labels


def overlay(image, labels, palette, opacity=0.55):
    """The photo with each pixel tinted by its class colour."""
    return cv2.addWeighted(image, 1.0 - opacity, colorize(labels, palette), opacity, 0.0)


def heatmap(values, low=0.0, high=1.0):
    """A value map in [low, high] drawn with the perceptually even 'viridis' colours."""
    scaled = np.clip((np.asarray(values, np.float32) - low) / max(high - low, 1e-6), 0, 1)
    coloured = cv2.applyColorMap((scaled * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
    return cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB)


def faded(image, keep=0.45):
    """The photo pale (blended with white), so colours drawn over it stand out."""
    return cv2.addWeighted(np.asarray(image, np.uint8), keep, np.full_like(image, 255), 1.0 - keep, 0.0)


ERROR_RED = (230, 30, 40)
UNKNOWN_GREY = (128, 128, 128)


def error_map(image, truth, labels):
    """Where a prediction is wrong: red over a faded photo; pixels with unknown truth grey.

    Correct pixels keep a faded copy of the photo, so the eye goes to the mistakes and can
    still tell what they are mistakes on.
    """
    picture = faded(image)
    picture[(truth >= 0) & (labels != truth)] = ERROR_RED
    picture[truth < 0] = UNKNOWN_GREY
    return picture
