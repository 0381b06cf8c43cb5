"""Assemble the dashboard and launch it as Hugging Face Spaces expects (0.0.0.0:7860)."""
import os

import gradio as gr

from segdemo.registry import ModelRegistry
from segdemo.ui import architectures, compare, curves, learn, predict
from segdemo.ui.common import availability_markdown
from segdemo.ui.text import I18N, t

MAX_UPLOAD = "25mb"
CSS = ".segdemo-legend td { padding: 2px 8px; }"


def build_demo(registry=None):
    registry = registry or ModelRegistry()
    with gr.Blocks(title="segdemo") as demo:
        gr.Markdown("# segdemo")
        gr.Markdown(t("intro"))
        for line in availability_markdown(registry):
            gr.Markdown(line)
        with gr.Tabs():
            with gr.Tab(t("tab.predict"), id="predict"):
                predict.build(registry)
            with gr.Tab(t("tab.compare"), id="compare"):
                compare.build(registry)
            with gr.Tab(t("tab.curves"), id="curves"):
                draw_curves = curves.build(registry)
            with gr.Tab(t("tab.learn"), id="learn"):
                controls, picture, table = learn.build()
            with gr.Tab(t("tab.architectures"), id="architectures"):
                architectures.build(registry)
        demo.load(learn.playground, controls, [picture, table], api_name=False)
        if draw_curves:
            draw, outputs = draw_curves
            demo.load(draw, None, outputs, api_name=False)
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo


def launch(demo, port=None, host=None, **kwargs):
    """Start serving; only the app's own assets and Gradio's upload cache are reachable."""
    return demo.launch(
        server_name=host or os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        server_port=int(port or os.environ.get("GRADIO_SERVER_PORT", 7860)),
        max_file_size=MAX_UPLOAD,
        i18n=I18N,
        css=CSS,
        show_error=True,
        **kwargs,
    )

