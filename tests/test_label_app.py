"""The Label tab through the running app, as the page calls it: the model's guess, a save with a
stroke over it (the dataset's own files in the user's cache), the browser's token kept, an import."""
import json

import cv2
import numpy as np
from gradio_client import Client, handle_file

from segdemo.data.labels import REGIONS


def test_guess_save_and_import_through_the_server(running_app, tmp_path):
    client = Client(running_app["url"], verbose=False)
    photo = sorted(running_app["examples"].glob("*.jpg"))[0]
    editor = {"background": handle_file(str(photo)), "layers": [], "composite": None}
    guess = client.predict(editor, "unet", api_name="/label_guess")
    assert "label-guess-" in guess
    height, width = cv2.imread(str(photo)).shape[:2]
    layer = np.zeros((height, width, 4), np.uint8)
    layer[: height // 4, : width // 4] = (*REGIONS.colours[5][::-1], 255)  # a building stroke (BGRA on disk)
    cv2.imwrite(str(tmp_path / "layer.png"), layer)
    editor["layers"] = [handle_file(str(tmp_path / "layer.png"))]
    status, gallery, *_, token = client.predict(editor, None, None, api_name="/label_save")
    assert "Yours: 1" in status and len(gallery) == 1 and len(token) == 16
    own = running_app["data"].parents[1] / "own-photos"
    (label,) = (own / "labels").glob("*.regions.txt")
    mask = np.loadtxt(label)
    assert (mask[: height // 4, : width // 4] == 5).all()
    shapes = [{"label": "sky", "points": [[0, 0], [width - 1, 0], [width - 1, height // 2]]}]
    document = tmp_path / f"{photo.stem}.json"
    document.write_text(json.dumps({"shapes": shapes, "imagePath": photo.name, "imageHeight": height, "imageWidth": width}))
    status, _, imported, _, same = client.predict([handle_file(str(document)), handle_file(str(photo))], token,
                                                  api_name="/label_import")
    assert "Imported 1 labelled photo:" in imported and "Yours: 2" in status and same == token
    status, _, imported, _, _ = client.predict([handle_file(str(tmp_path / "layer.png"))], token, api_name="/label_import")
    assert "Imported 0" in imported and "layer: a photo without a label file" in imported  # RGBA: a photo, not a mask
