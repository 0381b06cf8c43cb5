"""A new visitor's session computes its blocks' configs on demand (segdemo.ui.sessions), with the
same configs as Gradio's own SessionState whenever the whole list is read (a deep link)."""

import pytest
from gradio.state_holder import SessionState

from segdemo.ui import sessions


@pytest.fixture(scope="module")
def demo(trained_checkpoints):
    from segdemo.serving.registry import ModelRegistry
    from segdemo.ui.app import build_demo

    page = build_demo(ModelRegistry(trained_checkpoints))
    page.get_config_file()  # as launch() does: it sets the default config sessions copy
    return page


def session(demo, init):
    state = SessionState.__new__(SessionState)
    init(state, demo)
    return state


def test_a_new_session_computes_no_config_until_asked_and_then_gives_gradios_own(demo, monkeypatch):
    monkeypatch.setattr(SessionState, "__init__", sessions.ORIGINAL_INIT)
    light, gradio = session(demo, sessions._light_init), session(demo, sessions.ORIGINAL_INIT)
    assert set(vars(light)) == set(vars(gradio))  # the same fields: a Gradio that adds one fails here
    assert dict.__len__(light.config_values) == 0 < len(gradio.config_values) == len(demo.blocks)
    some = next(iter(demo.blocks))
    light._update_value_in_config(some, "changed")  # what a request does: that block only
    gradio._update_value_in_config(some, "changed")
    assert dict.__len__(light.config_values) == 1
    assert list(light.components) == list(gradio.components)  # a deep link's list: every block, same order


def test_light_sessions_replaces_the_constructor(monkeypatch):
    monkeypatch.setattr(SessionState, "__init__", sessions.ORIGINAL_INIT)
    sessions.light_sessions()
    assert SessionState.__init__ is sessions._light_init


def test_app_py_lightens_sessions_before_serving():
    import ast
    from pathlib import Path

    calls = [node.value.func.id for node in ast.parse(Path("app.py").read_text()).body
             if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)]
    assert "light_sessions" in calls
