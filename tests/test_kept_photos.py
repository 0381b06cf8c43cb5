"""An upload is decoded once for the requests that name it, and no stale or oversized decoding is kept."""
import os

import cv2
import numpy as np
import pytest

from segdemo.imaging import load_photo
from segdemo.serving import kept_photos
from segdemo.serving.kept_photos import decoded_photo


@pytest.fixture(autouse=True)
def empty_store(monkeypatch):
    monkeypatch.setattr(kept_photos, "_KEPT", type(kept_photos._KEPT)())
    monkeypatch.setattr(kept_photos, "_kept_bytes", 0)


def write_photo(path, seed, size=(600, 800)):
    pixels = np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)
    cv2.imwrite(str(path), pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def test_a_file_asked_again_is_not_decoded_again_and_gives_the_same_pixels(tmp_path, monkeypatch):
    path = write_photo(tmp_path / "photo.jpg", 0)
    decodings = []
    monkeypatch.setattr(kept_photos, "load_photo", lambda *a: decodings.append(a) or load_photo(*a))
    first = decoded_photo(str(path), 384, (288, 384))
    again = decoded_photo(str(path), 384, (288, 384))
    assert len(decodings) == 1 and again is first
    fresh = load_photo(str(path), 384, (288, 384))
    assert np.array_equal(first.image, fresh.image) and first.size == fresh.size and list(first.notes) == fresh.notes
    decoded_photo(str(path), 1024)  # another size asked for: its own decoding
    assert len(decodings) == 2


def test_shared_pixels_cannot_be_changed_by_one_request(tmp_path):
    photo = decoded_photo(str(write_photo(tmp_path / "photo.jpg", 0)))
    with pytest.raises(ValueError):
        photo.image[0, 0] = 0


def test_a_file_replaced_in_place_is_decoded_again(tmp_path):
    path = write_photo(tmp_path / "photo.jpg", 0)
    before = decoded_photo(str(path)).image.copy()
    write_photo(path, 1, size=(500, 800))
    os.utime(path, ns=(1, 1))  # another time, whatever the clock's resolution
    after = decoded_photo(str(path))
    assert after.image.shape == (500, 800, 3) and not np.array_equal(after.image[:500], before[:500])


def test_the_store_stays_within_its_bytes_and_keeps_the_most_recent(tmp_path, monkeypatch):
    one = 600 * 800 * 3
    monkeypatch.setattr(kept_photos, "KEPT_BYTES", 4 * one)  # a photo over a quarter of it is not kept
    paths = [str(write_photo(tmp_path / f"photo-{i}.jpg", i)) for i in range(6)]
    for path in paths:
        decoded_photo(path)
    assert kept_photos._kept_bytes <= 4 * one
    assert [key[0] for key in kept_photos._KEPT] == paths[-4:]
    assert kept_photos._kept_bytes == sum(photo.image.nbytes for photo in kept_photos._KEPT.values())


def test_bytes_arrays_and_huge_photos_are_decoded_each_time_and_not_kept(tmp_path, monkeypatch):
    path = write_photo(tmp_path / "photo.jpg", 0)
    decoded_photo(path.read_bytes())
    monkeypatch.setattr(kept_photos, "KEPT_BYTES", 600 * 800 * 3)
    decoded_photo(str(path))
    decoded_photo(np.zeros((300, 400, 3), np.uint8))
    assert not kept_photos._KEPT
