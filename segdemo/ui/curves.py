"""Training curves tab: each checkpoint's history.json as interactive Plotly charts."""
import gradio as gr
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segdemo.ui.text import t

PANELS = (("loss", "Loss"), ("pixel_accuracy", "Pixel accuracy"), ("miou", "mIoU"))
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
SUMMARY_COLUMNS = ["model", "pixel accuracy", "mean accuracy", "mIoU", "FWIoU", "mean F1", "mAP", "mean HD95 (px)", "images"]


def histories(registry):
    """{model name: list of epoch records} for every checkpoint with a readable history."""
    found = {}
    for name, entry in registry.entries.items():
        history = entry.read_json("history.json")
        if history:
            found[name] = history
    return found


def curves_figure(all_histories):
    """Loss, pixel accuracy and mIoU per epoch; solid = training, dashed = validation."""
    figure = make_subplots(rows=1, cols=len(PANELS), subplot_titles=[title for _, title in PANELS])
    for index, (name, history) in enumerate(all_histories.items()):
        colour = PALETTE[index % len(PALETTE)]
        epochs = [record["epoch"] for record in history]
        for column, (key, _) in enumerate(PANELS, start=1):
            for prefix, dash in (("", "solid"), ("val_", "dash")):
                values = [record.get(prefix + key) for record in history]
                figure.add_trace(go.Scatter(
                    x=epochs, y=values, mode="lines+markers", line={"color": colour, "dash": dash},
                    name=f"{name} {'validation' if prefix else 'training'}", legendgroup=name,
                    showlegend=column == 1,
                ), row=1, col=column)
    longest = max((len(history) for history in all_histories.values()), default=1)
    figure.update_xaxes(title_text="epoch", dtick=max(1, longest // 10))
    figure.update_layout(height=420, margin={"t": 40, "b": 40}, legend={"orientation": "h", "y": -0.25})
    return figure


def per_class_figure(registry, all_histories):
    """Validation IoU per class: from metrics.json when evaluated, else the last epoch."""
    figure = go.Figure()
    for index, name in enumerate(all_histories):
        entry = registry.entries[name]
        evaluated = entry.read_json("metrics.json")
        if evaluated:
            scores = {cls: row["iou"] for cls, row in evaluated["per_class"].items()}
        else:
            scores = all_histories[name][-1].get("val_iou_per_class", {})
        figure.add_trace(go.Bar(x=list(scores), y=list(scores.values()), name=name,
                                marker_color=PALETTE[index % len(PALETTE)]))
    figure.update_layout(barmode="group", height=380, yaxis={"title": "IoU", "range": [0, 1]},
                         title="Validation IoU per class", margin={"t": 50})
    return figure


def summary_rows(registry):
    rows = []
    for name, entry in registry.entries.items():
        evaluated = entry.read_json("metrics.json")
        if evaluated:
            keys = ("pixel_accuracy", "mean_accuracy", "miou", "fwiou", "mean_f1", "mean_average_precision", "mean_hausdorff95")
            rows.append([name, *(round(evaluated[k], 4) if evaluated.get(k) is not None else None for k in keys),
                         evaluated.get("images")])
    return rows


def build(registry):
    all_histories = histories(registry)
    if not all_histories:
        gr.Markdown(f"No `history.json` in any checkpoint under `{registry.root}` yet: curves appear once a model is trained.")
        return
    gr.Plot(curves_figure(all_histories), label="Curves")
    gr.Plot(per_class_figure(registry, all_histories), label="Per-class IoU")
    rows = summary_rows(registry)
    if rows:
        gr.Dataframe(rows, headers=SUMMARY_COLUMNS, label=t("final_metrics"), interactive=False)
    else:
        gr.Markdown("No checkpoint has a `metrics.json` yet: run `python -m segdemo.evaluate checkpoints/NAME`.")
