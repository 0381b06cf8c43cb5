"""segdemo.serving.export picks the fastest way that keeps the float32 answers; the app runs it only while it is current."""
import json
import shutil
import sys

import numpy as np
import pytest

from segdemo.networks.checkpoint import ENGINE_FILE, NETWORK_FILE
from segdemo.networks.models import load_checkpoint, save_weights, weights_digest
from segdemo.serving import export, fidelity
from segdemo.serving.inference import Segmenter


@pytest.fixture(scope="module")
def exported(trained_checkpoints, tiny_data, tmp_path_factory):
    """A copy of the tiny PSPNet checkpoint after ``python -m segdemo.serving.export``, with its engine.json."""
    folder = tmp_path_factory.mktemp("exported") / "pspnet"
    shutil.copytree(trained_checkpoints / "pspnet", folder)
    assert export.main([str(folder), "--data", str(tiny_data), "--repeats", "3"]) == 0
    return folder, json.loads((folder / ENGINE_FILE).read_text())


def test_export_keeps_the_fastest_way_that_meets_the_bar(exported):
    folder, choice = exported
    rows = {row["engine"]: row for row in choice["candidates"]}
    assert set(rows) == {"keras", "litert-float32", "litert-int8-weights"}
    for row in rows.values():
        assert row["meets_bar"] == (row["equal"] >= fidelity.AGREEMENT_BAR
                                    and abs(row["miou"] - row["miou_float32"]) <= fidelity.MIOU_TOLERANCE)
    assert rows["litert-float32"]["equal"] > 0.999  # a float32 conversion must not change the answers
    meeting = [row for row in rows.values() if row["meets_bar"]]
    assert choice["engine"] == min(meeting, key=lambda row: row["ms"])["engine"]
    assert choice["weights_sha256"] == weights_digest(folder)
    assert "python -m segdemo.serving.export" in (folder / "command.txt").read_text()
    assert (folder / NETWORK_FILE).exists() == choice["engine"].startswith("litert")


def test_app_runs_the_exported_network_with_the_float32_answers(exported, tiny_data):
    folder, choice = exported
    segmenter, reference = Segmenter(folder), Segmenter(folder, precision="float32")
    assert segmenter.engine == choice["title"] and not segmenter.load_notes
    # an exported network runs without a Keras model, yet its size is still the checkpoint's
    assert (segmenter.model is None) == choice["engine"].startswith("litert")
    assert segmenter.parameter_count == reference.model.count_params() > 0
    images, truths, _ = fidelity.validation_images("regions", data=tiny_data)
    scores = fidelity.agreement(segmenter, images, fidelity.reference_answers(reference, images, truths), truths)
    kept = next(row for row in choice["candidates"] if row["engine"] == choice["engine"])
    assert scores["equal"] == pytest.approx(kept["equal"], abs=1e-6)


def test_a_stale_or_damaged_export_falls_back_to_keras_with_a_note(exported, tmp_path):
    folder = tmp_path / "pspnet"
    shutil.copytree(exported[0], folder)
    (folder / NETWORK_FILE).write_bytes(b"not a flatbuffer")
    (folder / ENGINE_FILE).write_text(json.dumps({**exported[1], "engine": "litert-float32", "title": "LiteRT float32"}))
    damaged = Segmenter(folder)
    assert damaged.engine.startswith("Keras") and "cannot be run" in damaged.load_notes[0]
    model, _ = load_checkpoint(folder)
    model.set_weights([w + 0.01 if w.dtype.kind == "f" else w for w in model.get_weights()])
    save_weights(model, folder)  # retrained, not re-exported
    stale = Segmenter(folder)
    assert stale.engine.startswith("Keras") and "exported from other weights" in stale.load_notes[0]
    assert "python -m segdemo.serving.export" in stale.load_notes[0]
    labels = stale.predict(np.zeros((1, *stale.size, 3), np.float32))[0].numpy()
    assert labels.shape == (1, *stale.size)


def test_without_litert_the_app_runs_keras_and_says_so(exported, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # as on a platform without its wheels
    segmenter = Segmenter(exported[0])
    assert segmenter.engine.startswith("Keras") and "LiteRT is not installed" in segmenter.load_notes[0]


def test_a_rerun_with_stale_only_keeps_a_current_export_and_redoes_a_stale_one(exported, tiny_data, tmp_path, capsys):
    folder = tmp_path / "pspnet"
    shutil.copytree(exported[0], folder)
    before = (folder / ENGINE_FILE).read_text()
    assert export.main([str(folder), "--data", str(tiny_data), "--stale-only"]) == 0
    assert (folder / ENGINE_FILE).read_text() == before and "matches its weights, kept" in capsys.readouterr().out
    model, _ = load_checkpoint(folder)
    model.set_weights([w + 0.01 if w.dtype.kind == "f" else w for w in model.get_weights()])
    save_weights(model, folder)
    assert export.main([str(folder), "--data", str(tiny_data), "--repeats", "2", "--stale-only"]) == 0
    assert json.loads((folder / ENGINE_FILE).read_text())["weights_sha256"] == weights_digest(folder)
