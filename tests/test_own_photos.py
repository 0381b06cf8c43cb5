"""A class's own labelled photos: kept in the dataset's layout, and read from LabelMe, CVAT and
PNG index masks, with a message naming the file for anything else (small files made here)."""
import base64
import io
import json
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image

from segdemo.data.label_import import import_files
from segdemo.data.labels import REGIONS
from segdemo.data.own_photos import HELD_OUT_EVERY, MAX_SIDE, OwnPhotos
from segdemo.data.stanford import load_dataset
from segdemo.texts import say

SKY, TREE, ROAD, FOREGROUND = 0, 1, 2, 7
OWNER = "a1b2c3d4"


def photo(height=40, width=60, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


def png_bytes(array, mode=None):
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8), mode).save(buffer, "PNG")
    return buffer.getvalue()


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def keys_of(problems):
    return [problem.key for problem in problems]


def test_saved_photos_read_back_as_a_dataset_in_stanfords_own_layout(tmp_path):
    photos = OwnPhotos(tmp_path)
    mask = np.full((40, 60), -1, np.int16)
    mask[:20] = SKY
    mask[20:, :30] = ROAD
    first = photos.add(photo(), mask, OWNER, seconds=41.26)
    image, read_mask = photos.read(first.id)
    assert (read_mask == mask).all() and image.shape == (40, 60, 3)
    assert (tmp_path / "labels" / f"{first.id}.regions.txt").read_text().split("\n")[0].split()[0] == "0"
    assert first.seconds == 41.3 and not first.held_out
    # the folder is a Stanford Background the dataset reader accepts as it is
    assert load_dataset(REGIONS, tmp_path).ids == [first.id]


def test_every_third_photo_is_held_out_and_stays_so(tmp_path):
    photos = OwnPhotos(tmp_path)
    saved = [photos.add(photo(seed=i), np.zeros((40, 60), np.int16), OWNER) for i in range(7)]
    train, held_out = photos.split()
    assert held_out == [saved[i].id for i in range(7) if (i + 1) % HELD_OUT_EVERY == 0] and len(train) == 5
    photos.remove(saved[0].id)
    assert photos.split()[1] == held_out  # removing one does not move the others


def test_each_owner_sees_their_own_and_may_remove_only_their_own(tmp_path):
    photos = OwnPhotos(tmp_path)
    mine = photos.add(photo(), np.zeros((40, 60), np.int16), OWNER)
    photos.add(photo(), np.zeros((40, 60), np.int16), "ffffff00")
    assert [e.id for e in photos.entries(OWNER)] == [mine.id]
    assert not photos.remove(mine.id, owner="ffffff00")
    assert photos.remove(mine.id, owner=OWNER) and len(photos.entries()) == 1
    names = zipfile.ZipFile(io.BytesIO(photos.archive())).namelist()
    assert "own-photos/classes.txt" in names and any(n.startswith("own-photos/labels/") for n in names)
    photos.clear()
    assert photos.entries() == []


def test_a_phone_photo_is_kept_smaller_with_its_mask(tmp_path):
    mask = np.zeros((3024, 4032), np.int16)
    mask[:, 2016:] = TREE
    entry = OwnPhotos(tmp_path).add(np.zeros((3024, 4032, 3), np.uint8), mask, OWNER)
    image, kept = OwnPhotos(tmp_path).read(entry.id)
    assert max(image.shape[:2]) == MAX_SIDE and kept.shape == image.shape[:2]
    assert set(np.unique(kept)) == {0, TREE}


@pytest.mark.parametrize("bad, error", [(np.full((40, 60), 8), ValueError), (np.zeros((39, 60)), ValueError)])
def test_a_mask_outside_the_classes_or_size_is_refused(tmp_path, bad, error):
    with pytest.raises(error):
        OwnPhotos(tmp_path).add(photo(), bad, OWNER)


def labelme(shapes, embed=None, image_path="yard.jpg"):
    document = {"version": "5.4.1", "shapes": shapes, "imagePath": image_path, "imageHeight": 40, "imageWidth": 60}
    if embed is not None:
        buffer = io.BytesIO()
        Image.fromarray(embed).save(buffer, "PNG")
        document["imageData"] = base64.b64encode(buffer.getvalue()).decode()
    return json.dumps(document)


def test_labelme_polygons_paint_in_file_order_and_find_their_photo(tmp_path):
    shapes = [{"label": "Sky", "shape_type": "polygon", "points": [[0, 0], [59, 0], [59, 19], [0, 19]]},
              {"label": "foreground_object", "shape_type": "rectangle", "points": [[10, 10], [20, 30]]},
              {"label": "_background_", "shape_type": "circle", "points": [[50, 30], [53, 30]]}]
    files = [write(tmp_path, "yard.json", labelme(shapes)), write(tmp_path, "yard.jpg", cv2.imencode(".jpg", photo())[1].tobytes())]
    (imported,), problems = import_files(files)
    assert problems == [] and imported.source == "labelme"
    assert imported.mask[5, 40] == SKY and imported.mask[15, 15] == FOREGROUND and imported.mask[35, 40] == -1
    assert imported.mask[30, 50] == -1 and imported.image.shape == (40, 60, 3)


def test_labelme_with_an_embedded_photo_needs_no_upload_beside_it(tmp_path):
    shapes = [{"label": "road", "points": [[0, 20], [59, 20], [59, 39], [0, 39]]}]
    (imported,), problems = import_files([write(tmp_path, "a.json", labelme(shapes, embed=photo()))])
    assert problems == [] and imported.mask[30, 30] == ROAD


def test_cvat_mask_export_reads_its_labelmap_colours(tmp_path):
    colour = np.zeros((40, 60, 3), np.uint8)
    colour[:20] = (250, 50, 83)  # CVAT's own colour for its "sky" label
    colour[20:] = (51, 221, 255)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("labelmap.txt", "# label:color_rgb:parts:actions\nbackground:0,0,0::\nsky:250,50,83::\ngrass:51,221,255::\n")
        z.writestr("SegmentationClass/yard_1.png", png_bytes(colour))
        z.writestr("JPEGImages/yard_1.jpg", cv2.imencode(".jpg", photo())[1].tobytes())
    (imported,), problems = import_files([write(tmp_path, "task.zip", archive.getvalue())])
    assert problems == [] and imported.source == "cvat"
    assert imported.mask[0, 0] == SKY and imported.mask[39, 0] == 3


def test_png_index_masks_use_the_class_map_or_segdemos_own_order(tmp_path):
    values = np.zeros((40, 60), np.uint8)
    values[20:] = 5
    values[0, 0] = 255
    yard = cv2.imencode(".png", photo())[1].tobytes()
    with_map = [write(tmp_path, "yard.jpg", yard), write(tmp_path, "yard_mask.png", png_bytes(values, "L")),
                write(tmp_path, "classes.txt", "0 tree\n5: road\n255 unknown\n")]
    (imported,), problems = import_files(with_map)
    assert problems == [] and imported.mask[10, 10] == TREE and imported.mask[30, 30] == ROAD and imported.mask[0, 0] == -1
    (own_order,), _ = import_files(with_map[:2])
    assert own_order.mask[10, 10] == SKY and own_order.mask[30, 30] == 5


def test_a_photo_whose_own_name_ends_like_a_mask_suffix_keeps_its_label(tmp_path):
    """"street-gt.png" labels "street-gt.jpg" when there is one; the suffix is dropped only to find "street.jpg"."""
    values = np.full((40, 60), 5, np.uint8)
    street = cv2.imencode(".jpg", photo())[1].tobytes()
    files = [write(tmp_path, "street-gt.jpg", street), write(tmp_path, "street-gt.png", png_bytes(values, "L"))]
    (imported,), problems = import_files(files)
    assert problems == [] and imported.mask[20, 30] == 5


def test_bad_files_are_named_with_what_is_wrong_and_the_good_ones_still_count(tmp_path):
    good = [{"label": "sky", "points": [[0, 0], [59, 0], [59, 19]]}]
    files = [
        write(tmp_path, "good.json", labelme(good, embed=photo())),
        write(tmp_path, "cars.json", labelme([{"label": "car", "points": [[0, 0], [5, 0], [5, 5]]}], embed=photo())),
        write(tmp_path, "line.json", labelme([{"label": "road", "shape_type": "line", "points": [[0, 0], [5, 5]]}], embed=photo())),
        write(tmp_path, "lost.json", labelme(good, image_path="C:\\photos\\lost.jpg")),
        write(tmp_path, "small.png", png_bytes(np.zeros((10, 10)), "L")),
        write(tmp_path, "small.jpg", cv2.imencode(".jpg", photo())[1].tobytes()),
        write(tmp_path, "notes.docx", b"PK"),
        write(tmp_path, "broken.zip", b"not a zip"),
        write(tmp_path, "alone.jpg", cv2.imencode(".jpg", photo())[1].tobytes()),
    ]
    imported, problems = import_files(files)
    assert [i.name for i in imported] == ["yard"]  # named after its photo (imagePath)
    assert sorted(keys_of(problems)) == sorted(["unknown_classes", "shape_type", "no_photo", "size_mismatch", "unsupported",
                                                "not_zip", "photo_unlabelled"])
    unknown = next(p for p in problems if p.key == "unknown_classes")
    assert "cars.json" in unknown and "'car'" in unknown and "foreground object" in unknown
    assert "lost.jpg" in next(p for p in problems if p.key == "no_photo")
    for problem in problems:  # every message has its Japanese text, with the same file named
        assert problem.values.get("file", "") in say("ja", f"import.{problem.key}", **problem.values)
    assert keys_of(import_files([])[1]) == ["nothing"]
