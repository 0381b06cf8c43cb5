"""Fine-tuning a trained model on a class's own labelled photos (``train --own --init-from``): it starts
from the checkpoint's weights, scores them on the held-out photos first, and trains on the rest
(optionally with Stanford photos mixed in)."""
import json

import numpy as np
import pytest

from segdemo.data.labels import REGIONS
from segdemo.data.layout import DatasetError
from segdemo.data.own_photos import OwnPhotos
from segdemo.data.stanford import load_dataset
from conftest import TINY_SIZE


@pytest.fixture
def own_folder(tiny_data, tmp_path):
    """Six of the tiny dataset's photos saved as a class's own: four to train on, two held out."""
    dataset = load_dataset(REGIONS, tiny_data)
    photos = OwnPhotos(tmp_path / "own")
    for image, mask in list(zip(dataset.images, dataset.masks))[:6]:
        photos.add(image, mask, "0123456789ab")
    return photos


def test_fine_tuning_starts_from_the_checkpoint_and_scores_it_first(trained_checkpoints, own_folder, tiny_data, tmp_path):
    from segdemo.networks import train
    from segdemo.networks.models import stored_weights

    out = tmp_path / "fine-tuned"
    history = train.main(["--own", str(own_folder.root), "--mix-stanford", "4", "--data", str(tiny_data),
                          "--init-from", str(trained_checkpoints / "fpn"), "--arch", "unet", "--size", TINY_SIZE,
                          "--epochs", "1", "--batch", "4", "--lr", "1e-4", "--out", str(out)])
    assert history == 0
    config = json.loads((out / "config.json").read_text())
    assert config["arch"] == "fpn"  # the checkpoint's network, whatever --arch said
    before = json.loads((out / "before.json").read_text())["val_miou"]
    after = json.loads((out / "history.json").read_text())[0]["val_miou"]
    assert 0 <= before <= 1 and 0 <= after <= 1
    assert abs(after - before) < 0.5
    # two Adam steps of 1e-4 move no convolution weight far from the checkpoint's; a network that
    # started from fresh weights instead would be tenths away
    start, tuned = stored_weights(trained_checkpoints / "fpn"), stored_weights(out)
    assert max(float(np.abs(a - b).max()) for a, b in zip(start, tuned) if a.ndim == 4) < 0.01


def test_too_few_own_photos_say_what_is_missing(tmp_path):
    from segdemo.networks import train

    photos = OwnPhotos(tmp_path / "own")
    photos.add(np.zeros((40, 60, 3), np.uint8), np.zeros((40, 60), np.int16), "0123456789ab")
    args = train.build_parser().parse_args(["--own", str(photos.root), "--out", str(tmp_path / "x")])
    with pytest.raises(DatasetError, match="held-out photos"):
        train.own_split(args, REGIONS)


def test_a_class_run_on_own_photos_fine_tunes_the_shipped_model_at_its_size(trained_checkpoints, own_folder, tmp_path):
    from segdemo.networks import train
    from segdemo.serving.class_training import OWN_MIX, Run, RunSettings

    settings = RunSettings(arch="fpn", own_photos=str(own_folder.root), start_from=str(trained_checkpoints / "fpn"))
    arguments = train.build_parser().parse_args(settings.train_arguments(tmp_path / "model", "unused-encoder"))
    assert arguments.own == own_folder.root and arguments.init_from == trained_checkpoints / "fpn"
    assert arguments.mix_stanford == OWN_MIX and arguments.size == (96, 96) and arguments.limit == 0
    run = Run(1, settings, "owner", tmp_path, 0.0, 60.0, [])
    assert run.start_miou is None
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "before.json").write_text('{"val_miou": 0.61}')
    assert run.start_miou == 0.61
