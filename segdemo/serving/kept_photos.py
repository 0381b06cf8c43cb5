"""Uploads decoded once, not once per click.

In the page a photo is sent once; every later event (each pixel a student clicks in Inside, each
*Segment* in Predict, each region hidden) names the same file in Gradio's cache.  Decoding a phone's
12-megapixel JPEG again for each of them cost ~30 ms of server CPU a click even at an eighth of its
size, a tenth of what the click's networks cost.  So the last decodings are kept, by file and by the
size asked for, within a fixed number of bytes for the whole server (not per visitor).  A file
changed in place (same path, other size or time) is decoded again.
"""
import threading
from collections import OrderedDict
from pathlib import Path

from segdemo.imaging import Photo, load_photo

KEPT_BYTES = 48 * 2 ** 20  # ~80 photos decoded for Inside (288x384 at least), ~20 for Predict's 1024 px view

_KEPT, _LOCK = OrderedDict(), threading.Lock()
_kept_bytes = 0


def _key(source, shown_side, least):
    """The decoding's identity, or None when ``source`` is no file on disk (bytes, arrays: decoded each time)."""
    if not isinstance(source, (str, Path)):
        return None
    try:
        status = Path(source).stat()
    except OSError:
        return None  # load_photo says what is wrong with it
    return str(source), status.st_size, status.st_mtime_ns, shown_side, tuple(least)


def decoded_photo(source, shown_side=None, least=(0, 0)):
    """``imaging.load_photo(source, shown_side, least)``, from the kept ones when this file was decoded
    so before.  The pixels are read-only: every request that asks for them shares them."""
    global _kept_bytes
    key = _key(source, shown_side, least)
    if key is not None:
        with _LOCK:
            if key in _KEPT:
                _KEPT.move_to_end(key)
                return _KEPT[key]
    photo = load_photo(source, shown_side, least)
    if key is None or photo.image.nbytes > KEPT_BYTES // 4:
        return photo
    photo.image.setflags(write=False)
    photo = Photo(photo.image, tuple(photo.notes), photo.size)
    with _LOCK:
        if key not in _KEPT:
            _KEPT[key] = photo
            _kept_bytes += photo.image.nbytes
        while _kept_bytes > KEPT_BYTES:
            _, gone = _KEPT.popitem(last=False)
            _kept_bytes -= gone.image.nbytes
    return photo
