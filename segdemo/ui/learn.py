"""Learn tab: what each metric and loss means, and a playground that computes them live.

Every number in the playground comes from ``segdemo.networks.metrics`` and ``segdemo.networks.losses``, the
same functions that score and train the shipped models.  Below them: where segmentation is used, and
what a label costs, from the seconds this class spent in the Label tab.
"""
import gradio as gr
import numpy as np
from scipy import ndimage

from segdemo.data.own_photos import OwnPhotos, labelling_seconds
from segdemo.data.stanford import PHOTO_COUNT
from segdemo.networks import losses, metrics
from segdemo.ui.common import say_counted
from segdemo.ui.loss_evidence import build_loss_study
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, say_columns, say_table, t

ID = "learn"

CANVAS = 96


def square(size, top, left, side):
    mask = np.zeros((size, size), bool)
    mask[max(top, 0): max(top + side, 0), max(left, 0): max(left + side, 0)] = True
    return mask


def scene(object_side, shift_x, shift_y, grow, softness):
    """(truth labels, predicted probabilities) for the playground's two-class square world."""
    start = (CANVAS - object_side) // 2
    truth = square(CANVAS, start, start, object_side).astype(np.int32)
    side = max(object_side + int(grow), 0)
    offset = (CANVAS - side) // 2
    predicted = square(CANVAS, offset + int(shift_y), offset + int(shift_x), side).astype(np.float32)
    if softness > 0:
        predicted = ndimage.gaussian_filter(predicted, sigma=float(softness))
    foreground = 0.02 + 0.96 * predicted
    return truth, np.stack([1.0 - foreground, foreground], axis=-1)


def outcome_picture(truth, labels):
    picture = np.full((*truth.shape, 3), 235, np.uint8)
    picture[(truth == 1) & (labels == 1)] = (40, 170, 60)
    picture[(truth == 0) & (labels == 1)] = (215, 50, 50)
    picture[(truth == 1) & (labels == 0)] = (50, 90, 220)
    outline = truth.astype(bool) ^ ndimage.binary_erosion(truth.astype(bool))
    picture[outline] = (60, 60, 60)
    return np.kron(picture, np.ones((4, 4, 1), np.uint8))  # 4x larger so it is easy to see


def evaluate_scene(truth, probabilities, gamma, language="en"):
    """Rows of (name, value) for every metric and loss on one playground scene."""
    labels = np.argmax(probabilities, axis=-1)
    summary = metrics.score_labels(truth, labels, ["background", "object"])
    object_row = summary["per_class"]["object"]
    ap = metrics.AveragePrecision(2)
    ap.update(truth, probabilities)
    hd = metrics.hausdorff(truth == 1, labels == 1)
    batch_truth, batch_probs = truth[None], probabilities[None].astype(np.float32)
    rows = [
        ("metric.pixel_accuracy", summary["pixel_accuracy"]),
        ("metric.mean_accuracy", summary["mean_accuracy"]),
        ("metric.iou", object_row["iou"]),
        ("metric.miou", summary["miou"]),
        ("metric.fwiou", summary["fwiou"]),
        ("metric.f1", object_row["f1"]),
        ("metric.precision", object_row["precision"]),
        ("metric.recall", object_row["recall"]),
        ("metric.average_precision", ap.result()[1]),
        ("metric.hausdorff95", hd),
        ("loss.cross_entropy", losses.cross_entropy(batch_truth, batch_probs)),
        ("loss.focal", losses.focal(batch_truth, batch_probs, gamma=gamma)),
        ("loss.dice", losses.dice(batch_truth, batch_probs)),
        ("loss.tversky", losses.tversky(batch_truth, batch_probs, alpha=0.3, beta=0.7)),
        ("loss.boundary", losses.boundary(batch_truth, batch_probs)),
    ]
    return [[say(language, key, gamma=gamma), None if value is None or np.isnan(float(value)) else round(float(value), 4)]
            for key, value in rows]


def playground(object_side, shift_x, shift_y, grow, softness, gamma, request: gr.Request = None):
    """The outcome picture and the table of every metric and loss, in the browser's language."""
    language = language_of(request)
    truth, probabilities = scene(int(object_side), shift_x, shift_y, grow, softness)
    labels = np.argmax(probabilities, axis=-1)
    table = say_table(language, "playground.columns", evaluate_scene(truth, probabilities, float(gamma), language))
    return outcome_picture(truth, labels), table


def build(page: Page) -> Built:
    """The tab: the explanation, and the playground drawn once when the page loads."""
    gr.Markdown(t("learn.explanation"), latex_delimiters=[{"left": "$", "right": "$", "display": False}],
                elem_classes=["segdemo-wide-table", "segdemo-formulas"])  # formulas large enough for the back row
    gr.Markdown(t("learn.playground_title"))
    gr.Markdown(t("learn.playground_help"))
    with gr.Row():
        with gr.Column():
            side = gr.Slider(4, 80, value=40, step=2, label=t("imbalance"))
            shift_x = gr.Slider(-40, 40, value=6, step=1, label=t("shift_x"))
            shift_y = gr.Slider(-40, 40, value=0, step=1, label=t("shift_y"))
            grow = gr.Slider(-30, 30, value=0, step=1, label=t("grow"))
            softness = gr.Slider(0, 6, value=1.5, step=0.5, label=t("softness"))
            gamma = gr.Slider(0, 5, value=2, step=0.5, label=t("gamma"))
        with gr.Column():
            picture = gr.Image(label=t("playground"), type="numpy", interactive=False)
            table = gr.Dataframe(headers=say_columns("en", "playground.columns"), label=t("metric_table"),
                                 interactive=False, max_height=720, elem_id="playground-table",
                                 column_widths=["68%", "32%"], wrap=True)  # the value stays on a phone's screen
    controls = [side, shift_x, shift_y, grow, softness, gamma]
    for control in controls:
        control.change(playground, controls, [picture, table], api_name=False, show_progress="hidden")
    built = Built().fill_on_load(playground, [picture, table], inputs=controls)
    build_loss_study(built)
    with gr.Accordion(t("learn.uses_title"), open=False):
        gr.Markdown(t("learn.uses"))
        cost = gr.Markdown(elem_id="learn-labelling-cost")

    def cost_now(request: gr.Request = None):
        return labelling_cost(OwnPhotos(), language_of(request))

    return built.fill_on_load(cost_now, [cost])


def labelling_cost(store, language="en"):
    """What a label cost this class, from the seconds the Label tab measured, scaled to the dataset's 715 photos."""
    timed = labelling_seconds(store.entries())
    if not timed:
        return say(language, "learn.cost_none")
    median = float(np.median(timed))
    return say_counted(language, "learn.cost", len(timed), seconds=median, minutes=sum(timed) / 60,
               dataset_photos=PHOTO_COUNT, dataset_hours=PHOTO_COUNT * median / 3600)
