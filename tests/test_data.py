"""Reading, caching, splitting and fetching Stanford Background, on a tiny copy of its format."""
import tarfile
import time

import numpy as np
import pytest
import synthetic

from segdemo.data import DatasetError, load_dataset, load_split, read_label_matrix, resolve_data_root
from segdemo.data import split as split_module
from segdemo.data.fetch import fetch
from segdemo.data.labels import REGIONS, SURFACES
from segdemo.paths import cache_dir


def test_label_matrix_round_trip_and_errors(tmp_path):
    matrix = np.array([[0, 1, -1], [7, 3, 2]])
    path = tmp_path / "x.regions.txt"
    synthetic.write_matrix(path, matrix)
    np.testing.assert_array_equal(read_label_matrix(path), matrix)
    path.write_text("0 1 2\n3 4\n")
    with pytest.raises(DatasetError, match="x.regions.txt is not a rectangular"):
        read_label_matrix(path)
    path.write_text("0 a 2\n")
    with pytest.raises(DatasetError, match="x.regions.txt holds something other than integers"):
        read_label_matrix(path)


def test_load_keeps_unknown_and_checks_shapes(tiny_data):
    dataset = load_dataset(REGIONS, tiny_data)
    assert len(dataset) == 16
    assert dataset.masks[0].dtype == np.int8 and dataset.masks[0][0, 0] == -1
    assert all(image.shape[:2] == mask.shape for image, mask in zip(dataset.images, dataset.masks))
    assert set(np.unique(load_dataset(SURFACES, tiny_data).masks[0])) <= {-1, 0, 1, 2}


def test_cache_is_reused_and_invalidated(tmp_path):
    root = synthetic.make_dataset(tmp_path / "d", count=4)
    first = load_dataset(REGIONS, root)
    caches = sorted(cache_dir().glob("stanford-regions-*.npz"))
    assert len(caches) == 1, "the first load writes one cache"
    again = load_dataset(REGIONS, root)
    np.testing.assert_array_equal(first.masks[2], again.masks[2])
    np.testing.assert_array_equal(first.images[3], again.images[3])
    label = root / "labels" / f"{first.ids[0]}.regions.txt"
    changed = read_label_matrix(label)
    changed[5, 5] = 6
    time.sleep(0.01)
    synthetic.write_matrix(label, changed)
    assert load_dataset(REGIONS, root).masks[0][5, 5] == 6
    assert sorted(cache_dir().glob("stanford-regions-*.npz")) != caches, "a changed file makes a new cache"


def test_bad_label_file_is_named(tmp_path):
    root = synthetic.make_dataset(tmp_path / "d", count=3)
    bad = root / "labels" / "0001001.regions.txt"
    bad.write_text("0 9\n1 1\n")
    with pytest.raises(DatasetError, match="0001001.regions.txt"):
        load_dataset(REGIONS, root)
    (root / "labels" / "0001002.regions.txt").unlink()
    with pytest.raises(DatasetError, match="0001001|0001002"):
        load_dataset(REGIONS, root)


def test_data_root_resolution(tmp_path, monkeypatch, tiny_data):
    assert resolve_data_root(tiny_data) == tiny_data
    monkeypatch.setenv("SEGDEMO_DATA", str(tiny_data))
    assert resolve_data_root() == tiny_data
    with pytest.raises(DatasetError, match="has no images/"):
        resolve_data_root(tmp_path)


def test_fixed_split_is_572_143_and_deterministic():
    ids = [f"{i:07d}" for i in range(715)]
    train, val = split_module.seeded_split(ids)
    assert (len(train), len(val)) == (572, 143)
    assert split_module.seeded_split(list(reversed(ids))) == (train, val)
    assert not set(train) & set(val)
    train80, val80 = split_module.sorted_prefix_split(ids)
    assert train80 == ids[:572] and val80 == ids[572:]


def test_split_file_is_the_split_when_it_matches(tmp_path):
    ids = [f"{i:07d}" for i in range(20)]
    path = tmp_path / "val_ids.txt"
    val = split_module.write_split_file(ids, path)
    assert load_split(ids, path=path) == ([i for i in ids if i not in val], val)
    with pytest.raises(DatasetError, match="missing"):
        load_split([i for i in ids if i != val[0]], path=path)
    with pytest.warns(UserWarning, match="names none"):
        load_split(["x1", "x2", "x3", "x4", "x5"], path=path)


def test_fetch_from_local_archive_and_folder(tmp_path):
    source = synthetic.make_dataset(tmp_path / "src" / "iccv09Data", count=3)
    archive = tmp_path / "iccv09Data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="iccv09Data")
    root = fetch(tmp_path / "out", archive=archive)
    assert (root / "images" / "0001000.jpg").exists()
    with pytest.raises(DatasetError, match="sha256"):
        fetch(tmp_path / "out2", archive=archive, expected_sha256="0" * 64)
    assert fetch(tmp_path, archive=source) == source
    (source / "labels" / "0001000.layers.txt").unlink()
    with pytest.raises(DatasetError, match="0001000.layers.txt is missing"):
        fetch(tmp_path, archive=source)


def test_fetch_downloads_over_http(tmp_path):
    """The download path for real, from a loopback server standing in for the dataset's host."""
    import functools
    import http.server
    import threading

    source = synthetic.make_dataset(tmp_path / "site" / "iccv09Data", count=2)
    with tarfile.open(tmp_path / "site" / "iccv09Data.tar.gz", "w:gz") as tar:
        tar.add(source, arcname="iccv09Data")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/iccv09Data.tar.gz"
        root = fetch(tmp_path / "downloaded", url=url)
        assert (root / "labels" / "0001001.regions.txt").exists()
        with pytest.raises(DatasetError, match="could not download .*missing.tar.gz.*--archive"):
            fetch(tmp_path / "elsewhere", url=url.replace("iccv09Data.tar.gz", "missing.tar.gz"))
        assert list((tmp_path / "elsewhere").iterdir()) == [], "a failed download leaves nothing"
    finally:
        server.shutdown()


def test_data_cli_check_and_errors(tiny_data, tmp_path, capsys):
    from segdemo.data.__main__ import main

    assert main(["check", "--data", str(tiny_data)]) == 0
    out = capsys.readouterr().out
    assert "regions: 16 images" in out and "surfaces: 16 images" in out
    assert main(["check", "--data", str(tmp_path)]) == 1
    assert "has no images/ and labels/ folders" in capsys.readouterr().err
    assert main(["fetch", "--archive", str(tmp_path / "missing.tar.gz"), "--dest", str(tmp_path)]) == 1
    assert "does not exist" in capsys.readouterr().err


def _archive_with_sums(tmp_path, count=3):
    """A synthetic dataset archive with its per-file SHA-256 list beside it, as ../shared has."""
    from segdemo.data.fetch import sha256_of

    source = synthetic.make_dataset(tmp_path / "src" / "iccv09Data", count=count)
    archive = tmp_path / "shared" / "iccv09Data.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="iccv09Data")
    lines = [f"{sha256_of(path)}  {path.relative_to(source.parent)}" for path in sorted(source.rglob("*")) if path.is_file()]
    (archive.parent / "iccv09Data.files.sha256").write_text("\n".join(lines) + "\n")
    return archive, source


def test_archive_is_unpacked_once_into_the_cache_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGDEMO_CACHE", str(tmp_path / "cache"))
    archive, _ = _archive_with_sums(tmp_path)
    root = resolve_data_root(archive)
    assert root.is_relative_to(tmp_path / "cache") and len(load_dataset(REGIONS, root)) == 3
    stamp = (root / "images" / "0001000.jpg").stat().st_mtime_ns
    assert resolve_data_root(archive) == root
    assert (root / "images" / "0001000.jpg").stat().st_mtime_ns == stamp, "the second call must not unpack again"


def test_corrupt_or_incomplete_archive_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGDEMO_CACHE", str(tmp_path / "cache"))
    archive, source = _archive_with_sums(tmp_path)
    sums = archive.with_name("iccv09Data.files.sha256")
    good = sums.read_text()
    sums.write_text(good.replace(good.split()[0], "0" * 64, 1))
    first_listed = good.split()[1]
    with pytest.raises(DatasetError, match=f"corrupt: {first_listed}"):
        resolve_data_root(archive)
    assert not list((tmp_path / "cache" / "unpacked").iterdir()), "a failed unpack leaves nothing behind"
    sums.write_text(good + "0" * 64 + "  iccv09Data/labels/9999999.regions.txt\n")
    with pytest.raises(DatasetError, match="incomplete: iccv09Data/labels/9999999.regions.txt is missing"):
        resolve_data_root(archive)
    archive.write_bytes(b"not a tar archive")
    with pytest.raises(DatasetError, match="iccv09Data.tar.gz"):
        resolve_data_root(archive)


def test_bundled_examples_are_chosen_to_show_every_class(tiny_data):
    from segdemo.data.examples import varied_ids

    dataset = load_dataset(REGIONS, tiny_data)
    everywhere = set(np.unique(np.concatenate([m[m >= 0] for m in dataset.masks])).tolist())
    chosen = varied_ids(dataset, dataset.ids, 4)
    assert len(chosen) == 4 == len(set(chosen))
    shown = set(np.unique(np.concatenate([dataset.masks[dataset.ids.index(i)].reshape(-1) for i in chosen])).tolist())
    assert everywhere <= shown
