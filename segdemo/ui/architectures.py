"""Architectures tab: how the classic segmentation networks differ, tied to the runnable models."""
from collections import Counter

import gradio as gr

from segdemo.networks.checkpoint import METRIC, METRICS_FILE
from segdemo.networks.architectures import get_architecture
from segdemo.networks.models import ARCH_TITLES, BACKBONE_TITLES
from segdemo.ui.common import millions, model_label, score_table
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_columns, say_metric_titles, t, table

ID = "architectures"


def output_stride(config):
    """How many times smaller than the input the decoder's label map is before its last upsampling.

    U-Net decodes back to full size, FPN and DeepLabV3+ predict at 1/4 and PSPNet at
    1/``psp_downsample``: the main reason their outlines differ (each architecture's spec says).
    """
    return get_architecture(config.arch).label_stride(config)


EVIDENCE_METRICS = (METRIC["pixel_accuracy"], METRIC["miou"], METRIC["mean_hausdorff95"])
ENCODER_METRICS = (METRIC["pixel_accuracy"], METRIC["miou"])


def evaluated_models(registry):
    """{name: metrics.json} of the available models scored on the recorded split (comparable with each other)."""
    return {name: metrics for name, metrics in registry.records(METRICS_FILE).items() if metrics.get("split", "fixed") == "fixed"}


def evidence_rows(registry):
    """One row per evaluated model of the encoder and label set most models share: the decoders side by side."""
    evaluated = evaluated_models(registry)
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
                         f"1/{output_stride(config)}", *(metric.rounded(metrics) for metric in EVIDENCE_METRICS)])
    return rows


def encoder_rows(registry):
    """One row per evaluated regions model whose decoder was also trained on another encoder:
    the same decoder side by side on each encoder, with its size, its time here and its scores."""
    evaluated = {name: metrics for name, metrics in evaluated_models(registry).items()
                 if registry.entries[name].config.label_set == "regions"}
    rows = []
    for (arch, _), runs in registry.same_decoder_on_several_encoders(evaluated):
        for backbone, name in runs:
            entry, metrics = registry.entries[name], evaluated[name]
            mountain = metrics.get("per_class", {}).get("mountain", {}).get("iou")
            rows.append([ARCH_TITLES.get(arch, arch), BACKBONE_TITLES.get(backbone, backbone),
                         millions(entry.segmenter.parameter_count), round(entry.segmenter.warm_milliseconds),
                         *(metric.rounded(metrics) for metric in ENCODER_METRICS),
                         None if mountain is None else round(mountain, 3)])
    return rows


def encoder_changes(rows, language="en"):
    """Under the table, what the second encoder changed for each decoder: mIoU and time against the first."""
    lines, baselines = [], {}
    for decoder, encoder, _, milliseconds, _, miou, _ in rows:
        baseline = baselines.setdefault(decoder, (encoder, milliseconds, miou))
        if baseline[0] != encoder and None not in (miou, baseline[2]):
            lines.append(say(language, "architectures.encoder_change", decoder=decoder, encoder=encoder, baseline=baseline[0],
                             change=miou - baseline[2], times=milliseconds / max(baseline[1], 1)))
    return "\n".join(f"- {line}" for line in lines)


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
        evidence = score_table(t("architectures.evidence_table"))

        def draw(request: gr.Request = None):
            language = language_of(request)
            headers = say_columns(language, "architectures.evidence_columns") + say_metric_titles(language, EVIDENCE_METRICS)
            return table(headers, rows)

        built.fill_on_load(draw, [evidence])
    encoder_table = encoder_rows(registry)
    if encoder_table:
        gr.Markdown(t("architectures.encoders"))
        encoders = score_table(t("architectures.encoder_table"))
        changes = gr.Markdown()

        def draw_encoders(request: gr.Request = None):
            language = language_of(request)
            headers = (say_columns(language, "architectures.encoder_columns") + say_metric_titles(language, ENCODER_METRICS)
                       + [say(language, "architectures.mountain_iou")])
            return table(headers, encoder_table), encoder_changes(encoder_table, language)

        built.fill_on_load(draw_encoders, [encoders, changes])
    to_inside = gr.Button(t("architectures.to_inside"), size="sm")
    to_inside.click(lambda: gr.Tabs(selected="inside"), None, page.tabs, api_name=False)
    return built
