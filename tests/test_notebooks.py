"""Every notebook runs top to bottom against the smoke dataset; .ipynb and .py stay paired."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.py"))


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(
    source: Path, smoke_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGMARK_DATASET", str(smoke_dataset))
    notebook = jupytext.read(source)
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute(cwd=str(source.parent))
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert not errors
    images = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert images, "the notebook shows no figure"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_ipynb_is_paired_and_stripped(source: Path) -> None:
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"run: jupytext --sync {source}"
    ipynb = nbformat.read(paired, as_version=4)
    text = jupytext.read(source)
    assert [c.source for c in ipynb.cells] == [c.source for c in text.cells]
    assert all(not c.get("outputs") for c in ipynb.cells if c.cell_type == "code")
