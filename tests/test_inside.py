"""Inside the network: receptive fields, influence, class probabilities, feature maps and occlusion, checked on small models."""
import numpy as np
import pytest
import tensorflow as tf

from segdemo.inside import influence, occlusion, views
from segdemo.inside.probe import NetworkProbe, probe_for
from segdemo.inside.receptive import receptive_field
from segdemo.networks.models import ModelConfig, build_model, segmentation_network

WIDE = {"unet": (64, 1024), "fpn": (64, 1024), "pspnet": (48, 1056)}  # wider than any MobileNetV2 field


@pytest.fixture(scope="module")
def wide_probe():
    """Untrained MobileNetV2 networks on an input so wide that a field without global pooling ends inside it."""
    probes = {}

    def make(arch):
        if arch not in probes:
            height, width = WIDE[arch]
            config = ModelConfig(arch=arch, backbone="mobilenetv2", label_set="regions", height=height, width=width)
            tf.keras.utils.set_random_seed(0)
            probes[arch] = NetworkProbe(build_model(config), config)
        return probes[arch]

    return make


def photo_for(probe, seed=0):
    height, width = probe.size
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_field_of_a_plain_stack_matches_the_textbook_formula():
    """3x3 convolutions with strides 1, 2, 1: field 1 + 2 + 2 + 2*2 = 9 pixels, every output pixel sees 9x9 around it."""
    inputs = tf.keras.Input((32, 32, 3))
    x = tf.keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = tf.keras.layers.Conv2D(4, 3, strides=2, padding="same")(x)
    x = tf.keras.layers.Conv2D(4, 3, padding="same")(x)
    x = tf.keras.layers.UpSampling2D(2)(x)
    field = receptive_field(tf.keras.Model(inputs, x))
    assert field.size(16, 16) == (9, 9) and not field.covers_everything() and not field.global_pooling
    pooled = tf.keras.layers.GlobalAveragePooling2D(keepdims=True)(inputs)
    x = tf.keras.layers.Concatenate()([tf.keras.layers.UpSampling2D(32)(pooled), inputs])
    field = receptive_field(tf.keras.Model(inputs, x))
    assert field.covers_everything() and field.global_pooling


@pytest.mark.parametrize("arch", ["unet", "fpn"])
def test_influence_is_zero_outside_the_theoretical_field_without_global_pooling(wide_probe, arch):
    probe = wide_probe(arch)
    height, width = probe.size
    row, column = height // 2, 40
    gradient, _ = probe.gradient(photo_for(probe), row, column)
    strength = influence.influence_map(gradient)
    top, left, bottom, right = probe.field.box(row, column)
    assert right < width // 2, "the field ends well inside the wide photo"
    outside = np.ones_like(strength, bool)
    outside[top:bottom + 1, left:right + 1] = False
    assert strength[outside].max() == 0.0
    reached = np.flatnonzero(strength.any(axis=0)).max()
    assert reached > column + 0.6 * (right - column), "the theoretical field is not a gross overestimate"
    assert not probe.field.covers_everything()


def whole_network_gradient(probe, photo, row, column, network=None):
    """The gradient of the pixel's own-class logit through one pass of the whole network (the probe's own, or
    ``network``): what the windows must give."""
    network, normalise = network or probe._windowed.network, probe._windowed.normalise
    rgb = tf.constant(probe.network_input(photo)[None], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(rgb)
        logits = network(normalise(rgb), training=False)[0, row, column]
        score = logits[int(tf.argmax(logits))]
    return tape.gradient(score, rgb)[0].numpy(), logits.numpy()


@pytest.mark.parametrize("arch", ["unet", "fpn", "pspnet"])
def test_the_windowed_gradient_is_the_whole_networks(wide_probe, arch):
    """Decoder layers on windows give the whole pass's logits and gradient, zeros in the same places, at the
    centre and at the photo's corners (where windows are cut by the border)."""
    probe = wide_probe(arch)
    height, width = probe.size
    assert any(layer.name.startswith(("decoder_", "segm_", "final_")) for layer in probe._windowed.local) or arch == "pspnet"
    photo = photo_for(probe, seed=3)
    for row, column in ((height // 2, width // 2), (0, 0), (height - 1, width - 1), (3, width - 40)):
        expected_gradient, expected_logits = whole_network_gradient(probe, photo, row, column)
        gradient, logits = probe.gradient(photo, row, column)
        np.testing.assert_allclose(logits, expected_logits, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(gradient == 0, expected_gradient == 0)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-3, atol=1e-5 * np.abs(expected_gradient).max())


@pytest.mark.parametrize("arch", ["unet", "pspnet"])
def test_probes_fold_batch_norm_and_keep_the_networks_logits_and_gradient(arch):
    """A probe merges each BN into the convolution before it; with statistics as training leaves them (a fresh
    network's BN is the identity), its logits and gradient are the network's, zeros in the same places."""
    config = ModelConfig(arch=arch, backbone="mobilenetv2", label_set="regions", height=96, width=192)
    tf.keras.utils.set_random_seed(1)
    model = build_model(config)
    rng = np.random.default_rng(1)
    network = segmentation_network(model)
    norms = [layer for layer in network.layers if isinstance(layer, tf.keras.layers.BatchNormalization)]
    for norm in norms:
        channels = norm.moving_mean.shape[0]
        norm.set_weights([rng.uniform(0.5, 1.5, channels), rng.normal(0, 0.2, channels),
                          rng.normal(0, 0.2, channels), rng.uniform(0.5, 2.0, channels)])
    probe = NetworkProbe(model, config)
    folded = probe._windowed.network
    assert norms and not [layer for layer in folded.layers if isinstance(layer, tf.keras.layers.BatchNormalization)]
    assert all(folded.get_layer(stage.layer) for stage in probe.stages), "the layers Inside shows keep their names"
    photo = photo_for(probe, seed=5)
    for row, column in ((48, 96), (0, 0), (95, 191)):
        expected_gradient, expected_logits = whole_network_gradient(probe, photo, row, column, network)
        gradient, logits = probe.gradient(photo, row, column)
        np.testing.assert_allclose(logits, expected_logits, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(gradient == 0, expected_gradient == 0)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-3, atol=1e-4 * np.abs(expected_gradient).max())


def test_pspnet_global_pooling_reaches_the_far_end_of_the_photo(wide_probe):
    probe = wide_probe("pspnet")
    height, width = probe.size
    gradient, _ = probe.gradient(photo_for(probe), height // 2, 20)
    strength = influence.influence_map(gradient)
    assert probe.field.covers_everything()
    assert strength[:, width - 100:].max() > 0.0
    report = views.explain_pixel(probe, photo_for(probe), 0.5, 20 / width)
    assert report.global_pooling and report.farthest_reach > width - 100


def test_occlusion_changes_nothing_outside_the_reach_of_the_hidden_box(wide_probe):
    probe = wide_probe("unet")
    photo = photo_for(probe, seed=1)
    height, width = probe.size
    mask = np.zeros(probe.size, bool)
    mask[:, width - 120:width - 60] = True
    before = probe.look(photo).probabilities
    after = probe.predict(occlusion.hide(probe.network_input(photo), mask))
    reach = probe.field.reach(mask)
    assert 0 < reach[0].sum() < width * 0.75
    difference = np.abs(after - before).max(-1)
    assert difference[~reach].max() == 0.0
    assert difference[reach & ~mask].max() > 0.0, "pixels near the box do notice it"
    report = views.hide_region(probe, photo, "box", box=(0.0, (width - 120) / width, 1.0, (width - 60) / width))
    assert report.changed_beyond_reach == 0 and report.reach_share < 0.75


def test_share_outside_and_effective_radius_on_known_maps():
    point = np.zeros((101, 101))
    point[50, 50] = 1.0
    assert influence.share_outside(point, influence.window_box(50, 50, point.shape, 5)) == 0.0
    assert influence.effective_radius(point, 50, 50) == 0.0
    rows, columns = np.indices((101, 101))
    disc = (np.hypot(rows - 50, columns - 50) <= 30).astype(float)
    assert influence.effective_radius(disc, 50, 50) == pytest.approx(30 * np.sqrt(0.9), abs=1.0)
    assert influence.share_outside(disc, influence.window_box(50, 50, disc.shape, 21)) == pytest.approx(
        1 - 21 * 21 / disc.sum(), abs=1e-9)
    assert influence.farthest_reach(disc, 50, 50) == 30.0
    assert influence.window_box(0, 0, disc.shape, 21) == (0, 0, 10, 10)


def test_presets_hide_what_they_say_and_refuse_an_empty_region():
    shape = (30, 60)
    assert occlusion.preset_mask("centre", shape).sum() == 10 * 20
    assert occlusion.preset_mask("left", shape)[:, :30].all()
    assert occlusion.preset_mask("box", shape, box=(0.5, 0.5, 0.0, 0.0)).sum() == 15 * 30
    labels = np.zeros(shape, int)
    labels[:5] = 3
    np.testing.assert_array_equal(occlusion.preset_mask("sky", shape, labels=labels, sky_index=3), labels == 3)
    with pytest.raises(occlusion.NothingToHide):
        occlusion.preset_mask("sky", shape, labels=labels, sky_index=0 + 7)
    with pytest.raises(ValueError, match="unknown region"):
        occlusion.preset_mask("moon", shape)
    image = np.zeros((*shape, 3), np.uint8)
    assert (occlusion.hide(image, labels == 3)[:5] == occlusion.FILL).all()
    changed, count, share = occlusion.changes_outside(np.zeros(shape), labels, labels == 3)
    assert count == 0 and share == 0.0 and not changed.any()


def test_views_on_trained_checkpoints(trained_checkpoints):
    probes = {arch: probe_for(trained_checkpoints / arch) for arch in ("unet", "pspnet", "fpn")}
    photo = np.random.default_rng(2).integers(0, 256, (75, 100, 3), dtype=np.uint8)  # any size, like an upload
    for arch, probe in probes.items():
        report = views.explain_pixel(probe, photo, 0.5, 0.25)
        assert report.point == (48, 24) and report.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert report.label == int(probe.look(photo).labels[48, 24]), "the gradient's pass agrees with the cached one"
        assert report.picture.shape == (96, 96, 3)
        assert 0.0 <= report.share_outside_window <= 1.0
        assert report.global_pooling == (arch == "pspnet")
        chances = views.class_probabilities(probe, photo)
        assert len(chances.pictures) == len(probe.config.classes) and 0.0 <= chances.mean_entropy <= 1.0
        hidden = views.hide_region(probe, photo, "centre")
        assert hidden.changed_beyond_reach == 0 and 0.0 <= hidden.changed_share <= 1.0


def test_feature_maps_follow_each_architecture(trained_checkpoints):
    stages = {}
    for arch in ("unet", "pspnet", "fpn"):
        probe = probe_for(trained_checkpoints / arch)
        shown, _ = views.feature_maps(probe, np.zeros((96, 96, 3), np.uint8))
        stages[arch] = shown
        assert all(view.picture.ndim == 3 and view.channels for view in shown)
    encoder = [view.stage.stride for view in stages["unet"] if view.stage.role == "encoder"]
    assert encoder == [2, 4, 8, 16, 32]
    roles = [view.stage.role for view in stages["unet"]]
    assert roles.count("skip") == 4 and roles.count("upsampled") == 5  # the last stage has no skip
    grids = [view.stage.shape[:2] for view in stages["pspnet"] if view.stage.role == "pooled"]
    assert grids == [(1, 1), (2, 2), (3, 3), (6, 6)]
    assert max(view.stage.stride for view in stages["pspnet"] if view.stage.role == "encoder") == 8
    pyramid = [view.stage.stride for view in stages["fpn"] if view.stage.role == "pyramid"]
    assert pyramid == [16, 8, 4, 2]


@pytest.fixture(scope="module")
def client(running_app):
    from gradio_client import Client

    return Client(running_app["url"], verbose=False)


@pytest.fixture(scope="module")
def example(running_app):
    from gradio_client import handle_file

    return handle_file(str(sorted(running_app["examples"].glob("*.jpg"))[0]))


def test_inside_endpoints_answer_for_every_view(client, example):
    gallery, table, note = client.predict(example, 0.2, 0.7, ["unet", "pspnet", "fpn"], api_name="/inside_pixel")
    assert [str(item["image"]).split("/")[-1].split("-")[1] for item in gallery] == ["unet", "pspnet", "fpn"]
    assert table["headers"] == ["class", "U-Net", "PSPNet", "FPN"], "one encoder: the decoders name the columns"
    assert len(table["data"]) == 8
    for column in range(1, 4):
        assert sum(row[column] for row in table["data"]) == pytest.approx(100, abs=0.5)
    assert note.count("global pooling") == 1 and note.count("outside the 65x65 window") == 3
    gallery, note = client.predict(example, "unet", api_name="/inside_probabilities")
    assert len(gallery) == 9 and gallery[-1]["caption"] == "uncertainty (entropy)" and "mean uncertainty" in note
    gallery, note = client.predict(example, "pspnet", api_name="/inside_features")
    captions = [item["caption"] for item in gallery]
    assert sum("grid" in c for c in captions) == 4 and any("6x6 grid" in c for c in captions)
    client.predict(example, ["unet", "pspnet", "fpn"], api_name="/inside_hide_ready")  # the page, as the view opens
    gallery, note = client.predict(example, "centre", 0, 0, 0, 0, ["unet", "pspnet", "fpn"], api_name="/inside_hide")
    # each model: none changed beyond the region's reach, or its reach is the whole photo
    assert len(gallery) == 3 and note.count("and 0 pixels changed beyond that reach") + note.count(
        "reach the whole photo from the region") == 3 and note.count("pixels changed beyond that reach") == note.count(
        "and 0 pixels changed beyond that reach")


def test_inside_bad_input_gets_a_message_in_the_browsers_language(client, example, running_app):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="No image was given"):
        client.predict(None, 0.5, 0.5, ["unet"], api_name="/inside_pixel")
    with pytest.raises(AppError, match="The box is empty"):
        client.predict(example, "box", 0.5, 0.5, 0.5, 0.9, ["unet"], api_name="/inside_hide")
    with pytest.raises(AppError, match="Choose at least one model"):
        client.predict(example, 0.5, 0.5, [], api_name="/inside_pixel")
    japanese = Client(running_app["url"], verbose=False, headers={"Accept-Language": "ja-JP,ja;q=0.9"})
    with pytest.raises(AppError, match="枠が空です"):
        japanese.predict(example, "box", 0.5, 0.5, 0.5, 0.9, ["unet"], api_name="/inside_hide")
    assert "クラス" == japanese.predict(example, 0.5, 0.5, ["unet"], api_name="/inside_pixel")[1]["headers"][0]
    assert len(client.predict(example, 0.5, 0.5, ["unet"], api_name="/inside_pixel")[0]) == 1, "still serving"


def test_the_probability_table_names_a_column_in_full_when_the_decoder_alone_is_ambiguous():
    from types import SimpleNamespace

    from segdemo.ui.inside import column_titles

    configs = {name: ModelConfig(arch=arch, backbone=backbone, label_set="regions") for name, arch, backbone in
               (("unet", "unet", "mobilenetv2"), ("fpn", "fpn", "mobilenetv2"), ("unet-b0", "unet", "efficientnetb0"))}
    registry = SimpleNamespace(entries={name: SimpleNamespace(config=config) for name, config in configs.items()})
    assert column_titles(registry, ["unet", "fpn"]) == ["U-Net", "FPN"]
    assert column_titles(registry, ["unet", "unet-b0"]) == ["U-Net (MobileNetV2)", "U-Net (EfficientNet-B0)"]
    assert column_titles(registry, ["fpn", "unet-b0"]) == ["FPN (MobileNetV2)", "U-Net (EfficientNet-B0)"]


def test_the_ticked_models_are_warmed_once_the_app_serves(trained_checkpoints, capsys):
    """Building the tab registers a start-up event; it rebuilds and traces the ticked models in a thread of its own."""
    import asyncio
    import threading

    import gradio as gr

    from segdemo.inside import probe
    from segdemo.serving.registry import ModelRegistry
    from segdemo.ui.inside import warm_up_once_serving

    registry = ModelRegistry(trained_checkpoints)
    with gr.Blocks() as demo:
        warm_up_once_serving(registry, ["unet", "fpn"])
    probe._PROBES.clear()
    asyncio.run(demo.extra_startup_events[-1]())
    next(thread for thread in threading.enumerate() if thread.name == "inside-warm-up").join(300)
    assert {str((trained_checkpoints / name).resolve()) for name in ("unet", "fpn")} == set(probe._PROBES)
    assert "Inside the network is ready (unet, fpn:" in capsys.readouterr().out


def test_effective_radius_orders_pixels_by_distance_as_a_sort_would():
    """The ring sums give the distance a plain sort of every pixel by distance gives, near edges and corners too."""
    rng = np.random.default_rng(0)
    rows, columns = np.indices((48, 64))
    for _ in range(40):
        strength = rng.random((48, 64)) ** rng.integers(1, 12) * (rng.random((48, 64)) > 0.5)
        row, column, share = int(rng.integers(48)), int(rng.integers(64)), float(rng.uniform(0.05, 1.0))
        distance = np.hypot(rows - row, columns - column).ravel()
        order = np.argsort(distance, kind="stable")
        reached = np.cumsum(strength.ravel()[order]) / strength.sum()
        expected = distance[order][np.searchsorted(reached, share - 1e-12)]
        assert influence.effective_radius(strength, row, column, share) == pytest.approx(expected, abs=1e-9)


def test_the_probability_maps_key_runs_from_the_maps_colour_of_0_to_that_of_100_percent():
    from segdemo.inside.drawing import probability_picture
    from segdemo.ui.inside import colour_scale
    from segdemo.ui.text import say

    key = colour_scale("ja")
    first, middle, last = (tuple(int(c) for c in probability_picture(np.full((1, 1), p))[0, 0]) for p in (0.0, 0.5, 1.0))
    assert f"rgb{first} 0%" in key and f"rgb{middle} 50%" in key and f"rgb{last} 100%" in key
    assert key.index(f"rgb{first} 0%") < key.index(f"rgb{last} 100%")
    assert say("ja", "inside.probability_scale") in key and "<span>50%</span>" in key


def test_a_photos_own_served_answer_is_kept_for_its_next_hidden_region():
    """Hiding a second region of a photo runs the served engine once a model (on the newly hidden image): the
    photo's own answer is kept, per engine, and is the one the engine gave."""
    from segdemo.ui.inside import photo_labels, served_labels

    class Engine:
        def __init__(self):
            self.calls = 0

        def predict(self, batch):  # an answer that depends on the image, shaped as the Segmenter's
            self.calls += 1
            return [tf.constant((batch.sum(axis=-1) // 100 % 8).astype(np.int64))]

    photo = np.random.default_rng(4).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    centre, left = photo.copy(), photo.copy()
    centre[2:4, 3:5] = 0
    left[:, :3] = 0
    engine, other = Engine(), Engine()
    first = photo_labels(engine, photo)
    served_labels(engine)(centre)
    again = photo_labels(engine, photo)
    served_labels(engine)(left)
    assert engine.calls == 3 and (again == first).all()
    assert (photo_labels(other, photo) == first).all() and other.calls == 1, "each engine its own answers"
    assert (first == photo.astype(np.int64).sum(axis=-1) // 100 % 8).all()


def test_a_photo_readied_when_the_hide_view_opens_costs_its_first_region_one_pass_a_model(trained_checkpoints,
                                                                                          app_examples):
    """Opening the hide view (or choosing a photo in it) computes the photo's own answers, so the first region
    runs each served engine once, on the hidden image, as the next regions do; without it, twice."""
    from segdemo.serving.registry import ModelRegistry
    from segdemo.ui.inside import hide_region, ready_to_hide

    registry = ModelRegistry(trained_checkpoints)
    passes = []
    for name in ("unet", "fpn"):
        segmenter = registry.get(name).segmenter
        segmenter.predict = lambda batch, served=segmenter.predict, name=name: passes.append(name) or served(batch)
    photos = sorted(app_examples.glob("*.jpg"))[:2]
    hide_region(registry, str(photos[0]), "centre", 0, 0, 0, 0, ["unet", "fpn"])
    assert sorted(passes) == ["fpn", "fpn", "unet", "unet"], "not readied: the photo's answer and the hidden one's"
    passes.clear()
    ready_to_hide(registry, str(photos[1]), ["unet", "fpn"])
    assert sorted(passes) == ["fpn", "unet"]
    passes.clear()
    gallery, note = hide_region(registry, str(photos[1]), "left", 0, 0, 0, 0, ["unet", "fpn"])
    assert sorted(passes) == ["fpn", "unet"] and len(gallery) == 2
    passes.clear()
    ready_to_hide(registry, None, ["unet"])
    ready_to_hide(registry, str(photos[1]), [])
    ready_to_hide(registry, str(photos[1]) + ".missing", ["unet"])
    assert passes == [], "nothing to ready is not an error: the hide button says what is wrong"


def test_a_photos_answer_being_computed_is_waited_for_not_computed_again():
    """The hide view's readying and a quick student's first region ask for the same answer at once: one pass.
    A failed pass is every asker's error, and the next ask tries again."""
    import threading

    from segdemo.ui.inside import photo_labels

    class SlowEngine:
        def __init__(self, fail=False):
            self.calls, self.started, self.release, self.fail = 0, threading.Event(), threading.Event(), fail

        def predict(self, batch):
            self.calls += 1
            self.started.set()
            self.release.wait(10)
            if self.fail:
                raise RuntimeError("the engine failed")
            return [tf.constant((batch.sum(axis=-1) // 100 % 8).astype(np.int64))]

    photo = np.random.default_rng(5).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    for fail in (False, True):
        engine, answers = SlowEngine(fail), []

        def ask(engine=engine, answers=answers):
            try:
                answers.append(photo_labels(engine, photo))
            except RuntimeError as error:
                answers.append(error)

        first = threading.Thread(target=ask)
        first.start()
        assert engine.started.wait(10)
        second = threading.Thread(target=ask)
        second.start()
        second.join(0.3)
        assert second.is_alive(), "the second ask waits for the first one's pass"
        engine.release.set()
        first.join(10), second.join(10)
        assert engine.calls == 1 and len(answers) == 2
        if fail:
            assert all(isinstance(answer, RuntimeError) for answer in answers)
            engine.fail = False
            assert (photo_labels(engine, photo) == photo.astype(np.int64).sum(axis=-1) // 100 % 8).all()
            assert engine.calls == 2, "a failed pass is not kept"
        else:
            assert (answers[0] == answers[1]).all()
