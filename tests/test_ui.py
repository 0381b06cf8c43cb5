"""The dashboard's pieces without a server: empty model folder, playground, disagreement."""
import json

import gradio as gr
import numpy as np
import pytest

from segdemo.serving.registry import ModelRegistry
from segdemo.ui import architectures, compare, learn
from segdemo.ui.app import build_demo
from segdemo.ui.common import distinct_titles
from segdemo.ui.text import EN, say, t, table


def test_app_builds_and_explains_when_no_model_exists(tmp_path):
    demo = build_demo(ModelRegistry(tmp_path))
    config = json.dumps(demo.get_config_file(), default=str)
    for key in ("models_missing", "no_models", "nothing_runnable", "curves.none"):
        assert json.dumps(str(t(key)))[1:-1] in config, key
    assert "No trained model is available" in EN["models_missing"]
    buttons = [c for c in demo.get_config_file()["components"] if c["type"] == "button"
               and str(c["props"].get("value")) in (str(t("segment")), str(t("compare")))]
    assert len(buttons) == 2 and all(not b["props"].get("interactive", True) for b in buttons)


def scores(**controls):
    settings = dict(object_side=40, shift_x=0, shift_y=0, grow=0, softness=0, gamma=2.0) | controls
    picture, table = learn.playground(**settings)
    assert picture.ndim == 3
    return dict(table["data"])


def test_playground_perfect_prediction():
    perfect = scores()
    assert perfect["IoU (object)"] == pytest.approx(1.0)
    assert perfect["pixel accuracy"] == pytest.approx(1.0)
    assert perfect["Hausdorff 95% (object, px)"] == 0.0


def test_playground_shows_class_imbalance_and_shift():
    shifted_big, shifted_small = scores(shift_x=4), scores(object_side=8, shift_x=4)
    assert shifted_small["IoU (object)"] < shifted_big["IoU (object)"]
    assert shifted_small["pixel accuracy"] > 0.99, "a small object barely moves pixel accuracy"
    assert shifted_big["F1 / Dice (object)"] == pytest.approx(
        2 * shifted_big["IoU (object)"] / (1 + shifted_big["IoU (object)"]), abs=1e-3)
    gentle, harsh = scores(softness=2, gamma=0), scores(softness=2, gamma=4)
    assert harsh["loss: focal (gamma=4)"] < gentle["loss: focal (gamma=0)"] == pytest.approx(
        gentle["loss: cross-entropy"], abs=1e-4)


def test_disagreement_counts_distinct_answers():
    maps = [np.array([[0, 1, 2]]), np.array([[0, 1, 1]]), np.array([[0, 2, 0]])]
    np.testing.assert_array_equal(compare.disagreement(maps), [[0, 1, 2]])
    # against the definition, distinct answers per pixel less one, for up to nine models of 8 classes
    rng = np.random.default_rng(5)
    for models in (1, 2, 5, 9):
        maps = list(rng.integers(0, 8, (models, 20, 30)))
        expected = [[len(set(pixel)) - 1 for pixel in row] for row in np.stack(maps, -1)]
        np.testing.assert_array_equal(compare.disagreement(maps), expected)


def test_the_disagreement_picture_paints_every_count_in_its_own_colour_and_leaves_agreement_grey():
    spread = np.arange(10).reshape(1, 10)  # 0 (all agree) .. 9 (more answers than the colours)
    picture = compare.disagreement_picture(np.full((1, 10, 3), (10, 200, 90), np.uint8), spread)
    assert picture.dtype == np.uint8 and picture[0, 0, 0] == picture[0, 0, 1] == picture[0, 0, 2]  # grey
    for count in range(1, 10):
        assert tuple(picture[0, count]) == compare.disagreement_colour(count)


def test_architectures_table_reads_each_decoder_from_its_metrics(trained_checkpoints):
    registry = ModelRegistry(trained_checkpoints)
    rows = {row[0]: row for row in architectures.evidence_rows(registry)}
    assert set(rows) == {registry.entries[name].config.title for name in ("unet", "pspnet", "fpn")}
    for name, stride in (("unet", "1/1"), ("pspnet", "1/8"), ("fpn", "1/4")):
        metrics = json.loads((trained_checkpoints / name / "metrics.json").read_text())
        row = rows[registry.entries[name].config.title]
        assert row[2] == stride
        assert row[3:] == [round(metrics["pixel_accuracy"], 3), round(metrics["miou"], 3),
                           round(metrics["mean_hausdorff95"], 1)]


def test_a_table_column_shows_its_numbers_with_one_count_of_decimals():
    """0.85 rounded from 0.8501 reads 0.850 beside 0.869; the cells keep their numbers for sorting."""
    rows = [["U-Net", 0.85, 12.0, 3, None], ["FPN", 0.869, 9.5, 14, 0.2]]
    value = table(["model", "mIoU", "HD95", "ms", "mountain"], rows)
    assert value["data"] == rows
    assert value["metadata"]["display_value"] == [["U-Net", "0.850", "12.0", "3", ""], ["FPN", "0.869", "9.5", "14", "0.2"]]
    assert gr.Dataframe(interactive=False).postprocess(value).metadata["display_value"][0][1] == "0.850"


def test_architectures_table_shows_a_missing_score_as_empty(trained_checkpoints, tmp_path):
    import shutil

    for name in ("unet", "fpn"):
        shutil.copytree(trained_checkpoints / name, tmp_path / name)
    metrics = json.loads((tmp_path / "fpn" / "metrics.json").read_text())
    (tmp_path / "fpn" / "metrics.json").write_text(json.dumps({**metrics, "mean_hausdorff95": None}))
    rows = {row[0]: row for row in architectures.evidence_rows(ModelRegistry(tmp_path))}
    assert len(rows) == 2 and rows["FPN (MobileNetV2)"][5] is None


def test_architectures_and_compare_set_one_decoder_on_two_encoders_side_by_side(trained_checkpoints, tmp_path):
    """A decoder trained on two encoders gets a row per encoder (size, time here, scores) and a
    ready-made selection in Compare; a decoder on one encoder neither."""
    import dataclasses
    import shutil

    for name in ("unet", "fpn"):
        shutil.copytree(trained_checkpoints / name, tmp_path / name)
    shutil.copytree(trained_checkpoints / "unet", tmp_path / "unet-other-encoder")
    registry = ModelRegistry(tmp_path)
    other = registry.entries["unet-other-encoder"]
    other.config = dataclasses.replace(other.config, backbone="efficientnetb0")  # as if trained on the second encoder
    names = [name for _, _, name in architectures.encoder_models(registry)]
    speed = architectures.SpeedTrials(registry, names, rounds=3, delay_s=0)
    assert speed.wait(60)
    rows = architectures.encoder_rows(registry, speed)
    assert [row[:2] for row in rows] == [["U-Net", "MobileNetV2"], ["U-Net", "EfficientNet-B0"]]
    assert all(len(speed.samples[name]) == 3 for name in names)  # each model timed in every round
    assert rows[0][3] == round(speed.median("unet")) and "-" in rows[0][4]  # median, then the middle half
    metrics = json.loads((tmp_path / "unet" / "metrics.json").read_text())
    assert rows[0][5:7] == [round(metrics["pixel_accuracy"], 3), round(metrics["miou"], 3)]
    mountain = metrics["per_class"]["mountain"]["iou"]
    assert rows[0][7] == (None if mountain is None else round(mountain, 3))
    ratio, low, high = speed.ratio("unet-other-encoder", "unet")
    assert low <= ratio <= high
    assert "rounds; middle half" in architectures.encoder_changes(rows, "en", speed, names)
    choices, chosen = compare.quick_choices(registry)
    assert [key for _, key in choices] == ["decoders", "unet-regions"]
    assert choices[1][0] == "U-Net: MobileNetV2 / EfficientNet-B0"
    assert chosen == {"decoders": ["unet", "fpn"], "unet-regions": ["unet", "unet-other-encoder"]}


def test_architectures_says_what_the_second_encoder_changed_in_both_languages():
    rows = [["U-Net", "MobileNetV2", "8.0 M", 40, "38-42", 0.862, 0.708, 0.327],
            ["U-Net", "EfficientNet-B0", "10.1 M", 100, "90-110", 0.848, 0.681, 0.256],
            ["FPN", "MobileNetV2", "5.0 M", 50, "48-52", 0.868, 0.718, None]]
    assert architectures.encoder_changes(rows) == \
        "- **U-Net** on EfficientNet-B0: mIoU -0.027 against MobileNetV2, 2.5x its time per photo."
    assert "mIoU -0.027" in architectures.encoder_changes(rows, "ja") and "2.5 倍" in architectures.encoder_changes(rows, "ja")
    unmeasured = [[*row[:3], None, "", *row[5:]] for row in rows]  # before the speed trials end: no ratio is made up
    assert "not measured yet" in architectures.encoder_changes(unmeasured)


def test_speed_trials_interleave_the_models_and_give_medians_spreads_and_per_round_ratios():
    """Issue 33: one start-up measurement said 0.3x where repeated runs said 0.37-1.06."""
    from types import SimpleNamespace

    clock = {"now": 0.0}
    order = []

    def network(name, milliseconds):
        def run(batch):
            order.append(name)
            clock["now"] += milliseconds[len([n for n in order if n == name]) - 1] / 1000
        return SimpleNamespace(segmenter=SimpleNamespace(size=(4, 4), network=run))

    # the computer busy in round 2: both models slowed alike, their ratio in that round unchanged
    models = {"a": network("a", [10, 30, 10]), "b": network("b", [20, 60, 20])}
    registry = SimpleNamespace(get=models.__getitem__)
    import segdemo.ui.architectures as module
    original = module.time.perf_counter
    module.time.perf_counter = lambda: clock["now"]
    try:
        speed = architectures.SpeedTrials(registry, ["a", "b"], rounds=3, delay_s=0)
        assert speed.wait(10)
    finally:
        module.time.perf_counter = original
    assert speed.median("a") == pytest.approx(10) and speed.median("b") == pytest.approx(20)
    assert speed.spread("a") == "10-20"
    assert speed.ratio("b", "a") == pytest.approx((2.0, 2.0, 2.0))
    assert sorted(order[:2]) == ["a", "b"] and sorted(order[2:4]) == ["a", "b"]  # every model once per round


def test_compare_gives_every_model_the_decoded_upload(trained_checkpoints, tmp_path, monkeypatch):
    """Each model sees the upload itself, decoded once at the size shown, not the previous model's preview of it."""
    from PIL import Image

    from segdemo.serving.inference import Segmenter

    upload = tmp_path / "big.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).resize((3200, 2400)).save(upload)
    seen = []
    real_answer = Segmenter.answer

    def recording_answer(segmenter, source, shown_side=None):
        answer = real_answer(segmenter, source, shown_side)
        seen.append((answer.image.shape, answer.photo_size))
        return answer

    monkeypatch.setattr(Segmenter, "answer", recording_answer)
    gallery, *_ = compare.compare(ModelRegistry(trained_checkpoints), str(upload), ["unet", "pspnet", "fpn"])
    assert seen == [((600, 800, 3), (2400, 3200))] * 3
    assert len(gallery) == 3


def test_compare_names_a_class_run_by_its_label_not_its_network(trained_checkpoints, tmp_path):
    """A kept class run reads as one in Compare's pictures and table, not as a second shipped U-Net."""
    from PIL import Image

    registry = ModelRegistry(trained_checkpoints)
    label = "class run 10:42 (U-Net, 2 epochs)"
    registry.add(trained_checkpoints / "unet", "class-run-1", label=label)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((60, 80, 3), 120, np.uint8)).save(photo)
    gallery, _, table, _, _ = compare.compare(registry, str(photo), ["unet", "class-run-1"])
    assert gallery[0][1].startswith("U-Net") and gallery[1][1].startswith(label + ",")
    assert [row[0] for row in table["data"]] == ["unet", label]


def test_a_request_beyond_capacity_is_told_the_app_is_busy_in_its_language():
    import threading

    import gradio as gr

    from segdemo.ui.capacity import Capacity

    capacity = Capacity(workers=1, patience_s=0.2)
    holding, release = threading.Event(), threading.Event()

    def occupy():
        with capacity.turn():
            holding.set()
            release.wait(10)

    worker = threading.Thread(target=occupy)
    worker.start()
    holding.wait(10)
    try:
        for language in ("en", "ja"):
            with pytest.raises(gr.Error) as refused:
                with capacity.turn(language):
                    pass
            assert refused.value.message == say(language, "error.busy")
    finally:
        release.set()
        worker.join()
    with capacity.turn():  # the turn is free again once the first request is done
        pass


def test_turns_go_in_the_order_requests_arrived_even_to_one_that_asks_again_at_once():
    import threading

    from segdemo.ui.capacity import FairTurns

    for attempt in range(20):  # a semaphore lets the freed turn be taken back at once, most times
        turns, order = FairTurns(1), []
        assert turns.acquire(timeout=1)
        waiter = threading.Thread(target=lambda: (turns.acquire(timeout=5), order.append("waiting"), turns.release()))
        waiter.start()
        while not turns._waiting:
            pass
        turns.release()
        assert turns.acquire(timeout=5)  # the same student's next photo, sent the moment the first is answered
        order.append("again")
        assert turns.release(), "the gate is idle again"
        waiter.join()
        assert order == ["waiting", "again"], f"attempt {attempt}: the request that was waiting goes first"


def test_a_model_scored_on_its_own_split_is_said_not_comparable(trained_checkpoints, tmp_path):
    """The seed recipe's scores (fewer classes, its own validation photos) are marked wherever they are listed."""
    import shutil

    from segdemo.ui import curves, errors

    for name in ("unet", "fpn"):
        shutil.copytree(trained_checkpoints / name, tmp_path / name)
    metrics = json.loads((tmp_path / "fpn" / "metrics.json").read_text())
    (tmp_path / "fpn" / "metrics.json").write_text(json.dumps({**metrics, "split": "sorted80"}))
    registry = ModelRegistry(tmp_path)
    names = distinct_titles(registry, registry.entries)  # the table names models as the charts' legends do
    rows = {row[0]: row for row in curves.summary_rows(registry)}
    assert "not comparable" in rows[names["fpn"]][1] and "not comparable" not in rows[names["unet"]][1]
    assert curves.not_comparable_names(registry) == ["fpn"]
    classes = registry.get("fpn").config.classes
    title = errors.iou_figure({**metrics, "split": "sorted80"}, classes).layout.title.text
    assert "not comparable" in title and "not comparable" not in errors.iou_figure(metrics, classes).layout.title.text


def test_compare_keys_name_every_class_colour_and_disagreement_shade(trained_checkpoints):
    keys = compare.colour_keys(ModelRegistry(trained_checkpoints), "ja")
    assert "前景物体" in keys and "全モデルが一致" in keys and "3 通りの答え" in keys


def test_the_disagreement_map_colours_a_count_as_its_key_does_however_many_models_are_ticked(trained_checkpoints, tmp_path):
    """Two of three models can disagree only once per pixel: that colour is the key's "2 different
    answers", whatever else the scale holds; where they agree the photo is grey, no colour to look at."""
    from PIL import Image

    registry = ModelRegistry(trained_checkpoints)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(photo)
    _, spread, _, _, key = compare.compare(registry, str(photo), ["unet", "fpn"])
    pixels = np.asarray(Image.open(spread).convert("RGB"), dtype=int).reshape(-1, 3)
    grey = (pixels[:, 0] == pixels[:, 1]) & (pixels[:, 1] == pixels[:, 2])
    two = (pixels == compare.disagreement_colour(1)).all(1)
    assert compare.most_answers(registry) == 3 and grey.any() and two.any() and (grey | two).all()
    # the key then lists what two models can give, in the map's colours, not an unreachable "3 different answers"
    assert "2 different answers" in key and "3 different answers" not in key
    assert f"rgb{compare.disagreement_colour(1)}" in key and f"rgb{compare.AGREE_GREY}" in key


def test_each_count_of_answers_has_its_own_colour_and_the_last_holds_any_more():
    colours = [compare.disagreement_colour(n) for n in range(1, len(compare.DISAGREE_COLOURS) + 3)]
    distinct = colours[:len(compare.DISAGREE_COLOURS)]
    assert len(set(distinct)) == len(distinct) and compare.AGREE_GREY not in distinct
    assert set(colours[len(compare.DISAGREE_COLOURS):]) == {distinct[-1]}
    # far apart on a projector: no two of them within 80 of each other in RGB
    assert min(np.linalg.norm(np.subtract(a, b)) for i, a in enumerate(distinct) for b in distinct[i + 1:]) > 80


def test_the_queue_polls_every_ten_ms_and_summarises_its_events_in_batches(monkeypatch):
    from segdemo.ui.capacity import ANALYTICS_EVERY, ANALYTICS_KEPT, QUEUE_POLL_S, start_queue

    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", raising=False)
    monkeypatch.delenv("GRADIO_ANALYTICS_MAX_EVENTS", raising=False)
    with gr.Blocks() as demo:
        gr.Markdown()
    start_queue(demo)
    queue = demo._queue
    assert queue.sleep_when_free == QUEUE_POLL_S
    assert (queue.ANAYLTICS_CACHE_FREQUENCY, queue.ANALYTICS_MAX_EVENTS) == (ANALYTICS_EVERY, ANALYTICS_KEPT)


def test_curves_colour_one_decoder_alike_on_both_encoders(tmp_path):
    """A decoder's two encoders share a hue (dark, light); the seed recipe and a class run of the
    same decoder and encoder take hues of their own, so no two checkpoints look alike."""
    from types import SimpleNamespace

    from segdemo.serving.registry import ModelEntry
    from segdemo.ui import curves

    def entry(name, arch, backbone, label_set="regions"):
        return ModelEntry(name, tmp_path / name, config=SimpleNamespace(arch=arch, backbone=backbone, label_set=label_set))

    registry = ModelRegistry(tmp_path)
    registry.entries = {e.name: e for e in (
        entry("unet", "unet", "mobilenetv2"), entry("pspnet", "pspnet", "mobilenetv2"),
        entry("class-run", "unet", "mobilenetv2"), entry("unet-efficientnetb0", "unet", "efficientnetb0"),
        entry("pspnet-efficientnetb0", "pspnet", "efficientnetb0"), entry("seed-recipe", "unet", "resnet34", "surfaces"))}
    colour = curves.colours(registry, registry.entries)
    assert (colour["unet"], colour["unet-efficientnetb0"]) == curves.HUES[0]
    assert (colour["pspnet"], colour["pspnet-efficientnetb0"]) == curves.HUES[1]
    assert colour["class-run"] == curves.HUES[2][0] and colour["seed-recipe"] == curves.HUES[3][0]
    assert len(set(colour.values())) == len(colour)


def test_the_models_line_groups_decoders_by_encoder_and_names_a_class_run_by_its_label():
    from types import SimpleNamespace

    from segdemo.ui.common import models_by_encoder

    def entry(arch, backbone, label=None):
        return SimpleNamespace(config=SimpleNamespace(arch=arch, backbone=backbone), label=label)

    entries = [entry("unet", "mobilenetv2"), entry("fpn", "mobilenetv2"), entry("fpn", "efficientnetb0"),
               entry("unet", "mobilenetv2", label="Class run 1")]
    assert models_by_encoder(entries) == "MobileNetV2: U-Net, FPN, Class run 1 · EfficientNet-B0: FPN"


def test_a_soups_runs_are_drawn_apart_in_training_curves():
    """A soup's history holds runs that each began from the same weights: no line joins one run's end to the next's start."""
    from segdemo.ui.curves import curves_figures, runs_apart

    history = [{"epoch": 1, "loss": 0.5, "run": "frozen"}, {"epoch": 2, "loss": 0.4, "run": "frozen"},
               {"epoch": 3, "loss": 0.6, "run": "whole"}]
    assert runs_apart(history, "loss") == ([1, 2, None, 3], [0.5, 0.4, None, 0.6], ["frozen", "frozen", "", "whole"])
    assert runs_apart([{"epoch": 1, "loss": 0.5}], "loss") == ([1], [0.5], [""])  # one run: one line, as before
    loss = curves_figures({"soup": history}, {"soup": "#123456"})[0]
    assert list(loss.data[0].x) == [1, 2, None, 3] and "%{customdata}" in loss.data[0].hovertemplate
    from segdemo.networks.checkpoint import runs_in
    assert runs_in(history) == ["frozen", "whole"] and runs_in([{"epoch": 1}, {"epoch": 2}]) == [None]


def test_loss_is_drawn_on_a_log_scale_in_training_curves_and_in_the_train_tab():
    """One model's early validation spike (near 5) must not flatten every other loss curve."""
    from segdemo.ui import curves, train

    history = [{"epoch": e, "loss": loss, "val_loss": 5.0 if e == 1 else loss, "pixel_accuracy": 0.5, "val_pixel_accuracy": 0.5,
                "miou": 0.3, "val_miou": 0.3} for e, loss in ((1, 1.2), (2, 0.6), (3, 0.4))]
    loss, accuracy, _ = curves.curves_figures({"unet": history}, {"unet": "#1f77b4"})
    assert loss.layout.yaxis.type == "log" and accuracy.layout.yaxis.type != "log"
    empty_loss, empty_accuracy, _ = train.progress_figures("en", None)
    assert empty_loss.layout.yaxis.type == "log" and tuple(empty_loss.layout.yaxis.range) == (-1, 1)
    assert tuple(empty_accuracy.layout.yaxis.range) == (0, 1)


def test_charts_a_class_can_read_name_models_write_log_ticks_in_full_and_use_large_text():
    """Issue 33: "5, 2, 1, 5, 2" on a log axis read as 5 and 2 where 0.5 and 0.2 were meant; legends said
    ``pspnet-efficientnetb0``; text was 11 px; Plotly's toolbar covered the titles."""
    from types import SimpleNamespace

    from segdemo.ui import curves, train

    history = [{"epoch": e, "loss": loss, "val_loss": loss, "miou": 0.3, "val_miou": 0.3, "pixel_accuracy": 0.5,
                "val_pixel_accuracy": 0.5} for e, loss in ((1, 1.2), (2, 0.6), (3, 0.25))]

    def entry(name, title, label=None):
        return SimpleNamespace(name=name, label=label, config=SimpleNamespace(title=title))

    registry = SimpleNamespace(entries={"unet": entry("unet", "U-Net (MobileNetV2)"),
                                        "pspnet-efficientnetb0": entry("pspnet-efficientnetb0", "PSPNet (EfficientNet-B0)"),
                                        "twin": entry("twin", "U-Net (MobileNetV2)"),
                                        "class-run-1": entry("class-run-1", "U-Net (MobileNetV2)",
                                                             {"en": "class run 10:42 (U-Net, 1 epoch)", "ja": "授業の学習"})})
    names = distinct_titles(registry, registry.entries, "ja")
    assert names["pspnet-efficientnetb0"] == "PSPNet (EfficientNet-B0)" and names["class-run-1"] == "授業の学習"
    assert names["unet"] != names["twin"]  # two that would read alike keep their folder names
    figures = curves.curves_figures({"pspnet-efficientnetb0": history}, {"pspnet-efficientnetb0": "#1f77b4"}, "en",
                                    {"pspnet-efficientnetb0": "PSPNet (EfficientNet-B0)"})
    assert {trace.name for trace in figures[0].data} == {"PSPNet (EfficientNet-B0)"}
    for figure in [*figures, *train.progress_figures("ja", None)]:
        assert figure.layout.font.size >= 14 and figure.layout.title.font.size >= 14
        assert figure.layout.modebar.orientation == "v" and figure.layout.margin.r >= 40  # the toolbar in its own margin
    axis = figures[0].layout.yaxis
    ticks = dict(zip(axis.tickvals, axis.ticktext))
    assert axis.type == "log" and ticks[0.2] == "0.2" and ticks[0.5] == "0.5" and ticks[1] == "1" and ticks[5] == "5"


def test_the_train_tab_builds_and_wires_its_refresh_without_predict_and_compare(trained_checkpoints, monkeypatch):
    """Train updates Predict's and Compare's model lists when a run is kept; without those tabs it had passed
    their missing components to Gradio as inputs, and the page could not be put together."""
    from segdemo.serving.class_training import CAP_ENV
    from segdemo.ui import train
    from segdemo.ui.capacity import Capacity
    from segdemo.ui.tab import Page

    monkeypatch.setenv(CAP_ENV, "60")
    with gr.Blocks() as demo:
        built = train.build(Page(ModelRegistry(trained_checkpoints), Capacity(), view=object()))  # any view: training on
    config = demo.get_config_file()
    assert built.on_load and any(dependency["api_name"] == "train" for dependency in config["dependencies"])


def test_transfer_scores_add_deeplabs_protocol_only_where_it_was_scored():
    from types import SimpleNamespace

    from segdemo.ui import deeplab_lessons

    def entry(records):
        return SimpleNamespace(available=True, record=records.get)

    one_pass = {"pixel_accuracy": 0.883, "miou": 0.765, "per_class": {"mountain": {"iou": 0.535}}}
    protocol = {"pixel_accuracy": 0.889, "miou": 0.776, "per_class": {"mountain": {"iou": 0.529}}}
    zero_shot = {"pixel_accuracy": 0.841, "miou": 0.680}
    rows = deeplab_lessons.transfer_rows("en", zero_shot, entry({"metrics.json": one_pass,
                                                                 "metrics-scales-and-flip.json": protocol}))
    assert [row[1:] for row in rows] == [[0.841, 0.68, None], [0.883, 0.765, 0.535], [0.889, 0.776, 0.529]]
    assert [row[0] for row in rows] == ["before (zero-shot)", "fine-tuned, one pass", "fine-tuned, DeepLab's protocol"]
    assert "DeepLab の評価方法" in deeplab_lessons.transfer_rows("ja", None, entry({"metrics-scales-and-flip.json": protocol}))[0][0]
    assert len(deeplab_lessons.transfer_rows("en", zero_shot, entry({"metrics.json": one_pass}))) == 2  # not scored: no row
    # what the short labels leave out is said once under the table: the protocol's passes, the runs averaged
    assert deeplab_lessons.transfer_notes("en", entry({"metrics.json": one_pass})) == ""  # one run, no protocol
    assert "12 answers" in deeplab_lessons.transfer_notes("en", entry({"metrics-scales-and-flip.json": protocol}))
    soup_history = [{"epoch": 1, "run": "frozen"}, {"epoch": 2, "run": "whole"}]
    averaged = entry({"metrics.json": one_pass, "history.json": soup_history})
    assert [row[0] for row in deeplab_lessons.transfer_rows("en", None, averaged)] == ["fine-tuned, one pass"]
    assert "the mean of the weights of 2 runs" in deeplab_lessons.transfer_notes("en", averaged)
    assert "2 回の学習の重みの平均" in deeplab_lessons.transfer_notes("ja", averaged)


def test_predict_offers_first_the_best_comparable_model_of_the_label_set(tmp_path):
    """A student who does not choose gets the model with the highest mIoU on the recorded validation photos;
    a score on other photos (the seed recipe's own split) does not count."""
    from types import SimpleNamespace  # noqa: PLC0415

    from segdemo.serving.registry import ModelEntry  # noqa: PLC0415

    def loaded(name, miou=None, split="fixed", label_set="regions"):
        (tmp_path / name).mkdir()
        if miou is not None:
            (tmp_path / name / "metrics.json").write_text(json.dumps({"miou": miou, "split": split}))
        return ModelEntry(name, tmp_path / name, config=SimpleNamespace(label_set=label_set), segmenter=object())

    registry = ModelRegistry(tmp_path / "none")
    registry.entries = {"unet": loaded("unet", 0.71), "pspnet": loaded("pspnet"), "deeplabv3plus": loaded("deeplabv3plus", 0.77),
                        "other-photos": loaded("other-photos", 0.9, split="sorted80"),
                        "seed-recipe": loaded("seed-recipe", 0.85, split="sorted80", label_set="surfaces")}
    assert registry.best("regions") == "deeplabv3plus"
    assert registry.best("surfaces") == "seed-recipe"  # none comparable: the first of its label set
    registry.remove("deeplabv3plus")
    assert registry.best("regions") == "unet"
    assert registry.best("layers") is None
