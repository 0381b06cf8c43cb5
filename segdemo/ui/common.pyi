"""Pieces shared by the tabs: the upload component, error mapping, legends and model lists."""
import html

import gradio as gr
import numpy as np

from segdemo.imaging import ImageError
from segdemo.models import ARCH_TITLES

from gradio.events import Dependency

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
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


def photo_input(label):
    return PhotoInput(label=label, type="filepath", sources=["upload", "webcam", "clipboard"], height=320)


def segment_or_explain(registry, name, image, **kwargs):
    """Run one model, turning bad input and unknown models into messages the user sees."""
    if not name:
        raise gr.Error("Choose a model first.")
    try:
        return registry.segment(name, image, **kwargs)
    except ImageError as error:
        raise gr.Error(str(error)) from None
    except KeyError as error:
        raise gr.Error(str(error.args[0])) from None


def model_label(entry):
    config = entry.config
    title = ARCH_TITLES.get(config.arch, config.arch)
    return f"{entry.name}: {title}, {config.backbone}, {config.label_set}"


def legend_html(shares, classes, colours):
    """A table of class colour, name and share of the image, largest share first."""
    rows = []
    for index in np.argsort([-shares[name] for name in classes]):
        name, colour = classes[index], colours[index]
        swatch = f'<span style="display:inline-block;width:1.1em;height:1.1em;border-radius:3px;background:rgb{tuple(colour)}"></span>'
        rows.append(f"<tr><td>{swatch}</td><td>{html.escape(name)}</td><td style='text-align:right'>{100 * shares[name]:.1f}%</td></tr>")
    return "<table class='segdemo-legend'>" + "".join(rows) + "</table>"


def availability_markdown(registry):
    lines = []
    available = registry.available()
    if available:
        lines.append("**Models available:** " + ", ".join(model_label(registry.entries[n]) for n in available))
    else:
        lines.append(f"**No trained model is available** in `{registry.root}`: the Predict and Compare tabs need a checkpoint (see README, *Training*).")
    for name, error in registry.unavailable().items():
        lines.append(f"- `{name}` is unavailable: {error}")
    return "\n".join(lines)