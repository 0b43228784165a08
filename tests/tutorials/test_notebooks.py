"""Execute the clinician tutorials (``tutorials/*.ipynb``) in fast mode and check they are in sync with their
generator (``tutorials/make_notebooks.py``) and committed without outputs."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

REPO = Path(__file__).resolve().parents[2]
TUTORIALS = REPO / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", TUTORIALS / "make_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_notebooks_committed_clean_and_in_sync(tmp_path):
    gen = _generator()
    assert sorted(gen.NOTEBOOKS) == [p.name for p in NOTEBOOKS]
    gen.main(tmp_path)
    for path in NOTEBOOKS:
        nb = nbformat.read(str(path), as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
        fresh = nbformat.read(str(tmp_path / path.name), as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in fresh.cells], f"{path.name}: rerun make_notebooks.py"
        text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert len(text) > 1500  # real explanations, not just code


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("MONAI_ANGIO_TUTORIAL_FAST", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the notebooks use %matplotlib inline
    nb = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "display_data" and "image/png" in o.get("data", {}) for o in outputs)
    # every cell that shows a figure really shows one (e.g. no library call switched the inline backend off)
    for cell in nb.cells:
        if cell.cell_type == "code" and ("plt.show()" in cell.source or "display(Image(" in cell.source):
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"no figure from:\n{cell.source[:200]}"
    assert (tmp_path / "tutorial_outputs").is_dir()
