"""The loss study's table and bars: read from each run's command.txt and metrics.json, noise from two seeds."""
import json
import re

import pytest

from segdemo.networks import loss_study
from segdemo.paths import PROJECT_ROOT
from tools.loss_study import README_END, README_START

CLASSES = ("sky", "mountain")
SCRIPT = PROJECT_ROOT / "scripts" / "loss_study.sh"


def fake_run(root, name, loss, class_weights, seed, miou, mountain):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "command.txt").write_text(
        f"python -m segdemo.networks.train --arch unet --seed {seed} --loss {loss} --class-weights {class_weights} --out {folder}\n"
        f"python -m segdemo.serving.evaluate {folder}\n")
    (folder / "metrics.json").write_text(json.dumps({
        "pixel_accuracy": 0.8, "miou": miou, "mean_hausdorff95": 40.0,
        "per_class": {"sky": {"iou": 0.9}, "mountain": {"iou": mountain}}}))


def script_runs():
    """(name, seed, loss, class weights) of every study_run line in scripts/loss_study.sh."""
    return re.findall(r"^study_run (\S+) (\d+) (\S+) (\S+)", SCRIPT.read_text(), re.MULTILINE)


def test_table_marks_differences_within_seed_noise(tmp_path):
    fake_run(tmp_path, "ce", "ce", "none", 0, 0.600, 0.01)
    fake_run(tmp_path, "ce-dice", "ce+dice", "none", 0, 0.620, 0.10)
    fake_run(tmp_path, "ce-dice-seed1", "ce+dice", "none", 1, 0.610, 0.04)
    fake_run(tmp_path, "ce-weighted", "ce", "inverse-sqrt", 0, 0.595, 0.20)
    (tmp_path / "unevaluated").mkdir()  # training, or interrupted: not in the table yet
    runs = loss_study.read_runs(tmp_path)
    assert [run.name for run in runs] == ["ce-dice", "ce-dice-seed1", "ce", "ce-weighted"]
    assert loss_study.seed_noise(runs) == pytest.approx({"pixel_accuracy": 0, "miou": 0.01, "mountain": 0.06,
                                                         "mean_hausdorff95": 0, "any_class": 0.06})
    table = loss_study.markdown(runs)
    assert "| ce-dice | −Σ t log p + 1 − soft F1 | 0 | 0.800 | 0.620 | +0.020 | 0.100 | 40.0 |" in table
    assert "| ce-weighted | −Σ w_c t log p | 0 | 0.800 | 0.595 | -0.005 (within noise) | 0.200 | 40.0 |" in table
    assert "| ce | −Σ t log p | 0 | 0.800 | 0.600 | - |" in table
    assert "| run | sky | mountain |" in table and "| ce-weighted | 0.900 | 0.200 |" in table
    assert "mIoU 0.010, mountain IoU 0.060, HD95 0.0 px apart; the IoU of one class up to 0.060." in table
    figure = loss_study.per_class_figure(runs, class_label=str.upper)
    assert [bar.name for bar in figure.data] == ["ce-dice (0.620)", "ce-dice-seed1 (0.610)", "ce (0.600)", "ce-weighted (0.595)"]
    assert list(figure.data[3].x) == ["SKY", "MOUNTAIN"] and list(figure.data[3].y) == [0.9, 0.2]


def test_without_two_seeds_the_table_says_noise_is_unmeasured(tmp_path):
    fake_run(tmp_path, "ce", "ce", "none", 0, 0.6, 0.0)
    table = loss_study.markdown(loss_study.read_runs(tmp_path))
    assert "not measured yet" in table and "(within noise)" not in table
    assert "No run" in loss_study.markdown(loss_study.read_runs(tmp_path / "missing"))


def test_every_run_of_the_script_has_a_formula_and_committed_runs_match_it():
    runs = script_runs()
    assert len(runs) >= 8 and len({name for name, *_ in runs}) == len(runs)
    assert any(seed != "0" for _, seed, _, _ in runs), "a second seed measures the noise"
    for name, seed, loss, class_weights in runs:
        for term in loss.split("+"):
            assert (term, class_weights) in loss_study.FORMULAS or (term, "none") in loss_study.FORMULAS, term
    committed = {run.name: run for run in loss_study.read_runs()}
    for name, seed, loss, class_weights in runs:
        if name in committed:
            assert (committed[name].loss, committed[name].class_weights, committed[name].seed) == (loss, class_weights, int(seed))
    assert set(committed) <= {name for name, *_ in runs}, "a committed run the script does not reproduce"


def test_readme_table_is_generated_from_the_committed_runs():
    readme = (PROJECT_ROOT / "README.md").read_text()
    generated = readme.split(README_START)[1].split(README_END)[0]
    assert generated.strip() == loss_study.markdown(loss_study.read_runs()).strip()


def test_the_learn_tab_shows_the_study_in_the_page_language(tmp_path):
    from segdemo.ui.loss_evidence import noise_note, study_rows

    fake_run(tmp_path, "ce", "ce", "none", 0, 0.600, 0.01)
    fake_run(tmp_path, "ce-weighted", "ce", "inverse-sqrt", 0, 0.595, 0.20)
    fake_run(tmp_path, "ce-seed1", "ce", "none", 1, 0.590, 0.02)
    runs = loss_study.read_runs(tmp_path)
    rows = {row[0]: row for row in study_rows(runs, "ja")}
    assert rows["ce-weighted"][1:7] == [0.595, "-0.005 (ノイズの範囲内)", 0.2, 0.8, 40.0, 0]
    assert rows["ce"][2] == "-"
    assert "0.010" in noise_note(runs, "en") and "0.010" in noise_note(runs, "ja")


def test_the_learn_tab_says_what_the_numbers_say_from_the_runs(tmp_path):
    from segdemo.ui.loss_evidence import findings

    fake_run(tmp_path, "ce", "ce", "none", 0, 0.600, 0.00)
    fake_run(tmp_path, "ce-seed1", "ce", "none", 1, 0.590, 0.01)
    fake_run(tmp_path, "dice", "dice", "none", 0, 0.605, 0.11)
    fake_run(tmp_path, "focal", "focal", "none", 0, 0.570, 0.00)
    fake_run(tmp_path, "boundary", "boundary", "none", 0, 0.650, 0.02)
    said = findings(loss_study.read_runs(tmp_path))
    assert "noise of plain cross-entropy** in mIoU: dice (+0.005), ce-seed1 (-0.010)." in said
    assert "below plain cross-entropy**: focal (-0.030)." in said and "above plain cross-entropy**: boundary (+0.050)." in said
    assert "at least 0.05 only with: dice (0.110);" in said
    assert "IoU が 0.05 以上になったのは dice (0.110) だけ" in findings(loss_study.read_runs(tmp_path), "ja")
    (tmp_path / "dice" / "metrics.json").unlink()
    assert "no run reaches an IoU of 0.05" in findings(loss_study.read_runs(tmp_path))
