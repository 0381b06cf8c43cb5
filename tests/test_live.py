"""Live camera: frames arriving while one is in flight are dropped, never queued; the rate is measured."""
import threading
import time
from types import SimpleNamespace

import numpy as np

from segdemo.serving.live import FrameGate, ViewerGates
from segdemo.serving.registry import ModelEntry, ModelRegistry


def test_a_frame_arriving_while_one_is_in_flight_is_dropped():
    gate = FrameGate()
    assert gate.try_enter()
    assert not gate.try_enter() and not gate.try_enter()
    assert gate.dropped == 2
    gate.leave()
    assert gate.try_enter(), "the next frame after the first is done goes through"
    gate.leave(shown=False)
    assert gate.shown == 1


def test_frame_rate_is_frames_shown_over_time():
    gate = FrameGate(window=5)
    for _ in range(5):
        assert gate.try_enter()
        time.sleep(0.02)
        gate.leave()
    assert 25 <= gate.frames_per_second <= 55


def test_many_frames_at_once_leave_at_most_one_in_flight():
    gate, admitted, lock = FrameGate(), [], threading.Lock()

    def frame():
        if gate.try_enter():
            with lock:
                admitted.append(1)
            time.sleep(0.05)
            gate.leave()

    threads = [threading.Thread(target=frame) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) + gate.dropped == 20 and gate.dropped >= 15


def test_each_viewer_has_a_gate_and_old_viewers_are_forgotten():
    gates = ViewerGates(limit=2)
    first = gates("a")
    assert gates("a") is first and gates("b") is not first
    gates("c")
    assert gates("a") is not first, "the least recent viewer was forgotten"


def test_live_frame_segments_or_skips(trained_checkpoints):
    """The Live tab's handler (gradio_client cannot drive a streaming event; the browser test does)."""
    import gradio as gr

    from segdemo.serving.registry import ModelRegistry
    from segdemo.ui.live import live_frame

    registry, gates = ModelRegistry(trained_checkpoints), ViewerGates()
    assert registry.fastest() in registry.available("regions")
    frame = np.random.default_rng(2).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    picture, rate, legend = live_frame(registry, gates, frame, "pspnet", "viewer")
    assert picture.shape == (240, 320, 3) and "frames/s shown" in rate and "PSPNet" in rate
    assert legend.count("<tr>") == 8 and "foreground object" in legend
    full_hd = np.random.default_rng(3).integers(0, 255, (1440, 1920, 3), dtype=np.uint8)  # a webcam ignoring 640x480
    assert live_frame(registry, gates, full_hd, "pspnet", "viewer")[0].shape == (480, 640, 3)
    assert gates("viewer").try_enter()  # a frame of this viewer is in flight: the next is dropped
    assert live_frame(registry, gates, frame, "pspnet", "viewer") == (gr.skip(), gr.skip(), gr.skip())
    gates("viewer").leave()
    assert live_frame(registry, gates, None, "pspnet", "viewer") == (gr.skip(), gr.skip(), gr.skip())
    assert "could not be segmented" in live_frame(registry, gates, frame, "no-such-model", "viewer")[1]


def test_the_live_model_is_the_fastest_of_the_default_set_while_it_holds_one(tmp_path):
    """Two PSPNets a millisecond apart must not swap places between starts of the app."""
    def loaded(name, milliseconds, label_set="regions"):
        return ModelEntry(name, tmp_path / name, config=SimpleNamespace(label_set=label_set),
                          segmenter=SimpleNamespace(warm_milliseconds=milliseconds))

    registry = ModelRegistry(tmp_path)
    registry.entries = {"unet": loaded("unet", 67.0), "pspnet": loaded("pspnet", 31.8),
                        "pspnet-efficientnetb0": loaded("pspnet-efficientnetb0", 30.1),
                        "seed-recipe": loaded("seed-recipe", 20.0, "surfaces")}
    assert registry.fastest() == "pspnet"
    registry.remove("pspnet")
    registry.remove("unet")
    assert registry.fastest() == "pspnet-efficientnetb0"
    assert registry.fastest("surfaces") == "seed-recipe"


def test_the_in_page_block_carries_its_network_classes_and_texts_in_both_languages(tmp_path):
    """live.js reads everything it shows from the block's data-config: nothing per frame from the server."""
    import html
    import json
    import re

    from segdemo.ui.live import PAGE_TEXTS, page_config, page_markup

    config = SimpleNamespace(title="PSPNet (MobileNetV2)", height=288, width=384, classes=["sky", "tree"],
                             colours=[(70, 130, 180), (34, 139, 34)])
    settings = page_config(SimpleNamespace(config=config), "segdemo-models/pspnet.tflite")
    assert settings["input"] == [288, 384] and settings["colours"] == [[70, 130, 180], [34, 139, 34]]
    assert settings["texts"]["ja"]["classes"] == ["空", "木"] and settings["texts"]["en"]["classes"] == ["sky", "tree"]
    for language in ("en", "ja"):
        assert set(settings["texts"][language]) == {*PAGE_TEXTS, "classes"}
    assert "{fps:.1f} frames/s shown" in settings["texts"]["en"]["rate"]
    markup = page_markup(settings)
    assert json.loads(html.unescape(re.search(r'data-config="([^"]*)"', markup).group(1))) == settings
