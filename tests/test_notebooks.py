"""Every notebook runs top to bottom against the smoke dataset; .ipynb and .py stay paired."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from test_analysis_hysteresis import ramp_dataset  # noqa: F401
from test_analysis_report import grid2_dataset, morris_dataset, scenarios_dataset  # noqa: F401
from test_discovery import explore_dataset  # noqa: F401

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.py"))
# notebook -> (environment variable, fixture of the small dataset it reads) besides the smoke
# sweep in SEGMARK_DATASET
DATASETS = {
    "02_tipping_phase": ("SEGMARK_DATASET", "grid2_dataset"),
    "03_hysteresis_warnings": ("SEGMARK_RAMP_DATASET", "ramp_dataset"),
    "04_sensitivity": ("SEGMARK_SENSITIVITY_DATASET", "morris_dataset"),
    "05_scenarios": ("SEGMARK_SCENARIOS_DATASET", "scenarios_dataset"),
    "06_scenario_discovery": ("SEGMARK_EXPLORE_DATASET", "explore_dataset"),
}


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(
    source: Path,
    smoke_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.setenv("SEGMARK_DATASET", str(smoke_dataset))
    monkeypatch.setenv("SEGMARK_N_BOOT", "200")
    if source.stem in DATASETS:
        variable, fixture = DATASETS[source.stem]
        monkeypatch.setenv(variable, str(request.getfixturevalue(fixture)))
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
