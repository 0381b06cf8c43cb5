"""The README generators (results table, benchmark) and bfloat16 inference agreement."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from segdemo.data import load_dataset, load_split
from segdemo.data.labels import REGIONS
from segdemo.serving.inference import Segmenter
from tools import bench, report
from tools.browser import CHROMIUM, CHROMIUM_MISSING


def test_results_table_comes_from_metrics_files(trained_checkpoints, tmp_path):
    root = tmp_path / "checkpoints"
    shutil.copytree(trained_checkpoints / "pspnet", root / "pspnet")
    (root / "pspnet" / "metrics.json").unlink()
    assert "No checkpoint" in report.results_table(root)
    (root / "pspnet" / "metrics.json").write_text(json.dumps({
        "images": 143, "pixel_accuracy": 0.8612, "mean_accuracy": 0.7, "miou": 0.7049, "fwiou": 0.75,
        "mean_f1": 0.8, "mean_average_precision": 0.81, "mean_hausdorff95": None, "split": "fixed",
        "per_class": {"sky": {"iou": 0.9}, "mountain": {"iou": None}}}))
    table = report.results_table(root)
    assert "| pspnet | pspnet / mobilenetv2 / regions | 143 (fixed 143) | 0.861 | 0.700 | 0.705 |" in table
    assert "| checkpoint | sky | mountain |" in table and "| pspnet | 0.900 | - |" in table
    assert table.rstrip().endswith("from each `metrics.json` and `engine.json`.")
    assert "Ways of running" not in table
    row = {"title": "LiteRT float32", "ms": 22.5, "equal": 1.0, "miou": 0.7049, "miou_float32": 0.7049, "meets_bar": True}
    (root / "pspnet" / "engine.json").write_text(json.dumps({
        "engine": "litert-float32", "machine": "a test CPU",
        "candidates": [{**row, "engine": "litert-float32"},
                       {**row, "engine": "keras", "title": "Keras mixed_bfloat16", "equal": 0.98, "meets_bar": False}]}))
    table = report.results_table(root)
    assert "| pspnet | LiteRT float32 | 22.5 | 100.00% | 0.7049 (0.7049) | met | **kept** |" in table
    assert "| pspnet | Keras mixed_bfloat16 | 22.5 | 98.00% | 0.7049 (0.7049) | missed |  |" in table
    shutil.copytree(root / "pspnet", root / "fpn")  # exported on another machine: its own table, named
    engine = json.loads((root / "fpn" / "engine.json").read_text())
    (root / "fpn" / "engine.json").write_text(json.dumps({**engine, "machine": "another CPU"}))
    table = report.results_table(root)
    assert table.index("on a test CPU") < table.index("| pspnet | LiteRT") < table.index("on another CPU") \
        < table.index("| fpn | LiteRT")


def test_encoder_table_sets_one_decoder_on_two_encoders_with_its_curves(tmp_path):
    """Only a decoder trained on two encoders gets the table; curves read at fixed epochs and the last."""
    def checkpoint(name, arch, backbone, miou, curve):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"arch": arch, "backbone": backbone, "label_set": "regions"}))
        (folder / "metrics.json").write_text(json.dumps({
            "images": 143, "pixel_accuracy": 0.86, "mean_accuracy": 0.8, "miou": miou, "fwiou": 0.7, "mean_f1": 0.8,
            "mean_average_precision": 0.8, "mean_hausdorff95": 40.0, "split": "fixed",
            "per_class": {"sky": {"iou": 0.9}, "mountain": {"iou": 0.3}}}))
        (folder / "history.json").write_text(json.dumps([{"val_miou": value} for value in curve]))

    checkpoint("unet", "unet", "mobilenetv2", 0.708, [0.4 + 0.01 * e for e in range(12)])
    checkpoint("unet-efficientnetb0", "unet", "efficientnetb0", 0.681, [0.5, 0.6, 0.55, 0.58, 0.57, 0.56])
    checkpoint("pspnet", "pspnet", "mobilenetv2", 0.665, [0.5])
    table = report.results_table(tmp_path)
    assert "Same decoder (unet, regions), two encoders" in table and "Same decoder (pspnet" not in table
    assert "| kept epoch | ep. 1 | ep. 5 | ep. 10 | ep. 12 |" in table
    assert "| unet | MobileNetV2 | 0.860 | 0.708 | 0.300 | 12 | 0.400 | 0.440 | 0.490 | 0.510 |" in table
    assert "| unet-efficientnetb0 | EfficientNet-B0 | 0.860 | 0.681 | 0.300 | 2 | 0.500 | 0.570 | - | - |" in table
    assert "unet-efficientnetb0 against unet: mIoU -0.027, pixel accuracy +0.000." in table


def test_write_into_readme_replaces_only_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("top\n<!-- a -->\nold\n<!-- b -->\nbottom\n")
    report.write_into_readme("new", "<!-- a -->", "<!-- b -->", readme)
    assert readme.read_text() == "top\n<!-- a -->\nnew\n<!-- b -->\nbottom\n"


def test_bfloat16_moves_probabilities_too_little_to_flip_a_clear_label(trained_checkpoints, tiny_data):
    """bfloat16 keeps every class probability within 0.02 of float32's, so only near ties can change label.

    Networks two epochs old leave many pixels within 0.01 of a tie, where bfloat16's 8-bit
    mantissa may flip the label (CI once saw U-Net keep 98.3% of all labels), so the share of
    all labels kept is measured on the shipped checkpoints instead (test_real_data).
    """
    dataset = load_dataset(REGIONS, tiny_data)
    _, val = load_split(dataset.ids)
    for arch in ("unet", "pspnet", "fpn"):
        fast = Segmenter(trained_checkpoints / arch, precision="mixed_bfloat16")
        exact = Segmenter(trained_checkpoints / arch, precision="float32")
        for image in dataset.subset(val).images:
            reference, answer = exact.segment(image, keep_probabilities=True), fast.segment(image, keep_probabilities=True)
            assert np.abs(answer.probabilities - reference.probabilities).max() <= 0.02, arch
            two_likeliest = np.sort(reference.probabilities, axis=-1)[..., -2:]
            changed = answer.labels != reference.labels
            assert np.all(two_likeliest[changed, 1] - two_likeliest[changed, 0] <= 0.04), arch


@pytest.mark.benchmark
def test_compare_alone_gives_a_line_per_start_of_the_app(trained_checkpoints, capsys):
    assert bench.main(["--compare", "2", "--repeats", "2", "--checkpoints", str(trained_checkpoints)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("- Compare of the tab's default set") for line in lines)
    assert all("(unet, pspnet, fpn; 1024x768 JPEG chosen before" in line for line in lines)
    assert all("asked as a page asks (through gradio_client: median" in line for line in lines)


@pytest.mark.benchmark
def test_benchmark_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--random-init", "--repeats", "2", "--train-steps", "1", "--no-load", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert [row["model"].split()[0] for row in results["rows"]] == ["unet", "pspnet", "fpn"]
    assert all(row["naive_ms"][0] > 0 and row["fast_ms"][0] > 0 for row in results["rows"])
    assert results["train_img_s"]["float32"] > 0 and results["cold_start_s"] > 0 and results["cold_start_peak_rss_mib"] > 100 and results["live_fps"] > 0
    assert all(0 <= row["agreement"] <= 1 for row in results["rows"]) and "load" not in results
    assert "usable cores" in results["machine"] and "native bfloat16" in results["machine"]
    assert "random weights: latency only" in capsys.readouterr().out
    if not Path(CHROMIUM).exists():  # the rest is measured; the browser's frame rate needs a browser
        assert results["browser_live"].startswith("not measured: Debian's chromium is not installed")
        pytest.skip(f"the browser frame rate was not measured: {CHROMIUM_MISSING}")
    assert "frames/s shown" in results["browser_live"], results["browser_live"]
