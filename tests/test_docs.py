"""The docs state facts the code owns: every output column and every parameter default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmark.pipeline.config import parameter_fields
from segmark.pipeline.params import PARAMETER_COLUMNS
from segmark.pipeline.store import PLAN_SCHEMA, SERIES_SCHEMA, SUMMARY_SCHEMA

DOCS = Path(__file__).parents[1] / "docs"
README = Path(__file__).parents[1] / "README.md"


@pytest.mark.parametrize("schema", [PLAN_SCHEMA, SUMMARY_SCHEMA, SERIES_SCHEMA])
def test_output_doc_lists_every_column(schema) -> None:
    text = (DOCS / "OUTPUT.md").read_text()
    missing = [f.name for f in schema if f"`{f.name}`" not in text]
    assert not missing


def _model_doc_rows() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in (DOCS / "MODEL.md").read_text().splitlines():
        match = re.match(r"\| `(\w+)\.(\w+)` \| [^|]* \| ([^|]+) \| ([^|]+) \|", line)
        if match:
            rows[f"{match[1]}.{match[2]}"] = (match[3].strip(), match[4].strip())
    return rows


def test_model_doc_states_every_parameter_default_and_range() -> None:
    rows = _model_doc_rows()
    for column in PARAMETER_COLUMNS:
        assert column.path in rows, column.path
        spec = parameter_fields(column.group)[column.name]
        stated_default, stated_range = rows[column.path]
        if isinstance(spec.default, str):
            assert stated_default == spec.default, column.path
            assert stated_range == ", ".join(spec.metadata["choices"]), column.path
            continue
        assert float(stated_default) == pytest.approx(spec.default), column.path
        numbers = [float(v) for v in re.findall(r"[-+]?\d+(?:\.\d+)?(?:e\d+)?", stated_range)]
        if column.path == "model.sample_every":  # documented as [1, n_steps]
            assert numbers[0] == spec.metadata["low"]
            continue
        if column.path == "model.network_seed":  # documented as [0, 2^32)
            continue
        assert numbers[:2] == [spec.metadata["low"], spec.metadata["high"]], column.path
        assert stated_range.startswith("(" if spec.metadata["open_low"] else "["), column.path


def test_readme_shows_the_two_commands_and_the_schema_doc() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text and "docs/OUTPUT.md" in text
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "make test" in ci


def test_parameter_groups_are_documented_dataclasses() -> None:
    for group in ("model", "policy", "shock"):
        assert all(f.metadata.get("doc") for f in parameter_fields(group).values())
