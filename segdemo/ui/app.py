"""Assemble the dashboard and launch it as Hugging Face Spaces expects (0.0.0.0:7860)."""
import os

import gradio as gr

from segdemo.data import DatasetError
from segdemo.dataset_view import open_dataset_view
from segdemo.registry import ModelRegistry
from segdemo.ui import architectures, compare, curves, dataset, errors, learn, live, predict
from segdemo.ui import inside
from segdemo.ui.common import availability_markdown
from segdemo.ui.text import I18N, t

MAX_UPLOAD = "25mb"
# Compare's overlays: one row of 4:3 pictures (the dataset's shape) without the gallery's empty
# fixed height, two per row on a phone; the Architectures table's year column unbroken, and on a
# phone that table scrolls sideways rather than squeezing its words into letters
CSS = """
.segdemo-legend td { padding: 2px 8px; }
#compare-gallery .grid-wrap { min-height: 0; max-height: none; }
#compare-gallery .thumbnail-item { aspect-ratio: 4 / 3; }
.segdemo-architectures td:nth-child(2), .segdemo-architectures th:nth-child(2) { white-space: nowrap; }
@media (max-width: 640px) {
  #compare-gallery .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .segdemo-architectures table { display: block; overflow-x: auto; }
  .segdemo-architectures td, .segdemo-architectures th { min-width: 9em; }
}
"""
CSS += inside.CSS


def dataset_or_none():
    """The dataset for the Dataset and Error-analysis tabs; None (the tabs say why) when absent."""
    try:
        return open_dataset_view()
    except DatasetError as error:
        print(f"segdemo: the Dataset tab is off: {error}", flush=True)
        return None


def build_demo(registry=None, view=None):
    registry = registry or ModelRegistry()
    view = view or dataset_or_none()
    with gr.Blocks(title="segdemo") as demo:
        gr.Markdown("# segdemo")
        gr.Markdown(t("intro"))
        for line in availability_markdown(registry):
            gr.Markdown(line)
        with gr.Tabs(overflow_behavior="wrap") as tabs:  # every tab visible on a phone too
            with gr.Tab(t("tab.predict"), id="predict"):
                predict_photo = predict.build(registry, view)
            with gr.Tab(t("tab.compare"), id="compare"):
                compare_headers = compare.build(registry, view)
            with gr.Tab(t("tab.live"), id="live"):
                live.build(registry)
            with gr.Tab(t("tab.dataset"), id="dataset"):
                browse = dataset.build(view)
            with gr.Tab(t("tab.curves"), id="curves"):
                draw_curves = curves.build(registry)
            with gr.Tab(t("tab.errors"), id="errors"):
                draw_errors = errors.build(registry, view)
            with gr.Tab(t("tab.learn"), id="learn"):
                controls, picture, table = learn.build()
            with gr.Tab(t("tab.architectures"), id="architectures"):
                draw_evidence = architectures.build(registry)
                to_inside = gr.Button(t("architectures.to_inside"), size="sm")
            with gr.Tab(t("tab.inside"), id="inside"):
                inside.build(registry, view)
        demo.load(learn.playground, controls, [picture, table], api_name=False)
        to_inside.click(lambda: gr.Tabs(selected="inside"), None, tabs, api_name=False)
        for drawing in (compare_headers, draw_curves, draw_errors, draw_evidence, browse and browse[:2]):
            if drawing:
                demo.load(drawing[0], None, drawing[1], api_name=False)
        if browse:
            _, _, image_id, send = browse

            def send_to_predict(chosen):
                return str(view.photo_path(chosen)), gr.Tabs(selected="predict")

            send.click(send_to_predict, image_id, [predict_photo, tabs], api_name=False)
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

