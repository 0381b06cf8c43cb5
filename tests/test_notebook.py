"""notebooks/train_on_gpu.ipynb executed top to bottom on the CPU with a tiny setting, so it cannot rot."""
import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "train_on_gpu.ipynb"


@pytest.mark.long  # python -m pytest -m long
def test_gpu_notebook_runs_top_to_bottom_on_a_tiny_setting(tiny_data, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
    parameters.source += "\n".join([
        "",
        f"DATA = {str(tiny_data)!r}",
        'ENCODER_WEIGHTS = "none"',
        'RECIPES = {"fpn": 1}  # every cell runs with one recipe; the three train in tests/test_train_and_inference.py',
        'SIZE, CROP = "96x96", ""',
        "EPOCHS_ON_WHOLE = 1  # no crop: 1 + 1 epochs on whole photos",
        "BATCH, EXPORT_REPEATS = 4, 2",
        f"OUT = {str(tmp_path / 'runs')!r}",
    ])
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    run = tmp_path / "runs" / "fpn-mobilenetv2"
    assert len(json.loads((run / "history.json").read_text())) == 2
    assert 0 <= json.loads((run / "metrics.json").read_text())["miou"] <= 1
    assert (run / "engine.json").exists()
    shown = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    assert "fpn-mobilenetv2: pixel accuracy" in shown
