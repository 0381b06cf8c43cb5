"""Each loss against values worked out by hand on tiny cases."""
import math

import numpy as np
import pytest

from segdemo.networks import losses

# two pixels, two classes: pixel 0 is class 0 predicted 0.8, pixel 1 is class 1 predicted 0.6; a third is unknown
Y_TRUE = np.array([[[0, 1, -1]]])
Y_PRED = np.array([[[[0.8, 0.2], [0.4, 0.6], [0.01, 0.99]]]], np.float32)


def value(loss, *args, **kwargs):
    return float(loss(Y_TRUE, Y_PRED, *args, **kwargs))


def test_cross_entropy_ignores_unknown_pixels():
    assert value(losses.cross_entropy) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, rel=1e-5)


def test_focal_weighs_by_one_minus_p_to_the_gamma():
    expected = -(0.2**2 * math.log(0.8) + 0.4**2 * math.log(0.6)) / 2
    assert value(losses.focal, gamma=2.0) == pytest.approx(expected, rel=1e-5)
    assert value(losses.focal, gamma=0.0) == pytest.approx(value(losses.cross_entropy), rel=1e-5)


def test_dice_is_one_minus_mean_soft_f1():
    # class 0: TP 0.8, FP 0.4, FN 0.2 ; class 1: TP 0.6, FP 0.2, FN 0.4
    f1_0 = 2 * 0.8 / (2 * 0.8 + 0.4 + 0.2)
    f1_1 = 2 * 0.6 / (2 * 0.6 + 0.2 + 0.4)
    assert value(losses.dice) == pytest.approx(1 - (f1_0 + f1_1) / 2, rel=1e-4)


def test_tversky_prices_misses_and_false_alarms_separately():
    index_0 = 0.8 / (0.8 + 0.3 * 0.4 + 0.7 * 0.2)
    index_1 = 0.6 / (0.6 + 0.3 * 0.2 + 0.7 * 0.4)
    assert value(losses.tversky, alpha=0.3, beta=0.7) == pytest.approx(1 - (index_0 + index_1) / 2, rel=1e-4)


def test_tversky_named_in_a_loss_spec_is_not_dice():
    # class 0: TP 0.8, FP 0.4, FN 0.2 ; class 1: TP 0.6, FP 0.2, FN 0.4 (alpha 0.3 on FP, beta 0.7 on FN)
    index_0 = 0.8 / (0.8 + 0.3 * 0.4 + 0.7 * 0.2)
    index_1 = 0.6 / (0.6 + 0.3 * 0.2 + 0.7 * 0.4)
    tversky = float(losses.parse_loss("tversky")(Y_TRUE, Y_PRED))
    assert tversky == pytest.approx(1 - (index_0 + index_1) / 2, rel=1e-4)
    assert tversky != pytest.approx(float(losses.parse_loss("dice")(Y_TRUE, Y_PRED)), rel=1e-3)


def test_boundary_loss_is_zero_for_perfect_and_grows_with_shift():
    truth = np.zeros((1, 32, 32), np.int64)
    truth[0, 8:24, 8:24] = 1
    perfect = np.eye(2, dtype=np.float32)[truth]
    shifted = np.eye(2, dtype=np.float32)[np.roll(truth, 6, axis=2)]
    assert float(losses.boundary(truth, perfect)) == pytest.approx(0.0, abs=1e-4)
    assert float(losses.boundary(truth, shifted)) > 0.3


def test_parse_loss_builds_weighted_sums():
    combined = losses.parse_loss("0.5*ce + dice")
    expected = 0.5 * value(losses.cross_entropy) + value(losses.dice)
    assert float(combined(Y_TRUE, Y_PRED)) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="dicey"):
        losses.parse_loss("ce+dicey")


def test_all_unknown_batch_gives_finite_loss():
    truth = -np.ones((1, 2, 2), np.int64)
    probs = np.full((1, 2, 2, 3), 1 / 3, np.float32)
    for loss in losses.LOSSES.values():
        assert np.isfinite(float(loss(truth, probs)))
