"""The benchmark's new visitors and its class in Inside the network, on small models: every answer
arrives and the README lines say what was measured (timings are the benchmark's)."""
from pathlib import Path

import pytest

from tools.classroom import HIDE_AS_THE_PAGE_ASKS, classroom_markdown, run_classroom


@pytest.mark.slow
def test_new_visitors_and_a_class_inside_the_network(trained_checkpoints, app_examples, tmp_path):
    sources = sorted(Path(app_examples).glob("*.jpg"))
    results = run_classroom(trained_checkpoints, tmp_path, sources, students=2, per_student=1, bursts=1,
                            compare_students=1, compare_per_student=1, new_visitor_bursts=2, inside_class_sizes=(2, 3),
                            overload=2)
    assert [b["answers"] for b in results["new_visitors"]] == [2, 2]
    inside = results["inside"]
    assert [o["answers"] for o in inside["pixel"]] == [2, 3] and all(o["failures"] == [] for o in inside["pixel"])
    assert inside["page_pixel"]["answers"] == 3 and inside["page_pixel"]["failures"] == []
    assert {view: o["answers"] for view, o in inside["views"].items()} == {
        "probabilities": 3, "feature maps": 3, "hide the centre": 3, "hide the left half next (same photos)": 3,
        HIDE_AS_THE_PAGE_ASKS: 3}
    assert all(o["failures"] == [] for o in inside["views"].values())
    assert results["inside_warm_up"].startswith("segdemo: Inside the network is ready (unet, pspnet, fpn")
    text = classroom_markdown(results, "python -m tools.bench --classroom", "a test machine")
    assert "- New visitors, 2 bursts of 2 sessions never seen before x 1 photos" in text
    assert "- Inside, 3 students at once clicking a pixel, each on a photo of their own: 0 failures" in text
    assert "- Inside, the same 3 clicking a pixel as the page asks (the photo sent and shown when chosen" in text
    assert "students at once asking for hide the centre" in text
    assert f"3 students at once asking for {HIDE_AS_THE_PAGE_ASKS}" in text
