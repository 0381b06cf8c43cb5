"""End to end through the running app with gradio_client: endpoints, bad input, load, security."""
import json
import struct
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

REGION_MODELS = ["unet", "pspnet", "fpn"]
LEGEND, DETAILS = 2, 6  # positions in what /predict returns


@pytest.fixture(scope="module")
def client(running_app):
    return Client(running_app["url"], verbose=False)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("photos") / "street.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (768, 1024, 3), dtype=np.uint8)).save(path, quality=90)
    return path


def predict(client, path, model="unet"):
    return client.predict(handle_file(str(path)), model, 0.5, api_name="/predict")


def test_predict_endpoint(client, photo):
    (before, after), confidence, legend, truth, errors, verdict, details = predict(client, photo)
    assert Image.open(before).size == Image.open(after).size == (800, 600), "pictures at the size the page shows"
    assert truth is None and errors is None and "bundled example or a dataset photo" in verdict
    assert details["scores_against_truth"] is None
    assert details["size"] == [1024, 768] and details["shown_at"] == [800, 600]
    assert Image.open(confidence).size == (800, 600)
    assert "sky" in legend and "foreground object" in legend
    assert details["model"] == "unet" and abs(sum(details["class_shares"].values()) - 1) < 1e-6
    assert details["timings_ms"]["total_ms"] > 0


def test_the_classes_view_is_drawn_when_opened_from_the_last_answer(client, running_app, photo):
    newcomer = Client(running_app["url"], verbose=False)
    assert newcomer.predict(api_name="/classes") is None, "nothing to show before a photo is segmented"
    details = predict(client, photo)[DETAILS]
    classes = client.predict(api_name="/classes")
    found = [a["label"] for a in classes["annotations"]]
    expected = [name for name, share in sorted(details["class_shares"].items(), key=lambda item: -item[1]) if share >= 0.001]
    assert found == expected, "every class of the answer with 0.1% or more, largest first"
    for annotation in classes["annotations"]:  # the class's colour where it is, transparent elsewhere
        alpha = np.asarray(Image.open(annotation["image"]).convert("RGBA"))[..., 3]
        assert alpha.shape == (600, 800) and set(np.unique(alpha)) <= {0, 255} and alpha.max() == 255
    assert Image.open(classes["image"]).size == (800, 600)


def test_the_mask_file_is_made_when_asked_at_the_photos_own_size(client, photo, running_app):
    from segdemo.serving.inference import Segmenter

    predict(client, photo, model="fpn")
    mask = np.asarray(Image.open(client.predict(api_name="/mask")))
    expected = Segmenter(running_app["checkpoints"] / "fpn").segment(str(photo)).labels
    assert mask.shape == (768, 1024) and np.array_equal(mask, expected), "the labels segment() gives, unchanged"
    newcomer = Client(running_app["url"], verbose=False)
    with pytest.raises(AppError, match="Segment a photo first"):
        newcomer.predict(api_name="/mask")


def test_compare_endpoint_scores_bundled_examples(client, running_app):
    example = sorted(Path(running_app["examples"]).glob("*.jpg"))[0]
    gallery, spread, table, note, key = client.predict(handle_file(str(example)), REGION_MODELS, api_name="/compare")
    assert len(gallery) == 3
    rows = table["data"]
    assert [row[0] for row in rows] == REGION_MODELS
    assert all(row[1] > 0 for row in rows), "time"
    assert all(0.0 <= row[2] <= 1.0 and 0.0 <= row[3] <= 1.0 for row in rows), "scores against the truth"
    assert all(row[4] == 8 and row[5] == "96x96" for row in rows), "classes and input size, which set task and time"
    assert all(row[6].endswith(" M") and float(row[6][:-2]) > 0.1 for row in rows), "parameter counts in millions"
    assert all(row[7].startswith(("TensorFlow", "exported network")) for row in rows), "what each model runs as, in words"
    assert "Disagreement among the 3 models of 8 region classes" in note


def test_predict_shows_truth_and_errors_for_a_photo_whose_truth_is_known(client, running_app):
    example = sorted(Path(running_app["examples"]).glob("*.jpg"))[0]
    dataset_photo = sorted(Path(running_app["data"], "images").glob("*.jpg"))[-1]
    for path in (example, dataset_photo):
        *_, truth, errors, verdict, details = predict(client, path)
        size = Image.open(path).size
        assert Image.open(truth).size == Image.open(errors).size == size, path.name
        scores = details["scores_against_truth"]
        assert 0 <= scores["pixel_accuracy"] <= 1 and 0 <= scores["miou"] <= 1
        assert f"pixel accuracy {scores['pixel_accuracy']:.3f}" in verdict


def test_dataset_endpoint_shows_every_labelling_and_refuses_unknown_ids(client, running_app):
    image_id = sorted(Path(running_app["data"], "images").glob("*.jpg"))[0].stem
    photo, regions, surfaces, layers, regions_legend, surfaces_legend, caption = client.predict(
        image_id, api_name="/dataset_example")
    size = Image.open(Path(running_app["data"], "images", f"{image_id}.jpg")).size
    assert {Image.open(p).size for p in (photo, regions, surfaces, layers)} == {size}
    assert "sky" in regions_legend and "horizontal" in surfaces_legend
    assert f"Photo {image_id}" in caption and ("training split" in caption or "validation split" in caption)
    for bad in ("9999999", "../../etc/passwd", "", "0" * 500):
        with pytest.raises(AppError, match="no photo|There is no photo"):
            client.predict(bad, api_name="/dataset_example")
    assert client.predict(image_id, api_name="/dataset_example")[6] == caption, "still serving"


def test_error_analysis_ranks_validation_photos_and_inspects_one(client, running_app):
    confusion, per_class, table, photos = client.predict("unet", api_name="/error_overview")
    rows = table["data"]
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
    assert [row[2] for row in rows] == sorted(row[2] for row in rows), "worst mIoU first"
    assert photos["value"] == rows[0][1]
    photo, truth, prediction, errors, caption = client.predict("unet", rows[0][1], api_name="/inspect")
    assert len({Image.open(p).size for p in (photo, truth, prediction, errors)}) == 1
    assert f"Photo {rows[0][1]}" in caption and "mIoU" in caption
    with pytest.raises(AppError, match="no photo"):
        client.predict("unet", "1234567", api_name="/inspect")
    with pytest.raises(AppError, match="no evaluation|not in the list"):
        client.predict("nonexistent", api_name="/error_overview")
    assert client.predict("unet", rows[0][1], api_name="/inspect")[4] == caption, "still serving"


def test_error_analysis_finds_the_photos_behind_a_confusion_matrix_cell(client, running_app):
    """The photos where sky pixels are predicted as sky (every photo has sky), then a pair that may not occur."""
    table = client.predict("unet", "sky", "sky", api_name="/confused_photos")
    rows = table["data"]
    assert rows and [row[0] for row in rows] == list(range(1, len(rows) + 1))
    assert [row[2] for row in rows] == sorted((row[2] for row in rows), reverse=True), "most pixels first"
    assert all(0 < row[3] <= 100 for row in rows)
    validation = {row["id"] for row in json.loads((running_app["checkpoints"] / "unet" / "metrics.json").read_text())["per_image"]}
    assert {row[1] for row in rows} <= validation
    assert table["headers"][:2] == ["rank", "photo"]
    with pytest.raises(AppError, match="Choose two of this model's classes|not in the list"):
        client.predict("unet", "sky", "volcano", api_name="/confused_photos")


def test_broken_checkpoint_is_listed_and_the_rest_serve(running_app, client, photo):
    page_config = urllib.request.urlopen(running_app["url"] + "config", timeout=10).read().decode()
    assert "`broken` (broken/weights.npz cannot be read" in page_config
    with pytest.raises(AppError, match="not in the list of choices|not available"):
        predict(client, photo, model="broken")
    assert predict(client, photo, model="fpn")[DETAILS]["model"] == "fpn"


def test_a_japanese_browser_gets_japanese_text_from_the_server(running_app, photo):
    japanese = Client(running_app["url"], verbose=False, headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
    legend = predict(japanese, photo)[LEGEND]
    assert "前景物体" in legend and "foreground object" not in legend
    with pytest.raises(AppError, match="先に写真をアップロードしてください"):
        japanese.predict(None, ["unet"], api_name="/compare")
    table = japanese.predict(handle_file(str(photo)), REGION_MODELS, api_name="/compare")[2]
    assert table["headers"][:2] == ["モデル", "ネットワーク ms"]


def png_claiming(width, height):
    """A tiny PNG whose header claims ``width`` x ``height``: a decompression bomb's shape."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def save(image, path, **kwargs):
    image.save(path, **kwargs)
    return path


def bad_and_odd_inputs(folder):
    rng = np.random.default_rng(1)
    rgb = Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    text = folder / "notes.jpg"
    text.write_text("this is a text file")
    whole = save(rgb, folder / "whole.jpg")
    truncated = folder / "truncated.jpg"
    truncated.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 3])
    bomb = folder / "bomb.png"
    bomb.write_bytes(png_claiming(20000, 20000))
    rotated_exif = rgb.getexif()
    rotated_exif[0x0112] = 6
    frames = [Image.fromarray(np.full((60, 80, 3), v, np.uint8)) for v in (0, 120, 240)]
    animated = folder / "animated.gif"
    frames[0].save(animated, save_all=True, append_images=frames[1:], duration=100)
    return {
        "text renamed .jpg": (text, "not an image"),
        "truncated JPEG": (truncated, "damaged or truncated"),
        "1x1": (save(rgb.resize((1, 1)), folder / "tiny.png"), "at least 8"),
        "20000x20000": (bomb, "too large|at most 40 megapixels"),
        "16-bit PNG": (save(Image.fromarray((rng.integers(0, 65535, (90, 90))).astype(np.uint16)), folder / "deep.png"), None),
        "grayscale": (save(rgb.convert("L"), folder / "grey.jpg"), None),
        "RGBA": (save(rgb.convert("RGBA"), folder / "alpha.png"), None),
        "CMYK JPEG": (save(rgb.convert("CMYK"), folder / "cmyk.jpg"), None),
        "EXIF rotated": (save(rgb, folder / "rotated.jpg", exif=rotated_exif), None),
        "animated GIF": (animated, None),
    }


def test_every_bad_input_gets_a_message_and_the_app_keeps_serving(client, photo, tmp_path):
    for name, (path, message) in bad_and_odd_inputs(tmp_path).items():
        if message is None:
            details = predict(client, path)[DETAILS]
            assert details["model"] == "unet", name
            if name == "EXIF rotated":
                assert details["size"] == [120, 160] and any("EXIF" in n for n in details["notes"])
            if name == "animated GIF":
                assert any("first of 3 frames" in n for n in details["notes"])
        else:
            with pytest.raises(AppError, match=message):
                predict(client, path)
        assert predict(client, photo)[DETAILS]["model"] == "unet", f"a normal request right after {name}"
    with pytest.raises(AppError, match="upload a photo first|No image"):
        client.predict(None, "unet", 0.5, api_name="/predict")
    assert predict(client, photo)[DETAILS]["model"] == "unet"


def test_eight_concurrent_clients(running_app, photo):
    from tools.loadtest import concurrent_predictions

    small = photo.with_name("small.jpg")
    Image.open(photo).resize((320, 240)).save(small)
    load = concurrent_predictions(running_app["url"], [small], "unet", running_app["process"].pid)
    print(f"\n8x25 requests: p95 {load['p95_ms']:.0f} ms, RSS grew {load['rss_growth_mib']:.0f} MiB")
    assert load["failures"] == []
    assert load["completed"] == 8 * 25
    assert load["rss_growth_mib"] < 200


def status_of(url, method="GET", data=None, headers=None):
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        return urllib.request.urlopen(request, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def test_files_outside_the_app_are_refused(running_app):
    base = running_app["url"] + "gradio_api/file="
    weights = running_app["checkpoints"] / "unet" / "weights.npz"
    for target in ("/etc/passwd", str(weights), "../../../../etc/passwd", "/proc/self/environ",
                   str(Path(__file__).resolve())):
        assert status_of(base + target) in (403, 404), target


def test_uploads_over_the_limit_are_refused(running_app):
    boundary = "segdemo-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + b"\0" * (26 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    status = status_of(running_app["url"] + "gradio_api/upload", "POST", body,
                       {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 413


def test_a_server_path_cannot_be_passed_as_the_photo(running_app):
    """The API takes uploaded files only: naming a file on the server is refused."""
    import json

    server_file = sorted(Path(running_app["examples"]).glob("*.jpg"))[0]
    payload = json.dumps({"data": [{"path": str(server_file), "meta": {"_type": "gradio.FileData"}}, "unet", 0.5]})
    request = urllib.request.Request(running_app["url"] + "gradio_api/call/predict", data=payload.encode(),
                                     headers={"Content-Type": "application/json"})
    event_id = json.loads(urllib.request.urlopen(request, timeout=30).read())["event_id"]
    stream = urllib.request.urlopen(running_app["url"] + f"gradio_api/call/predict/{event_id}", timeout=60).read().decode()
    assert "event: error" in stream and "not uploaded by a user" in stream


def test_transfer_shows_what_deeplab_knew_before_our_photos(client, photo):
    """The ADE20K network's own answer and the same counted as our classes (no fine-tuned DeepLabV3+ in the test models)."""
    gallery, legend = client.predict(handle_file(str(photo)), api_name="/transfer")
    assert [item["caption"] for item in gallery] == ["before: its own ADE20K classes", "before: counted as our 8 classes"]
    assert legend.count("<tr>") >= 1 and "→" in legend
