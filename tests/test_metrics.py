"""segdemo.networks.metrics cross-checked against scikit-learn and SciPy on random data."""
import numpy as np
import pytest
from scipy.spatial.distance import directed_hausdorff
from sklearn import metrics as sk

from segdemo.networks import metrics


@pytest.fixture
def labelled():
    rng = np.random.default_rng(7)
    truth = rng.integers(-1, 4, size=(40, 50))  # class 4 of 5 never occurs: absent class
    pred = np.where(rng.random(truth.shape) < 0.6, truth, rng.integers(0, 5, truth.shape))
    pred = np.clip(pred, 0, 4)
    return truth, pred


def test_confusion_matrix_matches_sklearn_and_skips_unknown(labelled):
    truth, pred = labelled
    known = truth >= 0
    expected = sk.confusion_matrix(truth[known], pred[known], labels=range(5))
    np.testing.assert_array_equal(metrics.confusion_matrix(truth, pred, 5), expected)


def test_scores_match_sklearn(labelled):
    truth, pred = labelled
    known = truth >= 0
    t, p = truth[known], pred[known]
    cm = metrics.confusion_matrix(truth, pred, 5)
    present = [0, 1, 2, 3]
    assert metrics.pixel_accuracy(cm) == pytest.approx(sk.accuracy_score(t, p))
    np.testing.assert_allclose(metrics.iou(cm)[present], sk.jaccard_score(t, p, labels=present, average=None))
    np.testing.assert_allclose(metrics.f1(cm)[present], sk.f1_score(t, p, labels=present, average=None))
    np.testing.assert_allclose(metrics.precision(cm)[present], sk.precision_score(t, p, labels=present, average=None))
    np.testing.assert_allclose(metrics.class_accuracy(cm)[present], sk.recall_score(t, p, labels=present, average=None))
    summary = metrics.summarize(cm, ["a", "b", "c", "d", "e"])
    # class 4 is predicted but never true: IoU 0 (a real error), recall undefined (left out)
    assert summary["per_class"]["e"]["iou"] == 0.0
    assert summary["per_class"]["e"]["recall"] is None
    assert summary["miou"] == pytest.approx(np.mean(metrics.iou(cm)))
    assert summary["mean_accuracy"] == pytest.approx(sk.balanced_accuracy_score(t, p))
    weights = np.bincount(t, minlength=5) / t.size
    assert summary["fwiou"] == pytest.approx(np.sum(weights[present] * metrics.iou(cm)[present]))


def test_class_absent_from_truth_and_prediction_is_left_out_not_nan():
    cm = metrics.confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]), 3)
    assert np.isnan(metrics.iou(cm)[2])
    assert metrics.summarize(cm, ["a", "b", "c"])["miou"] == pytest.approx((0.5 + 0.5) / 2)


def test_average_precision_matches_sklearn():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 5000)
    logits = rng.normal(size=(5000, 3)) + 1.5 * np.eye(3)[truth]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    accumulator = metrics.AveragePrecision(3)
    accumulator.update(truth[:2000], probs[:2000])  # accumulation over two "images"
    accumulator.update(truth[2000:], probs[2000:])
    for c, ap in enumerate(accumulator.result()):
        assert ap == pytest.approx(sk.average_precision_score(truth == c, probs[:, c]), abs=2e-3)


def test_hausdorff_maximum_matches_scipy():
    a = np.zeros((40, 40), bool)
    b = np.zeros((40, 40), bool)
    a[5:20, 5:20] = True
    b[10:30, 8:25] = True
    edge = lambda m: np.argwhere(m & ~np.pad(m, 1)[2:, 1:-1] | m & ~np.pad(m, 1)[:-2, 1:-1]
                                 | m & ~np.pad(m, 1)[1:-1, 2:] | m & ~np.pad(m, 1)[1:-1, :-2])
    expected = max(directed_hausdorff(edge(a), edge(b))[0], directed_hausdorff(edge(b), edge(a))[0])
    assert metrics.hausdorff(a, b, percentile=100) == pytest.approx(expected)
    assert metrics.hausdorff(a, a) == 0.0
    assert np.isnan(metrics.hausdorff(a, np.zeros_like(a)))
