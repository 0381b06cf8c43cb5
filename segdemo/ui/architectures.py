"""Architectures tab: how the classic segmentation networks differ, tied to the runnable models."""
from collections import Counter

import gradio as gr

from segdemo.ui.common import millions, model_label, rounded
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say_table, t

ID = "architectures"


def output_stride(config):
    """How many times smaller than the input the decoder's label map is before its last upsampling.

    segmentation-models' U-Net decodes back to full size, its FPN predicts at 1/4 and its
    PSPNet at 1/``psp_downsample``: the main reason their outlines differ.
    """
    return {"pspnet": config.psp_downsample, "fpn": 4}.get(config.arch, 1)


def evidence_rows(registry):
    """One row per evaluated model of the encoder and label set most models share: the decoders side by side."""
    evaluated = {name: registry.entries[name].read_json("metrics.json") for name in registry.available()}
    evaluated = {name: metrics for name, metrics in evaluated.items() if metrics}
    shared = Counter((registry.entries[name].config.backbone, registry.entries[name].config.label_set)
                     for name in evaluated)
    if not shared:
        return []
    common = shared.most_common(1)[0][0]
    rows = []
    for name, metrics in evaluated.items():
        config = registry.entries[name].config
        if (config.backbone, config.label_set) == common:
            rows.append([config.title, millions(registry.entries[name].segmenter.parameter_count),
                         f"1/{output_stride(config)}", rounded(metrics.get("pixel_accuracy"), 3),
                         rounded(metrics.get("miou"), 3), rounded(metrics.get("mean_hausdorff95"), 1)])
    return rows


def build(page: Page) -> Built:
    """The tab; its evidence table is filled in the browser's language on page load."""
    registry = page.registry
    gr.Markdown(t("architectures.overview"), elem_classes=["segdemo-architectures", "segdemo-wide-table"])
    runnable = [model_label(registry.entries[name]) for name in registry.available()]
    gr.Markdown(t("runnable_here") + "; ".join(runnable) if runnable else t("nothing_runnable"))
    built = Built()
    rows = evidence_rows(registry)
    if len(rows) >= 2:
        gr.Markdown(t("architectures.evidence"))
        table = gr.Dataframe(label=t("architectures.evidence_table"), interactive=False)

        def draw(request: gr.Request = None):
            return say_table(language_of(request), "architectures.evidence_columns", rows)

        built.fill_on_load(draw, [table])
    to_inside = gr.Button(t("architectures.to_inside"), size="sm")
    to_inside.click(lambda: gr.Tabs(selected="inside"), None, page.tabs, api_name=False)
    return built
