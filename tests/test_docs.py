"""The docs state facts the code owns: every output column, every parameter's default, range,
unit and source (tables generated from the models' declarations, checked to be current)."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmark.models import docs, registry
from segmark.pipeline.store import schemas

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"


@pytest.mark.parametrize("table", ["plan", "summary", "series"])
def test_output_doc_lists_every_column(table: str) -> None:
    text = (DOCS / "OUTPUT.md").read_text()
    missing = [
        f.name for f in getattr(schemas(registry.get("nk")), table) if f"`{f.name}`" not in text
    ]
    assert not missing


@pytest.mark.parametrize("name", sorted(p.name for p in DOCS.glob("*.md")))
def test_generated_tables_are_current(name: str) -> None:
    """`python -m segmark.models.docs docs/*.md` leaves the committed docs as they are."""
    text = (DOCS / name).read_text()
    assert docs.render(text) == text, f"run: python -m segmark.models.docs docs/{name}"


def test_the_model_doc_carries_the_parameter_table() -> None:
    text = (DOCS / "MODEL.md").read_text()
    assert "<!-- segmark:parameters nk -->" in text
    assert "| `policy.permit_strictness` | - | 0.7 | [0, 1] |" in text


def test_readme_shows_the_two_commands_and_the_schema_doc() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text and "docs/OUTPUT.md" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


@pytest.mark.parametrize("name", registry.names())
def test_every_declaration_says_what_it_is(name: str) -> None:
    model = registry.get(name)
    assert model.doc
    for item in (*model.parameters, *model.outcomes, *model.series):
        assert item.doc, item.name
