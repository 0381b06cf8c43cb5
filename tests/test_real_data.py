"""Tests on the real Stanford Background (unpacked from ../shared/data into the test cache).

They run wherever the shared archive is, CI included: the data's shapes and values, the
recorded split, BatchNormalization statistics that follow the weights during a short real
run, and every shipped checkpoint scoring what its committed metrics.json says.
"""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from segdemo.data import load_dataset, read_label_matrix
from segdemo.data.labels import REGIONS, SURFACES
from segdemo.data.split import SPLIT_FILE, read_split_file, seeded_split
from segdemo.networks.pretrained import SHARED_WEIGHTS

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
SHIPPED = sorted(path.parent for path in CHECKPOINTS.glob("*/metrics.json"))


def test_715_images_with_matching_labels_in_range(real_data):
    regions, surfaces = load_dataset(REGIONS, real_data), load_dataset(SURFACES, real_data)
    assert len(regions) == len(surfaces) == 715
    sizes = {image.shape[:2] for image in regions.images}
    assert len(sizes) == 51
    assert sum(image.shape[:2] == (240, 320) for image in regions.images) == 531
    for dataset, top in ((regions, 7), (surfaces, 2)):
        values = np.unique(np.concatenate([np.unique(mask) for mask in dataset.masks]))
        assert values.min() == -1 and values.max() == top, dataset.label_set.name
        assert all(m.shape == i.shape[:2] for i, m in zip(dataset.images, dataset.masks))
    layers = read_label_matrix(real_data / "labels" / f"{regions.ids[0]}.layers.txt")
    assert layers.shape == regions.masks[0].shape


def test_recorded_split_is_the_seeded_one(real_data):
    ids = load_dataset(REGIONS, real_data).ids
    recorded = read_split_file(SPLIT_FILE)
    train, val = seeded_split(ids)
    assert recorded == val and len(recorded) == 143 and len(train) == 572


def _inference_and_batch_statistics_accuracy(checkpoint, real_data, size, count=48):
    """Validation pixel accuracy of one checkpoint with moving statistics and with batch statistics."""
    import tensorflow as tf

    from segdemo.data import load_split
    from segdemo.data.pipeline import eval_dataset
    from segdemo.networks.models import load_checkpoint

    dataset = load_dataset(REGIONS, real_data)
    _, val = load_split(dataset.ids)
    model, _ = load_checkpoint(checkpoint)
    correct = np.zeros(2)
    total = 0
    # one batch of all ``count`` photos: batch statistics of 8 photos are themselves too noisy a reference
    for images, masks in eval_dataset(dataset.subset(val[:count]), size, count):
        valid = masks.numpy() >= 0
        for k, training in enumerate((False, True)):
            labels = tf.argmax(model(images, training=training), axis=-1).numpy()
            correct[k] += np.sum((labels == masks.numpy()) & valid)
        total += valid.sum()
    return correct / total


@pytest.mark.long  # python -m pytest -m long
def test_batchnorm_moving_statistics_follow_a_short_real_run(real_data, tmp_path):
    """The bug this guards against: Keras' MobileNetV2 keeps BatchNorm momentum 0.999, so after a
    short fine-tune validation (moving statistics) scored far below the same weights with batch
    statistics. With segdemo's momentum the two agree; with the layers' own they must not.

    Two epochs, not one: a one-epoch run is all warm-up, its weights move fastest in its last
    steps, and even momentum 0.9 then trailed by 0.04 to 0.09 from run to run on this test."""
    from segdemo.networks import train

    gaps = {}
    for name, momentum in (("segdemo", "0.9"), ("keras-default", "0")):
        out = tmp_path / name
        status = train.main(["--data", str(real_data), "--arch", "unet", "--size", "96x128", "--epochs", "2",
                             "--batch", "8", "--limit", "240", "--bn-momentum", momentum, "--out", str(out),
                             "--resume-dir", str(tmp_path / f"{name}-resume"), "--encoder-weights", str(SHARED_WEIGHTS)])
        assert status == 0
        moving, batch = _inference_and_batch_statistics_accuracy(out, real_data, (96, 128))
        gaps[name] = batch - moving
    print(f"validation pixel accuracy, batch statistics minus moving statistics: {gaps}")
    assert abs(gaps["segdemo"]) < 0.05, gaps
    assert gaps["keras-default"] > 0.1, f"the test no longer sees the old behaviour: {gaps}"


def test_checkpoints_are_shipped():
    assert {path.name for path in SHIPPED} >= {"unet", "pspnet", "fpn"}


# every 4th of the 143 validation photos (36): each photo is checked against the committed evaluation's
# own matrix for it, so a subset proves the committed figures as surely, in a quarter of the time
EVERY = 4


@pytest.fixture(scope="module")
def float32_answers(real_data):
    """``answers(checkpoint)``: every ``EVERY``th of its committed validation photos (with ids and truths)
    and ``fidelity.reference_answers`` on them.

    One float32 pass per checkpoint serves both tests below (each made its own before: the
    suite's longest tests, and more of them with every checkpoint shipped).
    """
    from segdemo.data import load_split
    from segdemo.data.labels import get_label_set
    from segdemo.serving import fidelity
    from segdemo.serving.inference import Segmenter

    found = {}

    def answers(checkpoint):
        if checkpoint not in found:
            reference = Segmenter(checkpoint, precision="float32")
            dataset = load_dataset(get_label_set(reference.config.label_set), real_data)
            val_ids = load_split(dataset.ids, committed_metrics(checkpoint).get("split", "fixed"))[1]
            assert hashlib.sha1(",".join(val_ids).encode()).hexdigest() == committed_metrics(checkpoint)["ids_sha1"]
            val = dataset.subset(val_ids[::EVERY])
            found[checkpoint] = val, fidelity.reference_answers(reference, val.images, val.masks)
        return found[checkpoint]

    return answers


def committed_metrics(checkpoint):
    return json.loads((checkpoint / "metrics.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("checkpoint", SHIPPED, ids=[path.name for path in SHIPPED])
def test_shipped_checkpoint_reproduces_its_metrics(checkpoint, float32_answers):
    """Re-scoring the committed weights gives each photo the confusion matrix the committed evaluation
    stored for it (``tests/test_error_analysis.py`` proves those matrices add up to the committed figures).

    A predicted label may flip where two classes' float32 scores tie to the last bit, which differs
    between CPUs' vector paths (seen in CI: 1 pixel of 76,800), hence a bound, not equality.
    """
    from segdemo.networks import metrics

    committed = committed_metrics(checkpoint)
    assert committed.get("precision", "float32") == "float32", "committed figures are the float32 model's"
    stored = json.loads((checkpoint / "confusions.json").read_text())["per_image"]
    val, (labels, _) = float32_answers(checkpoint)
    classes = len(committed["per_class"])
    for image_id, truth, answer in zip(val.ids, val.masks, labels):
        fresh, kept = metrics.confusion_matrix(truth, answer, classes), np.array(stored[image_id])
        assert np.array_equal(fresh.sum(axis=1), kept.sum(axis=1)), image_id  # the same true labels
        assert np.abs(fresh - kept).sum() / 2 <= 0.0005 * kept.sum(), image_id  # pixels whose label moved


@pytest.mark.slow
@pytest.mark.parametrize("checkpoint", SHIPPED, ids=[path.name for path in SHIPPED])
def test_shipped_engine_keeps_the_float32_answers(checkpoint, float32_answers):
    """What the app runs for a shipped checkpoint is current and meets the bar on the validation photos, re-measured."""
    from segdemo.networks.models import weights_digest
    from segdemo.serving import fidelity
    from segdemo.serving.engine import read_choice
    from segdemo.serving.inference import Segmenter

    choice = read_choice(checkpoint)
    assert choice is not None, f"run: python -m segdemo.serving.export {checkpoint.relative_to(CHECKPOINTS.parent)}"
    assert choice["weights_sha256"] == weights_digest(checkpoint)
    app = Segmenter(checkpoint)
    assert app.engine == choice["title"] and not app.load_notes
    val, reference = float32_answers(checkpoint)
    scores = fidelity.agreement(app, val.images, reference, val.masks)
    print(f"{checkpoint.name}: {app.engine}: labels equal {100 * scores['equal']:.2f}%, "
          f"mIoU {scores['miou']:.4f} vs {scores['miou_float32']:.4f}")
    kept = next(row for row in choice["candidates"] if row["engine"] == choice["engine"])
    # the export measured all 143 photos and kept a way that met the bar there; on this quarter the share
    # of equal labels is re-measured (a mIoU over 36 photos swings with a rare class: the bar's is over 143)
    assert kept["meets_bar"] and fidelity.meets_bar(kept), "a shipped checkpoint must run a way that keeps its float32 answers"
    assert scores["equal"] == pytest.approx(kept["equal"], abs=0.005)
