"""Deployable to Hugging Face Spaces as it stands: valid front matter, and a Space-like start.

A Space clones the repository (tracked files only, no ../shared beside it), installs
``requirements.txt`` alone and runs ``python app.py`` on 2 vCPUs.
"""
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from conftest import free_port

from tools.loadtest import start_app

ROOT = Path(__file__).resolve().parents[1]
# a Space's start-up: imports and the page, then each checkpoint loaded and run once (measured
# on 2 cores: 0.1-0.4 s per exported network, 1.6-2.8 s per model run by Keras, the
# EfficientNet-B0 ones; 12.5 s in all with 7 models, 17.8 s when Keras built every model);
# 1.5x of the target allowed for a busy machine
STARTUP_BASE_S, STARTUP_PER_MODEL_S = 6, 3


def front_matter():
    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n"), "README.md must open with the Spaces front matter"
    return yaml.safe_load(text.split("---\n")[1])


def test_front_matter_is_valid_and_true():
    meta = front_matter()
    assert meta["sdk"] == "gradio"
    assert meta["sdk_version"] == version("gradio"), "sdk_version must be the Gradio the requirements install"
    assert f"gradio=={meta['sdk_version']}" in (ROOT / "requirements.txt").read_text()
    assert (ROOT / meta["app_file"]).is_file()
    assert str(meta["python_version"]) == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert 0 < len(meta["short_description"]) <= 60, "Spaces cuts short descriptions at 60 characters"
    assert meta["license"] == "mit" and (ROOT / "LICENSE").is_file()
    assert "stanford-background" in meta["tags"]
    # the embedding page isolated, so the Live tab's threaded WebAssembly may run in the Space's frame
    assert meta["custom_headers"] == {"cross-origin-embedder-policy": "require-corp",
                                      "cross-origin-opener-policy": "same-origin",
                                      "cross-origin-resource-policy": "cross-origin"}


def tracked_copy(target):
    """The files a push to a Space would carry: what git tracks, nothing else."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.mark.long  # python -m pytest -m long
def test_a_space_installs_requirements_alone_and_serves_every_model(tmp_path):
    from gradio_client import Client, handle_file

    space = tracked_copy(tmp_path / "space")
    models = sorted(path.parent.name for path in (space / "checkpoints").glob("*/config.json"))
    assert models, "no checkpoint is tracked: the Space would have nothing to serve"
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(space / "requirements.txt")],
                   check=True, timeout=1800)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SEGDEMO_", "GRADIO_"))}
    process, startup = start_app(port, tmp_path / "app.log", python=python, cwd=space, base_env=env,
                                 HOME=str(tmp_path / "home"))  # a Space starts with an empty cache
    try:
        print(f"\nSpace-like start: {startup:.1f} s from `python app.py` to serving, {len(models)} models")
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        photo = next(iter(sorted((space / "segdemo" / "assets" / "examples").glob("*.jpg"))))
        for model in models:
            details = client.predict(handle_file(str(photo)), model, 0.5, api_name="/predict")[-1]
            assert details["model"] == model
        assert "the Dataset tab is off" in (tmp_path / "app.log").read_text(), "no dataset on a Space: said, not fatal"
        target = STARTUP_BASE_S + STARTUP_PER_MODEL_S * len(models)
        assert startup <= 1.5 * target, f"start-up took {startup:.1f} s (target {target} s for {len(models)} models)"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_every_picture_the_readme_shows_is_committed():
    import re

    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, check=True, text=True).stdout.split()
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (ROOT / "README.md").read_text())
    assert pictures and [p for p in pictures if p not in listed] == []
