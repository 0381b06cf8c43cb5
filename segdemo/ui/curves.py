"""Training curves tab: each checkpoint's history.json as interactive Plotly charts.

The charts and the table are drawn when the page loads, in the browser's language.
"""
import html

import gradio as gr
import plotly.graph_objects as go

from segdemo.networks.checkpoint import HISTORY_FILE, METRICS_FILE, REPORTED_METRICS, runs_in
from segdemo.ui.common import distinct_titles, score_table
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_class, say_columns, say_metric_titles, t, table

ID = "curves"

PANELS = ("loss", "pixel_accuracy", "miou")
# Plotly's tab20 in (dark, light) pairs: one hue per decoder, dark on its first encoder, light on its second
HUES = (("#1f77b4", "#aec7e8"), ("#d62728", "#ff9896"), ("#2ca02c", "#98df8a"), ("#ff7f0e", "#ffbb78"),
        ("#9467bd", "#c5b0d5"), ("#8c564b", "#c49c94"), ("#e377c2", "#f7b6d2"), ("#17becf", "#9edae5"),
        ("#bcbd22", "#dbdb8d"), ("#7f7f7f", "#c7c7c7"))


# the ticks of a log axis, written out: Plotly's own wrote "5, 2, 1, 5, 2", so 0.5 and 0.2 read as 5 and 2
LOG_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
CHART_FONT = 16  # px, every text of a chart (titles larger): read from the back of a room on a projector
MODEBAR_MARGIN = 44  # px on the right, where Plotly's toolbar stands upright, clear of the title and the curves


def log_loss_axis(figure, empty=False):
    """Loss on a log scale: on a linear one, one model's early validation spike (near 5) flattened
    every other curve. Ticks at 1, 2 and 5 of each decade, written in full. An empty chart spans 0.1 to 10."""
    figure.update_yaxes(type="log", range=[-1, 1] if empty else None, tickvals=LOG_TICKS,
                        ticktext=[f"{tick:g}" for tick in LOG_TICKS], minor={"showgrid": False})


def readable(figure, title_size=CHART_FONT + 4):
    """A chart a class can read on a projector: text of ``CHART_FONT`` px, the title at the left and
    Plotly's toolbar upright in the right margin, so it never covers the title (it did, on a phone)."""
    margin = figure.layout.margin
    figure.update_layout(font={"size": CHART_FONT}, title={"x": 0, "xanchor": "left", "font": {"size": title_size}},
                         hoverlabel={"font": {"size": CHART_FONT}}, modebar={"orientation": "v"},
                         margin={"r": max(MODEBAR_MARGIN, margin.r or 0)})
    return figure


def colours(registry, names):
    """{name: colour}: a decoder keeps its hue on both encoders (dark, then light), so "same
    decoder, two encoders" reads as a pair in every chart; any other checkpoint (the seed
    recipe, a class run, a third of a decoder) takes a hue of its own."""
    found, waiting, hues = {}, {}, 0  # waiting: a decoder's (hue, encoder) until its other encoder comes
    for name in names:
        config = registry.entries[name].config
        decoder = (config.arch, config.label_set) if config else name
        first = waiting.get(decoder)
        if first and first[1] != config.backbone:
            del waiting[decoder]
            found[name] = HUES[first[0] % len(HUES)][1]
        else:
            waiting.setdefault(decoder, (hues, config.backbone if config else None))
            found[name] = HUES[hues % len(HUES)][0]
            hues += 1
    return found


def histories(registry):
    """{model name: list of epoch records} for every checkpoint with a readable history."""
    found = {}
    for name, entry in registry.entries.items():
        history = entry.record(HISTORY_FILE)
        if history:
            found[name] = history
    return found


def runs_apart(history, key):
    """(epochs, values, run names) of one line, with a gap where a new run begins: a soup's history
    (``segdemo.networks.soup``) holds runs that each started from the same weights, not one run going on."""
    points = []
    for index, record in enumerate(history):
        if index and record.get("run") != history[index - 1].get("run"):
            points.append((None, None, ""))
        points.append((record["epoch"], record.get(key), record.get("run", "")))
    return tuple(list(column) for column in zip(*points)) if points else ([], [], [])


def curves_figures(all_histories, colour_of, language="en", names=None):
    """One chart each for loss, pixel accuracy and mIoU per epoch; solid = training, dashed = validation.

    Separate charts, not subplots of one: the page sets them side by side on a projector and
    stacks them on a phone, where three subplots squeezed into one width overlapped.
    """
    longest = max((len(history) for history in all_histories.values()), default=1)
    names = names or {}
    figures = []
    for key in PANELS:
        figure = go.Figure()
        for model, history in all_histories.items():
            colour, name = colour_of[model], names.get(model, model)
            for prefix, dash, split in (("", "solid", "curves.training"), ("val_", "dash", "curves.validation")):
                epochs, values, runs = runs_apart(history, prefix + key)
                figure.add_trace(go.Scatter(
                    x=epochs, y=values, customdata=runs, mode="lines+markers",
                    line={"color": colour, "dash": dash}, marker={"size": 5}, name=name, legendgroup=model,
                    showlegend=False,
                    hovertemplate=f"{name} {say(language, split)}: %{{y:.3f}} %{{customdata}}<extra></extra>"))
        figure.update_xaxes(title_text=say(language, "curves.epoch"), dtick=max(1, longest // 6))
        if key == "loss":
            log_loss_axis(figure)
        figure.update_layout(title={"text": say(language, f"curves.{key}")},  # what the lines mean: in model_key
                             height=380, margin={"t": 50, "b": 50, "l": 56})
        figures.append(readable(figure))
    return figures


def model_key(names, colour_of, language="en"):
    """The three charts' one key, under them in the page's own text (it wraps, where a chart's title
    ran off a phone): what solid and dashed mean, then each model's colour and name (in each chart,
    seven names had wrapped into a legend taller than the curves)."""
    items = f'<span class="segdemo-model-key-item">{html.escape(say(language, "curves.line_key"))}</span>'
    items += "".join(f'<span class="segdemo-model-key-item"><span style="display:inline-block;width:2em;height:4px;'
                    f'vertical-align:middle;margin-right:6px;background:{colour_of[model]}"></span>{html.escape(names.get(model, model))}</span>'
                    for model in colour_of)
    return f'<div class="segdemo-model-key">{items}</div>'


def per_class_figure(registry, all_histories, colour_of, language="en", names=None):
    """Validation IoU per class: from metrics.json when evaluated, else the last epoch."""
    names = names or {}
    figure = go.Figure()
    for name in all_histories:
        evaluated = registry.entries[name].record(METRICS_FILE)
        if evaluated:
            scores = {cls: row["iou"] for cls, row in evaluated["per_class"].items()}
        else:
            scores = all_histories[name][-1].get("val_iou_per_class", {})
        figure.add_trace(go.Bar(x=[say_class(language, cls) for cls in scores], y=list(scores.values()),
                                name=names.get(name, name), marker_color=colour_of[name]))
    # the legend under the bars: beside them it left a phone a strip of bars 70 pixels wide
    figure.update_layout(barmode="group", height=460, yaxis={"title": "IoU", "range": [0, 1]},
                         title=say(language, "curves.per_class_title"), margin={"t": 60},
                         legend={"orientation": "h", "y": -0.2, "yanchor": "top"})
    return readable(figure)


def summary_rows(registry, language="en"):
    """One row of final validation metrics per checkpoint that has a metrics.json, saying what it was scored on."""
    rows, names = [], distinct_titles(registry, registry.entries, language)
    for name, entry in registry.entries.items():
        evaluated = entry.record(METRICS_FILE)
        if evaluated:
            scored_on = "curves.scored_fixed" if evaluated.get("split", "fixed") == "fixed" else "curves.scored_own"
            rows.append([names[name], say(language, scored_on, classes=len(entry.config.classes)),
                         *(metric.rounded(evaluated) for metric in REPORTED_METRICS), evaluated.get("images")])
    return rows


def summary_table(language, rows):
    """The final-metrics table: a column per reported metric, between what was scored and on how many photos."""
    model, scored_on, images = say_columns(language, "curves.summary_columns")
    return table([model, scored_on, *say_metric_titles(language, REPORTED_METRICS), images], rows)


def not_comparable_names(registry):
    """Checkpoints scored on validation photos of their own (the seed recipe's): not comparable with the rest."""
    return [name for name, entry in registry.entries.items()
            if (entry.record(METRICS_FILE) or {}).get("split", "fixed") != "fixed"]


def build(page: Page) -> Built:
    """The tab; its curves and tables are drawn in the browser's language when the page loads."""
    registry = page.registry
    all_histories = histories(registry)
    if not all_histories:
        gr.Markdown(t("curves.none"))
        return Built()
    with gr.Row():  # side by side on a projector, stacked on a phone
        curves = [gr.Plot(show_label=False, min_width=320) for _ in PANELS]
    key = gr.HTML()
    per_class = gr.Plot(label=t("curves.per_class_plot"))
    evaluated = bool(summary_rows(registry))
    if not evaluated:
        gr.Markdown(t("curves.unevaluated"))
    summary = score_table(t("final_metrics"), visible=evaluated)
    caveat = gr.Markdown()

    apart = not_comparable_names(registry)
    souped = {name: runs for name, history in all_histories.items() if (runs := len(runs_in(history))) > 1}
    colour_of = colours(registry, all_histories)

    def draw(request: gr.Request = None):
        language = language_of(request)
        names = distinct_titles(registry, registry.entries, language)
        notes = [say(language, "curves.not_comparable", names=", ".join(names[n] for n in apart))] if apart else []
        notes += [say(language, "curves.averaged_runs", name=names[n], runs=runs) for n, runs in souped.items()]
        return (*curves_figures(all_histories, colour_of, language, names), model_key(names, colour_of, language),
                per_class_figure(registry, all_histories, colour_of, language, names),
                summary_table(language, summary_rows(registry, language)), "\n\n".join(notes))

    return Built().fill_on_load(draw, [*curves, key, per_class, summary, caveat])
