"""Architectures tab: how the classic segmentation networks differ, tied to the runnable models."""
import random
import threading
import time
from collections import Counter

import gradio as gr
import numpy as np

from segdemo.networks.checkpoint import METRIC, METRICS_FILE
from segdemo.networks.architectures import get_architecture
from segdemo.networks.models import ARCH_TITLES, BACKBONE_TITLES
from segdemo.ui.common import millions, model_label, score_table
from segdemo.ui import deeplab_lessons
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_columns, say_metric_titles, t, table

ID = "architectures"
CSS = """  /* the table's year column unbroken */
.segdemo-architectures td:nth-child(2), .segdemo-architectures th:nth-child(2) { white-space: nowrap; }
""" + deeplab_lessons.CSS


def output_stride(config):
    """How many times smaller than the input the decoder's label map is before its last upsampling.

    U-Net decodes back to full size, FPN and DeepLabV3+ predict at 1/4 and PSPNet at
    1/``psp_downsample``: the main reason their outlines differ (each architecture's spec says).
    """
    return get_architecture(config.arch).label_stride(config)


EVIDENCE_METRICS = (METRIC["pixel_accuracy"], METRIC["miou"], METRIC["mean_hausdorff95"])
ENCODER_METRICS = (METRIC["pixel_accuracy"], METRIC["miou"])


def evidence_rows(registry):
    """One row per evaluated model of the encoder and label set most models share: the decoders side by side."""
    evaluated = registry.comparable_scores()
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


SPEED_ROUNDS = 9  # passes per model in the speed trials
SPEED_DELAY_S = 2.0  # after the tab is built: the app finishes starting first


class SpeedTrials:
    """Each model's time per photo on this computer, measured so a comparison means something.

    One measurement at start-up gave "0.3x its time" where three Compare runs gave 1.06, 0.37 and
    0.97 (issue 33). Here, in a thread of its own once the app has started, ``rounds`` rounds
    each run every model once on a blank photo at its input size, in a shuffled order, so a busy
    moment of the computer slows all models alike; a model's time is the median of its passes,
    with the middle half of them as its spread, and a ratio between two models is the median of
    the ratios within each round (the two passes were neighbours in time), with its middle half.
    """

    def __init__(self, registry, names, rounds=SPEED_ROUNDS, delay_s=SPEED_DELAY_S):
        self.registry, self.names, self.rounds = registry, list(names), rounds
        self.samples = {name: [] for name in self.names}
        self.done = threading.Event()
        threading.Thread(target=self._measure, args=(delay_s,), daemon=True, name="speed-trials").start()

    def _measure(self, delay_s):
        time.sleep(delay_s)
        try:
            order = random.Random(0)
            for _ in range(self.rounds):
                for name in order.sample(self.names, len(self.names)):
                    segmenter = self.registry.get(name).segmenter
                    blank = np.zeros((1, *segmenter.size, 3), np.float32)
                    started = time.perf_counter()
                    segmenter.network(blank)
                    self.samples[name].append(1000 * (time.perf_counter() - started))
        except Exception:  # a model removed meanwhile: its figures stay empty, the page says none
            pass
        finally:
            self.done.set()

    def wait(self, timeout_s):
        return self.done.wait(timeout_s)

    def median(self, name):
        """Median milliseconds per pass, or None before the trials have ended."""
        samples = self.samples.get(name) if self.done.is_set() else None
        return float(np.median(samples)) if samples else None

    def spread(self, name):
        """"58-66": the middle half of the passes, in milliseconds; "" before the trials have ended."""
        samples = self.samples.get(name) if self.done.is_set() else None
        if not samples:
            return ""
        low, high = np.percentile(samples, [25, 75])
        return f"{low:.0f}-{high:.0f}"

    def ratio(self, name, baseline):
        """(median, 25th, 75th percentile) of ``name``'s time over ``baseline``'s within each round; None without trials."""
        ours, theirs = (self.samples.get(n) if self.done.is_set() else None for n in (name, baseline))
        if not ours or not theirs:
            return None
        ratios = np.asarray(ours[:len(theirs)]) / np.maximum(np.asarray(theirs[:len(ours)]), 1e-6)
        return tuple(float(v) for v in np.percentile(ratios, [50, 25, 75]))


def encoder_models(registry):
    """[(decoder title, encoder title, name)] of the evaluated regions models whose decoder was also
    trained on another encoder: the same decoder side by side on each encoder."""
    evaluated = {name: metrics for name, metrics in registry.comparable_scores().items()
                 if registry.entries[name].config.label_set == "regions"}
    return [(ARCH_TITLES.get(arch, arch), BACKBONE_TITLES.get(backbone, backbone), name)
            for (arch, _), runs in registry.same_decoder_on_several_encoders(evaluated) for backbone, name in runs]


def encoder_rows(registry, speed=None):
    """One row per model of ``encoder_models``: its size, its time here (``SpeedTrials``: median
    and middle half; empty without them) and its scores."""
    rows = []
    for decoder, encoder, name in encoder_models(registry):
        entry, metrics = registry.entries[name], registry.entries[name].record(METRICS_FILE)
        mountain = metrics.get("per_class", {}).get("mountain", {}).get("iou")
        median = speed.median(name) if speed else None
        rows.append([decoder, encoder, millions(entry.segmenter.parameter_count),
                     None if median is None else round(median), speed.spread(name) if speed else "",
                     *(metric.rounded(metrics) for metric in ENCODER_METRICS),
                     None if mountain is None else round(mountain, 3)])
    return rows


def encoder_changes(rows, language="en", speed=None, names=None):
    """Under the table, what the second encoder changed for each decoder: mIoU, and time against the
    first (from ``speed``'s rounds, with their middle half, when ``names`` gives each row's model)."""
    lines, baselines = [], {}
    for index, (decoder, encoder, _, milliseconds, *_, miou, _) in enumerate(rows):
        name = names[index] if names else None
        baseline = baselines.setdefault(decoder, (encoder, milliseconds, miou, name))
        if baseline[0] == encoder or None in (miou, baseline[2]):
            continue
        ratio = speed.ratio(name, baseline[3]) if speed and name else None
        if ratio is None and None in (milliseconds, baseline[1]):
            time_words = say(language, "architectures.time_unmeasured")
        elif ratio is None:
            time_words = say(language, "architectures.time_ratio", times=milliseconds / max(baseline[1], 1))
        else:
            time_words = say(language, "architectures.time_ratio_spread", times=ratio[0], low=ratio[1], high=ratio[2],
                             rounds=speed.rounds)
        lines.append(say(language, "architectures.encoder_change", decoder=decoder, encoder=encoder,
                         baseline=baseline[0], change=miou - baseline[2], time=time_words))
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
    models = encoder_models(registry)
    if models:
        gr.Markdown(t("architectures.encoders"))
        encoders = score_table(t("architectures.encoder_table"))
        changes = gr.Markdown()
        names = [name for _, _, name in models]
        speed = SpeedTrials(registry, names)

        def draw_encoders(request: gr.Request = None):
            language = language_of(request)
            speed.wait(timeout_s=20)  # a page opened as the app starts waits for the trials (a few seconds) once
            rows = encoder_rows(registry, speed)
            headers = (say_columns(language, "architectures.encoder_columns") + say_metric_titles(language, ENCODER_METRICS)
                       + [say(language, "architectures.mountain_iou")])
            return table(headers, rows), encoder_changes(rows, language, speed, names)

        built.fill_on_load(draw_encoders, [encoders, changes])
    deeplab_lessons.build_section(page, built)
    to_inside = gr.Button(t("architectures.to_inside"), size="sm")
    to_inside.click(lambda: gr.Tabs(selected="inside"), None, page.tabs, api_name=False)
    return built
