"""The Learn tab's evidence on the losses: the loss study's table and per-class bars, in the page's language.

Read from ``studies/losses/`` (``segdemo.networks.loss_study``) once, when the page is built; the
tab shows it after the formulas and the playground, so the class goes from what a loss rewards on
a synthetic square to what it did on real photos.
"""
import gradio as gr

from segdemo.networks.checkpoint import METRIC
from segdemo.networks.loss_study import (RARE_CLASS, baseline_of, miou_gap, per_class_figure, read_runs, seed_noise,
                                         versus_baseline)
from segdemo.ui.common import score_table
from segdemo.ui.text import language_of, say, say_class, say_table, t

MIOU, PIXEL_ACCURACY, HD95 = METRIC["miou"], METRIC["pixel_accuracy"], METRIC["mean_hausdorff95"]
RARE_FLOOR = 0.05  # a mountain IoU below this is a few stray pixels, not a class the network has learnt


def study_rows(runs, language="en"):
    """One row per run: its scores first (a phone shows them without scrolling), its mIoU against plain CE,
    its seed, and its loss written out last."""
    baseline, noise = baseline_of(runs), seed_noise(runs)
    within = say(language, "learn.within_noise")
    return [[run.name, MIOU.rounded(run.metrics), versus_baseline(run, baseline, noise, within),
             round(run.iou(RARE_CLASS), 3), PIXEL_ACCURACY.rounded(run.metrics), HD95.rounded(run.metrics), run.seed,
             run.formula] for run in runs]


def noise_note(runs, language="en"):
    noise = seed_noise(runs)
    if not noise:
        return say(language, "learn.loss_study_no_noise")
    return say(language, "learn.loss_study_noise", miou=noise["miou"], mountain=noise[RARE_CLASS])


def findings(runs, language="en"):
    """What the numbers say, read from the runs themselves: which losses the seed noise cannot tell
    from plain cross-entropy, which are clearly off it, and which ones learn the rare class at all."""
    baseline, noise = baseline_of(runs), seed_noise(runs)
    groups = {"within": [], "below": [], "above": []}
    for run in runs:
        gap, within = miou_gap(run, baseline, noise)
        if gap is not None and "miou" in noise:
            groups["within" if within else ("below" if gap < 0 else "above")].append(f"{run.name} ({gap:+.3f})")
    lines = [say(language, f"learn.loss_findings_{group}", runs=", ".join(names)) for group, names in groups.items() if names]
    rare = [f"{run.name} ({run.iou(RARE_CLASS):.3f})" for run in sorted(runs, key=lambda r: -(r.iou(RARE_CLASS) or 0))
            if (run.iou(RARE_CLASS) or 0) >= RARE_FLOOR]
    lines.append(say(language, "learn.loss_findings_rare", floor=RARE_FLOOR, runs=", ".join(rare)) if rare
                 else say(language, "learn.loss_findings_no_rare", floor=RARE_FLOOR))
    return "\n".join(f"- {line}" for line in lines) + "\n\n" + say(language, "learn.loss_lesson")


def build_loss_study(built):
    """The section, with its table, bars and noise line filled in the visitor's language on page load."""
    gr.Markdown(t("learn.loss_study_title"))
    runs = read_runs()
    if not runs:
        gr.Markdown(t("learn.loss_study_none"))
        return
    gr.Markdown(t("learn.loss_study_intro"))
    table = score_table(t("learn.loss_study_table"))
    note = gr.Markdown()
    bars = gr.Plot(label=t("learn.loss_study_bars"))
    said = gr.Markdown()

    def draw(request: gr.Request = None):
        language = language_of(request)
        return (say_table(language, "learn.loss_study_columns", study_rows(runs, language)),
                noise_note(runs, language), per_class_figure(runs, lambda name: say_class(language, name),
                                 say(language, "learn.loss_study_legend")), findings(runs, language))

    built.fill_on_load(draw, [table, note, bars, said])
