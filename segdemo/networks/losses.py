"""Segmentation losses that ignore unknown pixels.

Every loss takes ``y_true`` as integer labels of shape (B, H, W) where negative values
mean "unknown", and ``y_pred`` as class probabilities of shape (B, H, W, C); ``with_teacher`` also takes
labels packed with a teacher's probabilities (``segdemo.data.soft_targets``).  Unknown
pixels contribute nothing: they are dropped from sums and from the pixel count.
Notation below: t = one-hot truth, p = predicted probability, sums run over valid pixels
(and the batch), ``eps`` keeps empty classes finite.
"""
import functools
import re

import numpy as np
import tensorflow as tf

from segdemo.data.soft_targets import split_packed

EPS = 1e-6


def _prepare(y_true, y_pred):
    """(one-hot truth zeroed on unknown pixels, float32 probabilities, valid-pixel mask)."""
    y_pred = tf.cast(y_pred, tf.float32)
    y_true = tf.cast(y_true, tf.int32)
    if y_true.shape.rank == y_pred.shape.rank:
        y_true = tf.squeeze(y_true, axis=-1)
    valid = tf.cast(y_true >= 0, tf.float32)
    onehot = tf.one_hot(tf.maximum(y_true, 0), tf.shape(y_pred)[-1]) * valid[..., None]
    return onehot, y_pred, valid


def _mean_over_valid(per_pixel, valid):
    return tf.reduce_sum(per_pixel * valid) / tf.maximum(tf.reduce_sum(valid), 1.0)


def _class_weight_per_pixel(onehot, class_weights):
    """w_c of each pixel's true class (1 everywhere without weights)."""
    if class_weights is None:
        return 1.0
    return tf.reduce_sum(onehot * tf.constant(class_weights, tf.float32), axis=-1)


def cross_entropy(y_true, y_pred, class_weights=None):
    """Categorical cross-entropy: mean over valid pixels of -w_c sum_c t_c log p_c.

    ``class_weights`` (one w_c per class, default all 1) make a rare class's pixels count more.
    """
    onehot, probs, valid = _prepare(y_true, y_pred)
    per_pixel = -tf.reduce_sum(onehot * tf.math.log(tf.clip_by_value(probs, EPS, 1.0)), axis=-1)
    return _mean_over_valid(per_pixel * _class_weight_per_pixel(onehot, class_weights), valid)


def focal(y_true, y_pred, gamma=2.0, alpha=1.0, class_weights=None):
    """Focal loss (Lin et al. 2017): mean of -alpha w_c (1 - p_t)^gamma log p_t.

    gamma = 0 is cross-entropy; larger gamma silences pixels the model already gets right,
    so rare, hard classes weigh more.
    """
    onehot, probs, valid = _prepare(y_true, y_pred)
    p_true = tf.reduce_sum(onehot * probs, axis=-1)
    p_true = tf.clip_by_value(p_true, EPS, 1.0)
    per_pixel = -alpha * tf.pow(1.0 - p_true, gamma) * tf.math.log(p_true)
    return _mean_over_valid(per_pixel * _class_weight_per_pixel(onehot, class_weights), valid)


def _soft_counts(y_true, y_pred):
    """Soft true positives, false positives and false negatives per class."""
    onehot, probs, valid = _prepare(y_true, y_pred)
    probs = probs * valid[..., None]
    axes = tf.range(tf.rank(probs) - 1)
    tp = tf.reduce_sum(onehot * probs, axis=axes)
    fp = tf.reduce_sum((1.0 - onehot) * probs, axis=axes)
    fn = tf.reduce_sum(onehot * (1.0 - probs) * valid[..., None], axis=axes)
    return tp, fp, fn


def tversky(y_true, y_pred, alpha=0.3, beta=0.7, eps=EPS):
    """Tversky loss: 1 - mean_c (TP + eps) / (TP + alpha FP + beta FN + eps).

    alpha = beta = 0.5 is the Dice loss; beta > alpha punishes missed pixels more than
    false alarms, which helps small classes.  The defaults are Salehi et al.'s (2017) and the
    Learn tab's, so ``--loss tversky`` trains something other than ``--loss dice``.
    """
    tp, fp, fn = _soft_counts(y_true, y_pred)
    index = (tp + eps) / (tp + alpha * fp + beta * fn + eps)
    return 1.0 - tf.reduce_mean(index)


def dice(y_true, y_pred, eps=EPS):
    """Soft Dice loss: 1 - mean_c (2 TP + eps) / (2 TP + FP + FN + eps), i.e. 1 - soft F1."""
    return tversky(y_true, y_pred, alpha=0.5, beta=0.5, eps=eps)


def _soft_boundary(masks):
    """Pixels of a (soft) mask that touch its outside: max-pool of the complement minus it."""
    inverse = 1.0 - masks
    return tf.nn.max_pool2d(inverse, ksize=3, strides=1, padding="SAME") - inverse


def boundary(y_true, y_pred, theta=5, eps=EPS):
    """Boundary F1 loss (Bokhovkin & Burnaev 2019): 1 - mean_c BF1_c.

    Boundaries of truth and prediction are found with a 3x3 max-pool; a predicted boundary
    pixel counts as precise when a true boundary lies within ``theta`` pixels and vice
    versa.  Like the Hausdorff distance it looks only at where outlines are, so it punishes
    ragged or shifted edges that area-based losses barely notice.
    """
    onehot, probs, valid = _prepare(y_true, y_pred)
    valid = valid[..., None]
    true_edges = _soft_boundary(onehot) * valid
    pred_edges = _soft_boundary(probs * valid) * valid
    true_near = tf.nn.max_pool2d(true_edges, ksize=theta, strides=1, padding="SAME")
    pred_near = tf.nn.max_pool2d(pred_edges, ksize=theta, strides=1, padding="SAME")
    axes = tf.range(tf.rank(probs) - 1)
    precision = tf.reduce_sum(pred_edges * true_near, axis=axes) / (tf.reduce_sum(pred_edges, axis=axes) + eps)
    recall = tf.reduce_sum(pred_near * true_edges, axis=axes) / (tf.reduce_sum(true_edges, axis=axes) + eps)
    bf1 = 2.0 * precision * recall / (precision + recall + eps)
    return 1.0 - tf.reduce_mean(bf1)


LOSSES = {
    "ce": cross_entropy,
    "focal": focal,
    "dice": dice,
    "tversky": tversky,
    "boundary": boundary,
}

_TERM = re.compile(r"^(?:(\d+(?:\.\d+)?)\*)?([a-z]+)$")


WEIGHTED = {"ce", "focal"}  # the per-pixel losses that take class weights


def inverse_sqrt_frequency_weights(masks, num_classes):
    """w_c proportional to 1 / sqrt(pixel share of class c), scaled to average 1 over classes.

    Softer than inverse frequency: on Stanford Background's training split mountain (1% of
    pixels) gets about 2.5 and road (23%) about 0.55, instead of a 20-fold spread.
    """
    counts = np.zeros(num_classes, np.float64)
    for mask in masks:
        counts += np.bincount(mask[mask >= 0].reshape(-1), minlength=num_classes)[:num_classes]
    weights = 1.0 / np.sqrt(np.maximum(counts / max(counts.sum(), 1.0), 1e-4))
    return (weights / weights.mean()).round(4).tolist()


def teacher_divergence(teacher, y_pred):
    """KL(teacher || prediction), the mean over the pixels the teacher answered (padding has no answer).

    Unlike the labels, the teacher answers unlabelled pixels too, and says how sure it is: a pixel
    it splits between tree and grass asks for that split, not for a confident guess.
    """
    total = tf.reduce_sum(teacher, axis=-1, keepdims=True)
    answered = tf.cast(total[..., 0] > 0.5, tf.float32)
    teacher = teacher / tf.maximum(total, EPS)  # stored as whole 255ths: sums within 2% of one
    probs = tf.cast(y_pred, tf.float32)
    per_pixel = tf.reduce_sum(teacher * (tf.math.log(tf.clip_by_value(teacher, EPS, 1.0))
                                         - tf.math.log(tf.clip_by_value(probs, EPS, 1.0))), axis=-1)
    return _mean_over_valid(per_pixel, answered)


def with_teacher(loss, weight):
    """``loss`` on the labels plus ``weight`` times ``teacher_divergence`` where a label carries a teacher's
    answer (training batches); ``loss`` alone where it does not (validation)."""
    def total(y_true, y_pred):
        labels, teacher = split_packed(y_true)
        value = loss(labels, y_pred)
        return value if teacher is None else value + weight * teacher_divergence(teacher, y_pred)

    total.__name__ = f"{loss.__name__}_and_teacher"
    return total


def parse_loss(spec: str, class_weights=None):
    """A weighted sum from text such as ``ce+dice`` or ``0.5*focal+dice+0.1*boundary``.

    ``class_weights``, if given, go to the per-pixel terms (``ce``, ``focal``).
    """
    terms = []
    for term in spec.replace(" ", "").split("+"):
        match = _TERM.match(term)
        if not match or match.group(2) not in LOSSES:
            raise ValueError(f"cannot read loss term {term!r} in {spec!r}; known losses: {sorted(LOSSES)}")
        loss = LOSSES[match.group(2)]
        if class_weights is not None and match.group(2) in WEIGHTED:
            loss = functools.partial(loss, class_weights=class_weights)
        terms.append((float(match.group(1) or 1.0), loss))

    def combined(y_true, y_pred):
        return tf.add_n([weight * loss(y_true, y_pred) for weight, loss in terms])

    combined.__name__ = "loss_" + re.sub(r"\W", "_", spec)
    return combined
