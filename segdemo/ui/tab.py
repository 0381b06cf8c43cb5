"""The one shape every tab (and the Join panel) has, so the page is built from one ordered list.

A tab module names itself (``ID``; its title is the text ``tab.<ID>``) and has
``build(page) -> Built``: it lays out its components inside the tab Gradio has opened, wires
its events, and gives back what the page must run when it loads, plus the handles it lends to
other tabs (Predict lends its photo box so the Dataset tab can send it a photo).  Adding a
tab is one module, one entry in ``ui.app.TABS`` and its texts.
"""
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class PageLoad:
    """A function the page runs once per visitor when it opens, to fill ``outputs`` in their language."""
    function: Callable
    outputs: list
    inputs: list | None = None


@dataclass
class Built:
    """What a built tab gives the page: its page-load hooks and the handles it lends to other tabs."""
    on_load: list[PageLoad] = field(default_factory=list)
    handles: dict[str, Any] = field(default_factory=dict)

    def fill_on_load(self, function, outputs, inputs=None):
        self.on_load.append(PageLoad(function, list(outputs), inputs))
        return self


@dataclass
class Page:
    """What every tab is built with: the models, the request gate, the dataset (None when absent),
    the tab strip (to switch tabs) and the handles of the tabs built before it."""
    registry: Any
    capacity: Any
    view: Any = None
    tabs: Any = None
    built: dict[str, Built] = field(default_factory=dict)

    def handle(self, tab_id, name):
        """A handle another tab lent, or None when that tab is absent or lends no such thing."""
        tab = self.built.get(tab_id)
        return tab.handles.get(name) if tab else None


def tab_element_id(tab_id):
    """The HTML id of a tab's panel (Gradio gives its button the same id plus ``-button``)."""
    return f"tab-{tab_id}"


def tab_button(tab_id):
    """The CSS selector of a tab's button, by which the browser tests and screenshots open it."""
    return f"#{tab_element_id(tab_id)}-button"
