"""Architectures tab: how the classic segmentation networks differ, tied to the runnable models."""
import gradio as gr

from segdemo.ui.common import model_label
from segdemo.ui.text import t


def build(registry):
    gr.Markdown(t("architectures.overview"))
    runnable = [model_label(registry.entries[name]) for name in registry.available()]
    gr.Markdown(t("runnable_here") + "; ".join(runnable) if runnable else t("nothing_runnable"))
