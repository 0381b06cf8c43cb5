"""Keras metrics that accumulate a confusion matrix, so epoch scores are dataset-level."""
import numpy as np
import tensorflow as tf

from segdemo.data.soft_targets import split_packed
from segdemo.networks import metrics


class ConfusionMatrixMetric(tf.keras.metrics.Metric):
    """Streams a confusion matrix over an epoch; reports mIoU or pixel accuracy from it.

    Unknown pixels (negative labels) are skipped; a label packed with a teacher's answer counts by its class.  ``matrix()`` gives the counts, from which
    the training loop reads per-class IoU after validation.
    """

    REDUCTIONS = {"miou": metrics.iou, "pixel_accuracy": None}

    def __init__(self, num_classes, reduction="miou", name=None, **kwargs):
        super().__init__(name=name or reduction, **kwargs)
        if reduction not in self.REDUCTIONS:
            raise ValueError(f"reduction must be one of {sorted(self.REDUCTIONS)}")
        self.num_classes = num_classes
        self.reduction = reduction
        self.counts = self.add_weight(
            name="counts", shape=(num_classes, num_classes), initializer="zeros", dtype=tf.float64
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.reshape(tf.cast(split_packed(y_true)[0], tf.int32), [-1])
        y_pred = tf.reshape(tf.argmax(y_pred, axis=-1, output_type=tf.int32), [-1])
        valid = y_true >= 0
        batch = tf.math.confusion_matrix(
            tf.boolean_mask(y_true, valid),
            tf.boolean_mask(y_pred, valid),
            num_classes=self.num_classes,
            dtype=tf.float64,
        )
        self.counts.assign_add(batch)

    def result(self):
        counts = self.counts
        tp = tf.linalg.diag_part(counts)
        if self.reduction == "pixel_accuracy":
            return tf.math.divide_no_nan(tf.reduce_sum(tp), tf.reduce_sum(counts))
        union = tf.reduce_sum(counts, 0) + tf.reduce_sum(counts, 1) - tp
        present = union > 0
        return tf.reduce_mean(tf.boolean_mask(tp / tf.where(present, union, 1.0), present))

    def reset_state(self):
        self.counts.assign(tf.zeros_like(self.counts))

    def matrix(self):
        return np.rint(self.counts.numpy()).astype(np.int64)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "reduction": self.reduction}
