"""Segmentation metrics, all derived from counts accumulated over a whole dataset.

Averaging per-batch scores would weigh a batch of sky the same as a batch of boats; so
pixel-level scores come from one confusion matrix summed over every image, average
precision from score histograms summed the same way, and Hausdorff distances per image.
Classes that appear neither in the truth nor in the prediction have an undefined IoU
(NaN) and are left out of means rather than counted as 0 or 1.
"""
import numpy as np
from scipy import ndimage


def confusion_matrix(y_true, y_pred, num_classes):
    """Counts[i, j] of pixels of true class i predicted as j; negative truth is ignored."""
    y_true = np.asarray(y_true).reshape(-1)
    y_pred = np.asarray(y_pred).reshape(-1)
    keep = y_true >= 0
    flat = y_true[keep].astype(np.int64) * num_classes + y_pred[keep].astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _divide(numerator, denominator):
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def nan_mean(values):
    values = np.asarray(values, dtype=np.float64)
    return float(np.mean(values[~np.isnan(values)])) if np.any(~np.isnan(values)) else float("nan")


def pixel_accuracy(cm):
    """Global accuracy: correctly labelled pixels over all labelled pixels."""
    return float(_divide(np.trace(cm), cm.sum()))


def class_accuracy(cm):
    """Per-class recall, TP / (TP + FN): how much of each true class was found."""
    return _divide(np.diag(cm), cm.sum(axis=1))


def precision(cm):
    """Per-class precision, TP / (TP + FP): how much of each predicted class is right."""
    return _divide(np.diag(cm), cm.sum(axis=0))


def iou(cm):
    """Per-class intersection over union, TP / (TP + FP + FN)."""
    tp = np.diag(cm)
    return _divide(tp, cm.sum(axis=0) + cm.sum(axis=1) - tp)


def f1(cm):
    """Per-class F1 = Dice = 2 TP / (2 TP + FP + FN)."""
    tp = np.diag(cm)
    return _divide(2 * tp, cm.sum(axis=0) + cm.sum(axis=1))


def frequency_weighted_iou(cm):
    """IoU of each class weighted by how often it occurs in the truth."""
    frequency = cm.sum(axis=1) / max(cm.sum(), 1)
    scores = iou(cm)
    present = frequency > 0
    return float(np.sum(frequency[present] * np.nan_to_num(scores[present])))


def summarize(cm, class_names):
    """Every confusion-matrix metric, as plain numbers ready for JSON."""
    per_class = {
        "iou": iou(cm),
        "f1": f1(cm),
        "precision": precision(cm),
        "recall": class_accuracy(cm),
    }
    return {
        "pixel_accuracy": pixel_accuracy(cm),
        "mean_accuracy": nan_mean(per_class["recall"]),
        "miou": nan_mean(per_class["iou"]),
        "fwiou": frequency_weighted_iou(cm),
        "mean_f1": nan_mean(per_class["f1"]),
        "per_class": {
            name: {key: json_number(values[i]) for key, values in per_class.items()}
            for i, name in enumerate(class_names)
        },
        "pixels_per_class": {name: int(cm[i].sum()) for i, name in enumerate(class_names)},
        "confusion_matrix": cm.astype(int).tolist(),
    }


def score_labels(y_true, y_pred, class_names):
    """``summarize`` of one label map against its truth: how the app scores a single photo."""
    return summarize(confusion_matrix(y_true, y_pred, len(class_names)), class_names)


def json_number(value):
    return None if np.isnan(value) else float(value)


class AveragePrecision:
    """Per-class average precision from probability histograms accumulated over a dataset.

    Scores are binned into ``bins`` equal-width bins, so any number of pixels fits in
    constant memory; with 1000 bins the result matches the exact ranking to about 1e-3.
    """

    def __init__(self, num_classes, bins=1000):
        self.bins = bins
        self.positives = np.zeros((num_classes, bins), np.int64)
        self.negatives = np.zeros((num_classes, bins), np.int64)

    def update(self, y_true, probs):
        y_true = np.asarray(y_true).reshape(-1)
        probs = np.asarray(probs, dtype=np.float32).reshape(y_true.size, -1)
        keep = y_true >= 0
        y_true, probs = y_true[keep], probs[keep]
        index = np.clip((probs * self.bins).astype(np.int64), 0, self.bins - 1)
        for c in range(self.positives.shape[0]):
            is_c = y_true == c
            self.positives[c] += np.bincount(index[is_c, c], minlength=self.bins)
            self.negatives[c] += np.bincount(index[~is_c, c], minlength=self.bins)

    def result(self):
        """AP per class: sum over thresholds of (R_n - R_(n-1)) * P_n; NaN for absent classes."""
        scores = []
        for positives, negatives in zip(self.positives, self.negatives):
            tp = np.cumsum(positives[::-1])
            fp = np.cumsum(negatives[::-1])
            if tp[-1] == 0:
                scores.append(float("nan"))
                continue
            predicted = tp + fp
            precision_at = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
            recall_gain = np.diff(np.concatenate([[0], tp])) / tp[-1]
            scores.append(float(np.sum(recall_gain * precision_at)))
        return np.array(scores)


def _boundary(mask):
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def hausdorff(true_mask, pred_mask, percentile=95.0):
    """Hausdorff distance in pixels between two binary masks' outlines.

    The ``percentile`` of all outline-to-nearest-outline distances taken both ways (100 is
    the classic maximum; 95 ignores a few stray pixels).  NaN when either mask is empty,
    where the distance is undefined.
    """
    true_mask, pred_mask = np.asarray(true_mask, bool), np.asarray(pred_mask, bool)
    if not true_mask.any() or not pred_mask.any():
        return float("nan")
    true_edge, pred_edge = _boundary(true_mask), _boundary(pred_mask)
    to_pred = ndimage.distance_transform_edt(~pred_edge)[true_edge]
    to_true = ndimage.distance_transform_edt(~true_edge)[pred_edge]
    return float(np.percentile(np.concatenate([to_pred, to_true]), percentile))


def hausdorff_per_class(y_true, y_pred, num_classes, percentile=95.0):
    """Per-class Hausdorff distance for one image; unknown pixels count for neither mask."""
    known = np.asarray(y_true) >= 0
    return np.array(
        [hausdorff((y_true == c) & known, (y_pred == c) & known, percentile) for c in range(num_classes)]
    )
