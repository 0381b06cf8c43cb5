"""Error analysis answers from what evaluation stored: each photo's confusion matrix (confusions.json)
equals a fresh computation, adds up to the model's matrix, and answers "which photos are behind
this cell" without running the network."""
import json
from pathlib import Path

import numpy as np
import pytest

from segdemo.data import load_dataset
from segdemo.data.labels import get_label_set
from segdemo.networks import metrics
from segdemo.networks.checkpoint import CONFUSIONS_FILE, METRICS_FILE
from segdemo.serving.inference import Segmenter

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints"
SHIPPED_EVALUATED = sorted(folder.name for folder in SHIPPED.iterdir() if (folder / METRICS_FILE).exists())


def records(folder):
    return json.loads((folder / METRICS_FILE).read_text()), json.loads((folder / CONFUSIONS_FILE).read_text())


def fresh_confusions(folder, data, ids):
    """Each photo's confusion matrix computed again, as ``segdemo.serving.evaluate`` does (float32)."""
    segmenter = Segmenter(folder, precision="float32")
    classes = segmenter.config.classes
    dataset = load_dataset(get_label_set(segmenter.config.label_set), data).subset(ids)
    return {image_id: metrics.confusion_matrix(mask, segmenter.segment(image).labels, len(classes)).tolist()
            for image_id, image, mask in zip(dataset.ids, dataset.images, dataset.masks)}


@pytest.mark.parametrize("name", SHIPPED_EVALUATED)
def test_each_shipped_checkpoint_stores_photo_matrices_that_add_up_to_its_scores(name):
    """The stored matrices belong to the committed evaluation: same photos, summing to its matrix, giving each photo's scores."""
    summary, confusions = records(SHIPPED / name)
    assert confusions["ids_sha1"] == summary["ids_sha1"] and confusions["classes"] == list(summary["per_class"])
    assert list(confusions["per_image"]) == [row["id"] for row in summary["per_image"]]
    counts = np.array(list(confusions["per_image"].values()), np.int64)
    assert np.array_equal(counts.sum(axis=0), np.array(summary["confusion_matrix"]))
    for row, matrix in zip(summary["per_image"], counts):
        assert row["pixel_accuracy"] == metrics.json_number(metrics.pixel_accuracy(matrix))
        assert row["miou"] == metrics.json_number(metrics.nan_mean(metrics.iou(matrix)))


def test_evaluation_stores_matrices_equal_to_a_fresh_computation(trained_checkpoints, tiny_data):
    folder = trained_checkpoints / "unet"
    _, confusions = records(folder)
    ids = list(confusions["per_image"])
    assert ids and fresh_confusions(folder, tiny_data, ids) == confusions["per_image"]


def test_photos_behind_a_cell_come_from_the_stored_matrices_without_the_network(trained_checkpoints):
    from segdemo.serving.registry import ModelRegistry
    from segdemo.ui.errors import confused_photos, evaluated_models, stored_confusions

    registry = ModelRegistry(trained_checkpoints)
    confusions = stored_confusions(registry, evaluated_models(registry))
    assert set(confusions) == {"unet", "pspnet", "fpn"}
    registry.get("unet").segmenter.answer = registry.get("unet").segmenter.segment = None  # any network pass fails
    _, stored = records(trained_checkpoints / "unet")
    sky, tree = stored["classes"].index("sky"), stored["classes"].index("tree")
    for true_class, predicted_class, t, p in (("sky", "sky", sky, sky), ("sky", "tree", sky, tree)):
        expected = sorted(((image_id, m[t][p], 100 * m[t][p] / sum(m[t])) for image_id, m in stored["per_image"].items()
                           if m[t][p]), key=lambda row: (-row[1], row[0]))
        table = confused_photos(registry, confusions, "unet", true_class, predicted_class)
        assert [row[1:3] for row in table["data"]] == [[image_id, pixels] for image_id, pixels, _ in expected]
        assert [row[3] for row in table["data"]] == [round(share, 1) for _, _, share in expected]
