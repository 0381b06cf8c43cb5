"""The package's dependencies run one way: no import cycles (function-level imports included),
each group of modules imports only the groups below it, and nothing in it imports the tools."""
import ast
from pathlib import Path

import pytest

import segdemo

PACKAGE = Path(segdemo.__file__).parent
# lowest first: a module may import its own group and the ones before it
GROUPS = ("segdemo.paths", "segdemo.texts", "segdemo.imaging", "segdemo.data", "segdemo.networks", "segdemo.serving", "segdemo.inside",
          "segdemo.ui")


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path, known):
    """The segdemo (and tools) modules ``path`` imports anywhere in its body, resolved to module names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in known)
    return {name for name in found if name.split(".")[0] in ("segdemo", "tools")}


def import_graph():
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imported_modules(path, paths) - {name, "segdemo"} for name, path in paths.items()}


def rank(module):
    return next((i for i, group in enumerate(GROUPS) if module == group or module.startswith(group + ".")), -1)


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return trail[trail.index(target):] + [target]
            if target in graph and target not in state:
                cycle = visit(target, trail + [target])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_the_graph_sees_function_level_imports():
    """The checker itself: an import inside a function counts (the cycles it hid were real)."""
    graph = import_graph()
    assert "segdemo.networks.models" in graph["segdemo.networks.encoder_proofs"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    assert find_cycle(import_graph()) is None


@pytest.mark.parametrize("module, imports", sorted(import_graph().items()))
def test_groups_import_only_the_groups_below(module, imports):
    upward = sorted(name for name in imports if rank(name) > rank(module) or name.startswith("tools"))
    assert not upward, f"{module} imports {upward}: a lower group (or the package) must not need them"
