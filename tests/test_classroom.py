"""A class on a served app with small models: bursts, the busy answer beyond capacity, a cache that is cleaned.

Timings are the benchmark's (``python -m tools.bench --classroom``); here only what must hold
whatever the machine: every answer arrives, nobody hangs, a refusal is the busy message.
"""
import time
from pathlib import Path

import pytest

from segdemo.serving.registry import ModelRegistry
from segdemo.ui.text import EN
from tools.classroom import Student, asker, classroom_markdown, file_urls, predict_asker, run_classroom
from tools.loadtest import free_port, start_app


@pytest.mark.slow
def test_a_small_class_gets_every_answer_and_the_overflow_is_told_busy(trained_checkpoints, app_examples, tmp_path):
    sources = sorted(Path(app_examples).glob("*.jpg"))
    # one worker and one second of patience, so that 24 users at once (half with phone-size photos) overflow it
    results = run_classroom(trained_checkpoints, tmp_path, sources, students=2, per_student=2, bursts=2,
                            compare_students=1, compare_per_student=2, overload=24,
                            SEGDEMO_WORKERS="1", SEGDEMO_PATIENCE_S="1")
    assert [b["answers"] for b in results["bursts"]] == [4, 4]
    assert results["offered_first"] and results["model"] == ModelRegistry(trained_checkpoints).best("regions")
    assert all(b["failures"] == [] and b["hung"] == 0 for b in results["bursts"])
    assert results["compare"]["answers"] == 2 and results["compare"]["failures"] == []
    overload = results["overload"]
    assert overload["answered"] + overload["busy"] == 24 and overload["other_failures"] == [] and overload["hung"] == 0
    assert overload["busy"] > 0 and overload["busy_messages"] == [EN["error.busy"]]
    assert results["after_overload_ms"] > 0, "still serving"
    text = classroom_markdown(results, "python -m tools.bench --classroom", "a test machine")
    assert "| 2: 2 students x 2 | 4 | 0 |" in text and "24 users at once" in text
    assert f"/predict ({results['model']}, the model the page offers first)" in text
    assert "4032x3024" in text, "phone-size photos are part of the class"


@pytest.mark.slow
def test_old_pictures_and_uploads_leave_the_cache(trained_checkpoints, app_examples, tmp_path):
    port = free_port()
    process, _ = start_app(port, tmp_path / "app.log", SEGDEMO_CHECKPOINTS=str(trained_checkpoints),
                           TMPDIR=str(tmp_path), SEGDEMO_CACHE_AGE_S="2", SEGDEMO_CACHE_SWEEP_S="1")
    try:
        cache = tmp_path / "gradio"
        kept = set(cache.rglob("*"))  # the bundled examples, cached at start and kept
        student = Student(f"http://127.0.0.1:{port}/")
        ask = predict_asker(sorted(Path(app_examples).glob("*.jpg")), "unet")
        answer = ask(student, 0, 0)
        served = [Path(url.split("file=", 1)[1]) for url in file_urls(answer)]
        assert served and all(path.is_file() and path.is_relative_to(cache) for path in served)
        written = {path for path in cache.rglob("*") if path.is_file()} - kept
        assert len(written) > len(set(served)), "the upload is in the cache too"
        # asked as a page asks (one message, then the answer's event stream), as the benchmark times Compare
        fetched = student.bytes
        direct = asker(sorted(Path(app_examples).glob("*.jpg")), "unet", 0.55, api_name="/predict", sent_before=True,
                       method=Student.ask_directly)(student, 0, 0)
        assert len(file_urls(direct)) == len(file_urls(answer)) and student.bytes > fetched
        with pytest.raises(RuntimeError, match="/predict"):
            student.ask_directly(None, "unet", 0.55, api_name="/predict")  # no photo: the error event, told
        time.sleep(5)
        left = [path for path in written if path.exists()]
        assert left == [], "removed once older than SEGDEMO_CACHE_AGE_S"
        assert file_urls(ask(student, 0, 1)), "still serving"
    finally:
        process.terminate()
        process.wait(timeout=30)
