"""The Gradio dashboard: one module per tab, assembled by ``segdemo.ui.app``."""
