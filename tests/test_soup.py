"""Averaged weights: a run's mean over its epochs (``train --average-weights``), kept across a resume, and
a soup of runs (``python -m segdemo.networks.soup``)."""
import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_SIZE

from segdemo.networks import soup, train
from segdemo.networks.models import ModelConfig, build_model, save_weights, stored_weights


class EpochWeights(tf.keras.callbacks.Callback):
    """Every epoch's weights at its end (the recorder has run before: they are the ones it averaged)."""

    def __init__(self, kept):
        super().__init__()
        self.kept = kept

    def on_epoch_end(self, epoch, logs=None):
        self.kept.append([w.astype(np.float32) for w in self.model.get_weights()])


@pytest.mark.long  # python -m pytest -m long: two trainings (about 50 s); the suite is near CI's 30 minutes
def test_averaged_run_keeps_the_mean_of_every_epochs_weights_across_a_resume(tiny_data, tmp_path):
    out, epochs = tmp_path / "run", []
    common = ["--data", str(tiny_data), "--size", TINY_SIZE, "--batch", "4", "--limit", "8", "--epochs", "3",
              "--schedule", "constant", "--average-weights", "--out", str(out)]
    assert train.main(common + ["--stop-after", "2"], callbacks=[EpochWeights(epochs)]) == 0
    assert train.main(common + ["--resume"], callbacks=[EpochWeights(epochs)]) == 0
    history = json.loads((out / "history.json").read_text())
    assert [entry["averaged_epochs"] for entry in history] == [1, 2, 3]
    assert len(epochs) == 3
    stored = stored_weights(out)
    expected = [np.mean([epoch[i] for epoch in epochs], axis=0) for i in range(len(stored))]
    moved = [i for i in range(len(stored)) if not np.allclose(epochs[0][i], epochs[2][i], atol=1e-3)]
    assert moved, "the weights moved between epochs: the mean is not any one epoch's"
    for i in range(len(stored)):
        np.testing.assert_allclose(stored[i].astype(np.float32), expected[i], rtol=2e-3, atol=2e-3)  # stored as float16
    assert not all(np.allclose(stored[i], epochs[2][i], atol=1e-3) for i in moved), "not the last epoch's weights"


def tiny_checkpoint(folder, arch="unet", seed=0):
    config = ModelConfig(arch=arch, backbone="mobilenetv2", label_set="regions", height=64, width=64)
    tf.keras.utils.set_random_seed(seed)
    folder.mkdir(parents=True)
    save_weights(build_model(config), folder)
    config.save(folder)
    return folder


def test_a_soup_is_the_plain_mean_of_its_runs_and_records_its_command(tmp_path):
    runs = [tiny_checkpoint(tmp_path / f"run{seed}", seed=seed) for seed in (1, 2, 3)]
    for seed, run in enumerate(runs[:2], start=1):
        (run / "history.json").write_text(json.dumps([{"epoch": e, "val_miou": seed + e / 10} for e in (1, 2)]))
        (run / "command.txt").write_text(f"python -m segdemo.networks.train --seed {seed} --out {run}\n")
    assert soup.main([*map(str, runs), "--out", str(tmp_path / "soup")]) == 0
    mixed, parts = stored_weights(tmp_path / "soup"), [stored_weights(run) for run in runs]
    differing = [i for i in range(len(mixed)) if not np.array_equal(parts[0][i], parts[1][i])]
    assert differing, "the runs differ, so the mean is not one of them"
    for i, weight in enumerate(mixed):
        expected = np.mean([part[i].astype(np.float64) for part in parts], axis=0)
        np.testing.assert_allclose(weight.astype(np.float64), expected, rtol=2e-3, atol=2e-3)
    assert ModelConfig.load(tmp_path / "soup") == ModelConfig.load(runs[0])
    history = json.loads((tmp_path / "soup" / "history.json").read_text())
    assert [(r["epoch"], r["run"], r["val_miou"]) for r in history] == [(1, "run1", 1.1), (2, "run1", 1.2),
                                                                        (3, "run2", 2.1), (4, "run2", 2.2)]
    commands = (tmp_path / "soup" / "command.txt").read_text().splitlines()
    assert [c.split()[2] for c in commands] == ["segdemo.networks.train", "segdemo.networks.train", "segdemo.networks.soup"]
    assert "--seed 1" in commands[0] and "--seed 2" in commands[1]


def test_a_soup_of_different_networks_is_refused(tmp_path, capsys):
    runs = [tiny_checkpoint(tmp_path / "unet"), tiny_checkpoint(tmp_path / "fpn", arch="fpn")]
    assert soup.main([*map(str, runs), "--out", str(tmp_path / "soup")]) == 1
    assert "one network" in capsys.readouterr().err
    assert not (tmp_path / "soup").exists()
    with pytest.raises(soup.CheckpointError, match="missing"):
        soup.soup([tmp_path / "nowhere", runs[0]], tmp_path / "soup")
