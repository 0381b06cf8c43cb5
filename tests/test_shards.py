"""Weights stored in parts under Hugging Face's 10 MB limit, and read back exactly or not at all."""
import subprocess
from pathlib import Path

import numpy as np
import pytest

from segdemo.networks import shards
from segdemo.networks.models import CheckpointError, ModelConfig, build_model, load_checkpoint, save_weights

ROOT = Path(__file__).resolve().parents[1]
SPACES_LIMIT = 10 * 10**6


def test_small_file_is_written_whole(tmp_path):
    assert shards.write(tmp_path / "w.npz", b"abc", part_bytes=10) == [tmp_path / "w.npz"]
    assert shards.read(tmp_path / "w.npz") == b"abc"


def test_large_file_round_trips_through_checked_parts(tmp_path):
    data = bytes(range(256)) * 3
    written = shards.write(tmp_path / "w.npz", data, part_bytes=300)
    assert [p.name for p in written] == ["w.npz.part1", "w.npz.part2", "w.npz.part3", "w.npz.parts.json"]
    assert max(p.stat().st_size for p in written[:3]) <= 300
    assert shards.read(tmp_path / "w.npz") == data
    shards.write(tmp_path / "w.npz", b"small again", part_bytes=300)
    assert [p.name for p in shards.stored_files(tmp_path / "w.npz")] == ["w.npz"], "old parts are removed"
    shards.write(tmp_path / "w.npz", data, part_bytes=300)
    assert shards.read(tmp_path / "w.npz") == data, "a whole file from before must not shadow the new parts"
    assert "w.npz" not in [p.name for p in shards.stored_files(tmp_path / "w.npz")]


def test_a_write_cut_short_leaves_the_earlier_version_whole(tmp_path, monkeypatch):
    """A class run stopped (killed) while it saves its best epoch keeps the weights it had."""
    shards.write(tmp_path / "w.npz", b"epoch 1")

    def killed(*_):
        raise KeyboardInterrupt("killed before the new file took the old one's place")

    monkeypatch.setattr(shards.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        shards.write(tmp_path / "w.npz", b"epoch 2, half written")
    assert shards.read(tmp_path / "w.npz") == b"epoch 1"
    assert shards.stored_files(tmp_path / "w.npz") == [tmp_path / "w.npz"]


def test_missing_or_damaged_part_is_named(tmp_path):
    data = bytes(range(256)) * 3
    shards.write(tmp_path / "w.npz", data, part_bytes=300)
    part = tmp_path / "w.npz.part2"
    good = part.read_bytes()
    part.write_bytes(good[:-1] + b"x")
    with pytest.raises(shards.ShardError, match="w.npz.part2 does not match"):
        shards.read(tmp_path / "w.npz")
    part.unlink()
    with pytest.raises(shards.ShardError, match="w.npz.part2 is missing"):
        shards.read(tmp_path / "w.npz")
    with pytest.raises(FileNotFoundError):
        shards.read(tmp_path / "other.npz")


def test_sharded_checkpoint_rebuilds_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "PART_BYTES", 200_000)
    config = ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=64, width=64)
    model = build_model(config)
    config.save(tmp_path)
    files = save_weights(model, tmp_path)
    assert len(files) > 3 and all(p.stat().st_size <= 200_000 for p in files)
    rebuilt, _ = load_checkpoint(tmp_path)
    for a, b in zip(model.get_weights(), rebuilt.get_weights()):
        np.testing.assert_array_equal(a.astype(np.float16), b.astype(np.float16))
    files[0].unlink()
    with pytest.raises(CheckpointError, match="weights.npz.part1 is missing"):
        load_checkpoint(tmp_path)


def test_no_tracked_file_exceeds_the_spaces_limit():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    paths = [ROOT / name for name in listed.decode().split("\0") if name]
    too_big = [f"{p.relative_to(ROOT)} ({p.stat().st_size / 1e6:.1f} MB)" for p in paths
               if p.is_file() and p.stat().st_size > SPACES_LIMIT]
    assert not too_big, f"Hugging Face Spaces refuses files over 10 MB without Git LFS: {too_big}"
