"""The docs' tables of a model, generated from its declarations.

A Markdown file marks where a table goes; :func:`refresh` rewrites what lies between the marks:

    <!-- segmark:parameters nk -->
    ...generated...
    <!-- /segmark -->

Kinds: ``parameters``, ``outcomes``, ``series``, ``columns`` (the parameter columns' types).
``python -m segmark.models.docs docs/*.md`` refreshes files in place; the tests check that the
committed docs are what it writes.
"""

from __future__ import annotations

import re
import sys
from itertools import groupby
from pathlib import Path

from segmark.models import registry
from segmark.models.interface import Model, Parameter

MARK = re.compile(
    r"(<!-- segmark:(?P<kind>\w+) (?P<model>\w+) -->\n)(?P<body>.*?)(<!-- /segmark -->)", re.S
)
ARROW_NAMES = {float: "double", int: "int64", str: "string", bool: "bool"}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def _default(p: Parameter) -> str:
    return f"{p.default:g}" if p.dtype is float else str(p.default)


def _numbered(p: Parameter) -> tuple:
    """What numbered parameters (``release_00`` ... ``release_99``) share besides their
    number: one row of a table stands for a run of them."""
    stem = re.fullmatch(r"(.*_)\d+", p.name)
    if stem is None:
        return (p.path,)
    return (p.group, stem[1], p.unit, p.default, p.allowed(), p.source)


def _spans(params: tuple[Parameter, ...]) -> list[tuple[Parameter, Parameter, int]]:
    """Runs of numbered parameters as (first, last, count), the others alone."""
    spans = []
    for _, run in groupby(params, key=_numbered):
        run = list(run)
        spans.append((run[0], run[-1], len(run)))
    return spans


def _span_text(first: str, last: str) -> str:
    """``a 0`` and ``a 99`` as ``a 0 ... 99``."""
    if first == last:
        return first
    same = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), 0)
    while same and last[same - 1].isdigit():  # 10 ... 19, not 10 ... 9
        same -= 1
    return f"{first} ... {last[same:]}"


def parameters(model: Model) -> str:
    """Every parameter: key, unit, default, range or choices, meaning, source; numbered
    parameters of one kind in one row."""
    rows = [
        "| key | unit | default | range | meaning | source |",
        "|---|---|---|---|---|---|",
    ]
    for first, last, count in _spans(model.columns()):
        key = f"`{first.path}`" + (f" ... `{last.path}` ({count})" if count > 1 else "")
        doc = _span_text(first.doc, last.doc)
        cells = (key, first.unit, _default(first), first.allowed(), doc, first.source)
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def outcomes(model: Model) -> str:
    """Every outcome: column, type, unit, meaning."""
    rows = ["| column | type | unit | meaning |", "|---|---|---|---|"]
    for o in model.outcomes:
        kind = "bool, nullable" if o.dtype is bool else "double"
        rows.append(f"| `{o.name}` | {kind} | {_cell(o.unit)} | {_cell(o.doc)} |")
    return "\n".join(rows) + "\n"


def series(model: Model) -> str:
    """Every sampled series: column, unit, meaning (float32 in the dataset)."""
    return _float_columns(model.series)


def places(model: Model) -> str:
    """Every per-unit output: column, unit, meaning (float32 in the dataset)."""
    return _float_columns(model.places)


def _float_columns(declared) -> str:
    rows = ["| column | type | unit | meaning |", "|---|---|---|---|"]
    for s in declared:
        rows.append(f"| `{s.name}` | float | {_cell(s.unit)} | {_cell(s.doc)} |")
    return "\n".join(rows) + "\n"


def columns(model: Model) -> str:
    """The parameter columns of the run table, in order, with their Arrow types."""
    rows = ["| column | type |", "|---|---|"]
    for first, last, count in _spans(model.columns()):
        key = f"`{first.column}`" + (f" ... `{last.column}` ({count})" if count > 1 else "")
        rows.append(f"| {key} | {ARROW_NAMES[first.dtype]} |")
    return "\n".join(rows) + "\n"


TABLES = {
    "parameters": parameters,
    "outcomes": outcomes,
    "series": series,
    "places": places,
    "columns": columns,
}


def render(text: str, models: dict[str, Model] | None = None) -> str:
    """``text`` with every marked table regenerated."""

    def table(match: re.Match[str]) -> str:
        model = (models or {}).get(match["model"]) or registry.get(match["model"])
        return match.group(1) + TABLES[match["kind"]](model) + match.group(5)

    return MARK.sub(table, text)


def refresh(path: Path) -> bool:
    """Rewrite the marked tables of the Markdown file at ``path``; True if it changed."""
    text = path.read_text()
    new = render(text)
    if new != text:
        path.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> None:
    for name in argv if argv is not None else sys.argv[1:]:
        print(f"{name}: {'refreshed' if refresh(Path(name)) else 'current'}")


if __name__ == "__main__":
    main()
