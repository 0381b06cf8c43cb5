"""The teacher's controls (issue 33): who may start, stop and keep a Train run, and how a kept run is
named and offered (one name in the page's language, never ticked for Compare by itself)."""
from types import SimpleNamespace

import pytest

from segdemo.serving.class_training import TEACHER_CODE_ENV, TeacherCode


def test_a_set_code_is_needed_even_on_this_computer():
    teacher = TeacherCode.for_server({TEACHER_CODE_ENV: " 2718 "})
    assert teacher.from_environment and teacher.code == "2718"
    assert not teacher.admits("", "127.0.0.1") and not teacher.admits("1234", "::1")
    assert teacher.admits("2718", "127.0.0.1") and teacher.admits(" 2718", "192.168.1.31")
    assert "2718" not in teacher.notice()  # a Space's secret is not written to its log


def test_without_a_set_code_this_computer_needs_none_and_others_need_the_printed_one():
    teacher = TeacherCode.for_server({})
    assert not teacher.from_environment and len(teacher.code) == 6 and teacher.code.isdigit()
    assert teacher.admits("", "127.0.0.1") and teacher.admits(None, "localhost")
    assert not teacher.admits("", "192.168.1.31") and not teacher.admits("000000x", "192.168.1.31")
    assert teacher.admits(teacher.code, "192.168.1.31")
    assert teacher.code in teacher.notice()


def test_stop_and_keep_answer_the_runs_owner_and_the_teacher_only():
    from segdemo.ui.train import may_control

    teacher = TeacherCode("4242", from_environment=True)
    run = SimpleNamespace(owner="teacher-session")

    def request(session, host):
        return SimpleNamespace(session_hash=session, client=SimpleNamespace(host=host))

    assert may_control(run, request("teacher-session", "192.168.1.20"), teacher)
    assert not may_control(run, request("another-tab", "127.0.0.1"), teacher)  # a code is set: this computer too
    assert may_control(run, request("another-tab", "127.0.0.1"), teacher, "4242")
    assert not may_control(run, request("student", "192.168.1.31"), teacher, "1111")


@pytest.mark.parametrize("language, one, two", [("en", "(U-Net, 1 epoch)", "(U-Net, 2 epochs)"),
                                                ("ja", "(U-Net、1 エポック)", "(U-Net、2 エポック)")])
def test_a_kept_run_has_one_name_per_language_with_its_plural(language, one, two):
    from segdemo.serving.class_training import RunSettings
    from segdemo.ui.train import run_label, run_labels, status_markdown

    def run(epochs):
        return SimpleNamespace(epochs=[{"epoch": e + 1, "val_miou": 0.4} for e in range(epochs)], settings=RunSettings(),
                               started=0.0, status="finished", kept_as="class-run-1", cap_s=300,
                               elapsed=lambda now=None: 65.0, best_val_miou=0.4, running=False, start_miou=None)

    assert run_label(language, run(1)).endswith(one) and run_label(language, run(2)).endswith(two)
    assert set(run_labels(run(1))) >= {"en", "ja"}
    status = status_markdown(language, run(1))
    assert run_label(language, run(1)) in status  # the status names the run as the lists do
    if language == "en":
        assert "1 epoch," in status and "1 epochs" not in status


def test_a_kept_run_joins_the_lists_in_the_pages_language_but_is_never_ticked_for_compare():
    from segdemo.ui.train import model_lists

    def entry(name, label=None):
        return SimpleNamespace(name=name, label=label, config=SimpleNamespace(title="U-Net (MobileNetV2)", label_set="regions"))

    kept = entry("class-run-1", {"en": "class run 14:59 (U-Net, 1 epoch)", "ja": "授業の学習 14:59(U-Net、1 エポック)"})
    entries = {"unet": entry("unet"), "pspnet": entry("pspnet"), "class-run-1": kept}
    registry = SimpleNamespace(entries=entries, available=lambda label_set=None: list(entries))
    for language in ("en", "ja"):
        model, compared = model_lists(registry, "unet", "regions", ["unet", "pspnet"], language)
        assert compared.value == ["unet", "pspnet"]  # a new page, or one that had not ticked it, keeps its choice
        assert (kept.label[language], "class-run-1") in [tuple(c) for c in compared.choices]
        assert (kept.label[language], "class-run-1") in [tuple(c) for c in model.choices] and model.value == "unet"


@pytest.fixture
def served_with_a_code(app_examples, tiny_data, tmp_path, monkeypatch):
    """The app built in this process with ``SEGDEMO_TEACHER_CODE`` set, served on a loopback port; no run really starts."""
    import gradio_client

    from segdemo.data.view import open_dataset_view
    from segdemo.serving import class_training
    from segdemo.serving.registry import ModelRegistry
    from segdemo.ui.app import build_demo
    from tools.loadtest import free_port

    from huggingface_hub import constants

    # gradio_client's Client asks huggingface_hub for its user agent, which looks itself up on the Hub
    # and sends telemetry: both off, so this test talks to 127.0.0.1 only
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setenv(TEACHER_CODE_ENV, "31415")
    monkeypatch.setenv("SEGDEMO_EXAMPLES", str(app_examples))
    monkeypatch.delenv("SEGDEMO_TRAIN_CAP_S", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    class_training.server_teacher_code.cache_clear()
    started = []
    monkeypatch.setattr(class_training.ClassTrainer, "start", lambda self, settings, owner: started.append(settings))
    monkeypatch.setenv("SEGDEMO_DATA", str(tiny_data))
    demo = build_demo(ModelRegistry(tmp_path / "no-models"), view=open_dataset_view())
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False), started
    finally:
        demo.close()
        class_training.server_teacher_code.cache_clear()


def test_with_a_code_set_the_api_refuses_train_and_stop_without_it_even_from_this_computer(served_with_a_code):
    from gradio_client.exceptions import AppError

    client, started = served_with_a_code
    settings = ("unet", "ce+dice", "scratch", 16, 1, "96x128", "stanford")
    for code in ("", "27182"):
        with pytest.raises(AppError, match="Only the teacher"):
            client.predict(*settings, code, api_name="/train")
        with pytest.raises(AppError):
            client.predict(code, api_name="/train_stop")
    assert started == []
    client.predict(*settings, "31415", api_name="/train")
    assert len(started) == 1 and started[0].epochs == 1
    with pytest.raises(AppError, match="Only the teacher"):  # the code may be left out, and is then missing
        client.predict(*settings, api_name="/train")
