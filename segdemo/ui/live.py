"""Live tab: the webcam's frames segmented as they come, by the fastest model, with the frame rate.

Frames arriving while the previous one is segmented are dropped (``segdemo.serving.live``), so the
overlay follows the camera instead of lagging behind it.
"""
import gradio as gr

from segdemo.imaging import ImageError, fit_within, overlay
from segdemo.serving.live import LIVE_SIDE, ViewerGates
from segdemo.ui.common import camera_help, legend_html, model_label
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, t

ID = "live"

STREAM_EVERY_S = 0.08  # the browser offers a frame this often; slower frames are dropped
CAMERA = gr.WebcamOptions(constraints={"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}})
SESSION_LIMIT_S = 300  # one viewer's stream ends after five minutes, so nobody holds the server


def live_frame(registry, gates, frame, model_name, viewer, language="en"):
    """(overlay, frame-rate text, legend with class shares) for one webcam frame; ``gr.skip()`` each for a dropped frame."""
    if frame is None:
        return gr.skip(), gr.skip(), gr.skip()
    gate = gates(viewer)
    if not gate.try_enter():
        return gr.skip(), gr.skip(), gr.skip()
    shown = False
    try:
        entry = registry.get(model_name)
        result = entry.segmenter.segment(fit_within(frame, LIVE_SIDE))
        shown = True
    except (KeyError, ImageError):
        return gr.skip(), say(language, "live.unavailable"), gr.skip()
    finally:
        gate.leave(shown)
    rate = say(language, "live.rate", fps=gate.frames_per_second, milliseconds=result.timings["total_ms"],
               dropped=gate.dropped, model=entry.config.title)
    config = entry.config
    legend = legend_html(result.class_shares(config.classes), config.classes, config.colours, language)
    return overlay(result.image, result.labels, config.colours), rate, legend


def build(page: Page) -> Built:
    """The tab: the camera's frames segmented as they come, by the fastest model."""
    registry = page.registry
    gates = ViewerGates()
    fastest = registry.fastest()
    gr.Markdown(t("live.intro"))
    camera_help()
    if fastest is None:
        gr.Markdown(t("no_models"))
        return Built()
    with gr.Row():
        with gr.Column():
            camera = gr.Image(label=t("live.camera"), sources=["webcam"], streaming=True, type="numpy", height=360,
                              webcam_options=CAMERA)
            model = gr.Dropdown([(model_label(registry.entries[n]), n) for n in registry.available()], value=fastest,
                                label=t("model"))
        with gr.Column():
            shown = gr.Image(label=t("live.overlay"), type="numpy", format="jpeg", interactive=False, height=360)
            rate = gr.Markdown()
            legend = gr.HTML()

    def on_frame(frame, name, request: gr.Request):
        return live_frame(registry, gates, frame, name, request.session_hash, language_of(request))

    camera.stream(on_frame, [camera, model], [shown, rate, legend], stream_every=STREAM_EVERY_S, time_limit=SESSION_LIMIT_S,
                  concurrency_limit=None, show_progress="hidden", api_name="live_frame")
    return Built()
