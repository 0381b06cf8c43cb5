"""Live tab: the camera's frames segmented as they come, by the fastest model, with the frame rate.

Two places can run the network.  **On this device** (the default where the model has a page
network): the page runs it itself (``segdemo/assets/web/live.js``), so the server only serves the
page, the runtime and the network file, and thirty phones bring thirty processors.  **On the
server**: the frames stream to the server, which drops those arriving while the previous one is
segmented (``segdemo.serving.live``); a stream ends after five minutes, so nobody holds it.  The
page hands over to the server, saying why, where the browser cannot run the network.
"""
import html
import json

import gradio as gr

from segdemo.imaging import ImageError, fit_within, overlay
from segdemo.serving.live import LIVE_SIDE, ViewerGates
from segdemo.serving.page_runtime import RUNTIME_PREFIX, SERVED
from segdemo.texts import TEXT
from segdemo.ui.common import camera_help, legend_html, model_label
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_class, t

ID = "live"

STREAM_EVERY_S = 0.08  # the browser offers a frame this often; slower frames are dropped
CAMERA_CONSTRAINTS = {"width": {"ideal": 640}, "height": {"ideal": 480}}
CAMERA = gr.WebcamOptions(constraints={"video": CAMERA_CONSTRAINTS})
SESSION_LIMIT_S = 300  # on the server, one viewer's stream ends after five minutes, so nobody holds it
DEVICE, SERVER = "device", "server"
PAGE_TEXTS = ("start", "stop", "loading", "rate", "threads", "fallback", "no_network", "camera_error")
# live.js is loaded relative to the page, which may sit under a path prefix
MOUNT = f"import(new URL('{RUNTIME_PREFIX.strip('/')}/live.js', document.baseURI).href).then((live) => live.mount(element));"
# projector first (1366x768): camera, overlay, rate and class shares side by side on the first screen;
# on a phone they stack
PAGE_CSS = """
.segdemo-live-stage { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.segdemo-live-views { display: flex; flex-wrap: wrap; gap: 12px; flex: 3 1 560px; min-width: 0; }
.segdemo-live-views > * { flex: 1 1 260px; min-width: 0; max-height: 300px; object-fit: contain; background: #000; }
.segdemo-live-side { flex: 1 1 200px; }
.segdemo-live-rate { margin-top: 0; }
.segdemo-live-swatch { display: inline-block; width: 1.1em; height: 1.1em; border-radius: 3px; }
.segdemo-live-start { padding: 6px 16px; margin: 4px 0; }
.segdemo-live-legend td { border: none; padding: 2px 8px; }
"""


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


def page_config(entry, model_url):
    """What live.js needs: the network's address and input size, the classes, the texts in both languages."""
    config = entry.config
    texts = {language: {**{key: TEXT[language][f"live.page.{key}"] for key in PAGE_TEXTS},
                        "classes": [say_class(language, name) for name in config.classes]} for language in ("en", "ja")}
    return {"model_url": model_url, "model": config.title, "input": [config.height, config.width],
            "classes": list(config.classes), "colours": [list(colour) for colour in config.colours],
            "camera": CAMERA_CONSTRAINTS, "server": SERVER, "texts": texts}


def page_markup(config):
    """The in-page block; live.js fills it in (texts in the page's language, the camera, the overlay)."""
    return (f'<div class="segdemo-live-page" data-config="{html.escape(json.dumps(config))}">'
            '<button class="segdemo-live-start lg secondary"></button><p class="segdemo-live-note"></p>'
            '<div class="segdemo-live-stage"><div class="segdemo-live-views">'
            '<video class="segdemo-live-video" playsinline muted></video><canvas class="segdemo-live-overlay"></canvas></div>'
            '<div class="segdemo-live-side"><p class="segdemo-live-rate"></p>'
            '<table class="segdemo-legend segdemo-live-legend"></table></div></div></div>')


def build(page: Page) -> Built:
    """The tab: the camera's frames segmented as they come, by the fastest model, in the page or on the server."""
    registry = page.registry
    gates = ViewerGates()
    fastest = registry.fastest()
    camera_help()
    if fastest is None:
        gr.Markdown(t("live.intro"))
        gr.Markdown(t("no_models"))
        return Built()
    entry = registry.get(fastest)
    model_url = SERVED.offer(fastest, entry.folder)
    start = DEVICE if model_url else SERVER
    where = gr.Radio([(t("live.where.device"), DEVICE), (t("live.where.server"), SERVER)], value=start,
                     label=t("live.where"), elem_id="live-where")
    in_page = gr.HTML(page_markup(page_config(entry, model_url)), js_on_load=MOUNT, css_template=PAGE_CSS,
                      visible=start == DEVICE, elem_id="live-page")
    with gr.Row(visible=start == SERVER) as on_server:
        with gr.Column():
            camera = gr.Image(label=t("live.camera"), sources=["webcam"], streaming=True, type="numpy", height=360,
                              webcam_options=CAMERA)
            model = gr.Dropdown([(model_label(registry.entries[n]), n) for n in registry.available()], value=fastest,
                                label=t("model"))
        with gr.Column():
            shown = gr.Image(label=t("live.overlay"), type="numpy", format="jpeg", interactive=False, height=360)
            rate = gr.Markdown()
            legend = gr.HTML()
    gr.Markdown(t("live.intro"))  # under the camera: at 1366x768 the camera and its overlay come first

    def on_frame(frame, name, request: gr.Request):
        return live_frame(registry, gates, frame, name, request.session_hash, language_of(request))

    where.change(lambda chosen: (gr.update(visible=chosen == DEVICE), gr.update(visible=chosen == SERVER)),
                 where, [in_page, on_server], api_name=False, show_progress="hidden")
    camera.stream(on_frame, [camera, model], [shown, rate, legend], stream_every=STREAM_EVERY_S, time_limit=SESSION_LIMIT_S,
                  concurrency_limit=None, show_progress="hidden", api_name="live_frame")
    return Built()
