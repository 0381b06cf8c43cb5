"""Learn tab: what each metric and loss means, and a playground that computes them live.

Every number in the playground comes from ``segdemo.metrics`` and ``segdemo.losses``, the
same functions that score and train the shipped models.
"""
import gradio as gr
import numpy as np
from scipy import ndimage

from segdemo import losses, metrics
from segdemo.ui.text import t

CANVAS = 96
EXPLANATION = r"""
### Metrics: how good is a label map?
Count, over all labelled pixels of the validation set, for each class $c$: true positives $TP_c$ (class $c$, predicted $c$), false positives $FP_c$ (predicted $c$, truly something else) and false negatives $FN_c$ (truly $c$, predicted something else). Pixels labelled *unknown* in the dataset are left out of every count.

| metric | formula | reads as | watch out |
|---|---|---|---|
| **Pixel (global) accuracy** | $\frac{\sum_c TP_c}{N}$ | share of pixels labelled right | dominated by big classes: 90% "sky and road" can hide a missed car |
| **Mean (class) accuracy** | $\frac{1}{C}\sum_c \frac{TP_c}{TP_c+FN_c}$ | average recall per class | ignores false alarms |
| **IoU** (Jaccard) | $\frac{TP_c}{TP_c+FP_c+FN_c}$ | overlap of predicted and true region | punishes both misses and false alarms |
| **mIoU** | $\frac{1}{C}\sum_c IoU_c$ | the standard benchmark score | every class weighs the same, however rare |
| **Frequency-weighted IoU** | $\sum_c \frac{N_c}{N} IoU_c$ | IoU weighted by how common a class is | between pixel accuracy and mIoU |
| **F1 / Dice** | $\frac{2TP_c}{2TP_c+FP_c+FN_c}$ | harmonic mean of precision and recall | always $\ge$ IoU: $F1 = \frac{2\,IoU}{1+IoU}$ |
| **Average precision** | $\sum_n (R_n-R_{n-1})P_n$ over confidence thresholds | how well confidence ranks pixels of class $c$ | uses probabilities, not just the arg-max |
| **Hausdorff distance (95%)** | 95th percentile of outline-to-outline distances, both ways | how far the outlines stray, in pixels | undefined when a class is missing from truth or prediction |

Scores are computed from **one confusion matrix summed over the whole dataset**, not averaged per image or per batch: otherwise an image that is all sky would weigh as much as a busy street.

### Losses: what the network is trained to lower
With $t$ the one-hot truth and $p$ the predicted probability of a pixel:

- **Cross-entropy** $-\sum_c t_c \log p_c$: the default; every pixel counts the same, so large classes dominate.
- **Focal** $-(1-p_t)^\gamma \log p_t$: with $\gamma>0$ the pixels already right (large $p_t$) fade out and hard pixels dominate. $\gamma=0$ is cross-entropy.
- **Dice** $1-\frac{1}{C}\sum_c \frac{2\sum t_c p_c}{\sum t_c+\sum p_c}$: a soft F1 per class; each class weighs the same, which helps rare classes.
- **Tversky** $1-\frac{TP}{TP+\alpha FP+\beta FN}$: Dice with separate prices for false alarms ($\alpha$) and misses ($\beta$); $\beta>\alpha$ favours recall of small objects.
- **Boundary (Hausdorff-style)** $1-BF1$: compares only the outlines (found by max-pooling), each matched within $\theta$ pixels; it punishes ragged or shifted edges that area losses barely notice. Usually added to an area loss.

The shipped models train on **cross-entropy + Dice**: stable gradients from the first, class balance from the second.
"""

PLAYGROUND_HELP = """
The dark outline is the **truth** (an object on background); the prediction is a square you move, resize and blur.
Green = true positive, red = false positive, blue = false negative. Shrink the object to see class imbalance:
pixel accuracy stays high while the object's IoU collapses.
"""


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


def evaluate_scene(truth, probabilities, gamma):
    """Rows of (name, value) for every metric and loss on one playground scene."""
    labels = np.argmax(probabilities, axis=-1)
    summary = metrics.summarize(metrics.confusion_matrix(truth, labels, 2), ["background", "object"])
    object_row = summary["per_class"]["object"]
    ap = metrics.AveragePrecision(2)
    ap.update(truth, probabilities)
    hd = metrics.hausdorff(truth == 1, labels == 1)
    batch_truth, batch_probs = truth[None], probabilities[None].astype(np.float32)
    rows = [
        ("pixel accuracy", summary["pixel_accuracy"]),
        ("mean class accuracy", summary["mean_accuracy"]),
        ("IoU (object)", object_row["iou"]),
        ("mIoU", summary["miou"]),
        ("frequency-weighted IoU", summary["fwiou"]),
        ("F1 / Dice (object)", object_row["f1"]),
        ("precision (object)", object_row["precision"]),
        ("recall (object)", object_row["recall"]),
        ("average precision (object)", ap.result()[1]),
        ("Hausdorff 95% (object, px)", hd),
        ("loss: cross-entropy", losses.cross_entropy(batch_truth, batch_probs)),
        (f"loss: focal (gamma={gamma:g})", losses.focal(batch_truth, batch_probs, gamma=gamma)),
        ("loss: Dice", losses.dice(batch_truth, batch_probs)),
        ("loss: Tversky (alpha=0.3, beta=0.7)", losses.tversky(batch_truth, batch_probs, alpha=0.3, beta=0.7)),
        ("loss: boundary F1", losses.boundary(batch_truth, batch_probs)),
    ]
    return [[name, None if value is None or np.isnan(float(value)) else round(float(value), 4)] for name, value in rows]


def playground(object_side, shift_x, shift_y, grow, softness, gamma):
    truth, probabilities = scene(int(object_side), shift_x, shift_y, grow, softness)
    labels = np.argmax(probabilities, axis=-1)
    return outcome_picture(truth, labels), evaluate_scene(truth, probabilities, float(gamma))


def build():
    gr.Markdown(EXPLANATION, latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    gr.Markdown("### " + "Playground")
    gr.Markdown(PLAYGROUND_HELP)
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
            table = gr.Dataframe(headers=["metric / loss", "value"], label=t("metric_table"), interactive=False,
                                 elem_id="playground-table")
    controls = [side, shift_x, shift_y, grow, softness, gamma]
    for control in controls:
        control.change(playground, controls, [picture, table], api_name=False, show_progress="hidden")
    return controls, picture, table
