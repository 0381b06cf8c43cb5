"""Photos decoded for showing: a large JPEG only as large as the page shows it, anything else as before."""
import numpy as np
import pytest
from PIL import Image

from segdemo.imaging import EXIF_ORIENTATION, load_photo, load_rgb

SHOWN, NETWORK = 800, (288, 384)  # the page's longest side; the network's input (height, width)


def jpeg(path, width, height, mode="RGB", **kwargs):
    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).resize((width, height))
    picture.convert(mode).save(path, quality=90, **kwargs)
    return path


def test_a_phone_jpeg_is_decoded_only_as_large_as_it_is_shown(tmp_path):
    photo = load_photo(jpeg(tmp_path / "phone.jpg", 4032, 3024), SHOWN, NETWORK)
    assert photo.image.shape == (756, 1008, 3) and photo.size == (3024, 4032) and photo.notes == []
    whole, _ = load_rgb(tmp_path / "phone.jpg")
    assert np.abs(photo.image.astype(int) - whole[::4, ::4].astype(int)).mean() < 8  # the same picture, smaller


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grey_and_cmyk_jpegs_are_decoded_smaller_in_colour(tmp_path, mode):
    photo = load_photo(jpeg(tmp_path / "photo.jpg", 4032, 3024, mode), SHOWN, NETWORK)
    assert photo.image.shape == (756, 1008, 3) and photo.image.dtype == np.uint8 and photo.size == (3024, 4032)


def test_an_exif_rotated_jpeg_is_upright_and_keeps_its_own_size(tmp_path):
    exif = Image.new("RGB", (1, 1)).getexif()
    exif[EXIF_ORIENTATION] = 6  # shown turned 90 degrees
    photo = load_photo(jpeg(tmp_path / "rotated.jpg", 4032, 3024, exif=exif), SHOWN, NETWORK)
    assert photo.image.shape == (1008, 756, 3) and photo.size == (4032, 3024)
    assert [note.key for note in photo.notes] == ["exif"]


def test_a_panorama_keeps_the_height_the_network_needs(tmp_path):
    photo = load_photo(jpeg(tmp_path / "panorama.jpg", 8000, 1200), SHOWN, NETWORK)
    assert photo.image.shape == (300, 2000, 3) and photo.size == (1200, 8000)  # 1/8 would give 150 rows, under 288


def test_a_photo_over_the_limit_keeps_the_size_it_is_decoded_whole_at(tmp_path):
    path = tmp_path / "huge.jpg"
    Image.fromarray(np.full((6000, 9000, 3), 120, np.uint8)).save(path, quality=80)  # 54 megapixels
    whole, notes = load_rgb(path)
    photo = load_photo(path, SHOWN, NETWORK)
    assert photo.size == whole.shape[:2] and photo.image.shape == (750, 1125, 3)
    assert [note.key for note in photo.notes] == [note.key for note in notes] == ["shrunk"]


def test_dataset_size_photos_and_other_formats_are_decoded_whole(tmp_path):
    for path in (jpeg(tmp_path / "dataset.jpg", 320, 240), tmp_path / "phone.png"):
        if path.suffix == ".png":
            Image.open(jpeg(tmp_path / "phone.jpg", 4032, 3024)).save(path)
        photo = load_photo(path, SHOWN, NETWORK)
        whole, _ = load_rgb(path)
        assert np.array_equal(photo.image, whole) and photo.size == whole.shape[:2]


@pytest.fixture(scope="module")
def wide_network(tmp_path_factory):
    """An untrained U-Net whose input is far wider than high (64x160), in a checkpoint folder of its own: with
    a square network, passing its sides swapped (as three callers of ``load_photo`` once did) changes nothing."""
    from segdemo.networks.models import ModelConfig, build_model, save_weights

    root = tmp_path_factory.mktemp("wide")
    config = ModelConfig(arch="unet", backbone="mobilenetv2", label_set="regions", height=64, width=160)
    (root / "wide").mkdir()
    save_weights(build_model(config), root / "wide")
    config.save(root / "wide")
    return root


def test_the_callers_of_load_photo_give_it_the_networks_height_and_width(wide_network, tmp_path, monkeypatch):
    """A wide, short JPEG (1280x320) fills the 64x160 network at 1/4 (320x80); read as 160 high and 64 wide,
    the network's sides would have kept it at 1/2. Segmenter.answer decodes it itself; Compare, Predict's
    kept answer (the opacity slider) and Inside go through ``photo_or_explain``, whose ``least`` is checked."""
    from segdemo.serving.inference import Segmenter
    from segdemo.serving.registry import ModelRegistry
    from segdemo.ui import common, compare, inside, predict

    photo = jpeg(tmp_path / "wide.jpg", 1280, 320)
    assert Segmenter(wide_network / "wide", precision="float32").answer(str(photo), shown_side=100).image.shape == (80, 320, 3)

    asked = []
    decode = common.decoded_photo
    monkeypatch.setattr(common, "decoded_photo", lambda source, shown_side=None, least=(0, 0): asked.append(least) or decode(
        source, shown_side, least))
    registry = ModelRegistry(wide_network)
    assert compare.largest_input(registry, ["wide"]) == (64, 160)
    compare.compare(registry, str(photo), ["wide"])
    inside.photo_for_probes(str(photo), [("wide", inside.probe_for(wide_network / "wide"))], "en")
    answered = predict.predict(registry, str(photo), "wide")[-1]
    predict.redraw(answered, 0.3)  # the opacity slider decodes the photo again, as the answer did
    assert asked == [(64, 160)] * 3 and answered.least == (64, 160)
