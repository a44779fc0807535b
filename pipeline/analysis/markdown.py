"""Reports as text: Markdown tables, file-name slugs and numbers made safe for JSON; and as
files: the report's folder made and tried before any figure is computed, each file written
whole (a hidden name, then a rename), so a report cut short by a full or read-only disk leaves
no half-written file and one line saying what to do."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmark.pipeline.analysis.data import AnalysisError


def fmt(value: float, digits: int = 4) -> str:
    """A number as the report prints it (``digits`` significant digits; 'n/a' for NaN)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}"


def table(frame: pd.DataFrame, digits: int = 4) -> str:
    """A DataFrame as a Markdown table, numbers with ``digits`` significant digits."""

    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return fmt(float(v), digits)
        return str(v)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def slug(text: str) -> str:
    """``text`` as part of a file name."""
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def json_safe(value: Any) -> Any:
    """Plain JSON values: numpy scalars as Python's, non-finite floats as null."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@contextmanager
def staged(path: Path) -> Iterator[Path]:
    """A hidden name with ``path``'s suffix (matplotlib picks the format by it), renamed onto
    ``path`` when complete: a write that fails (a full disk) leaves no half-written file."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():  # never made in a directory that refuses writes: nothing to unlink
            tmp.unlink()


def writable_directory(out: Path, given: bool) -> None:
    """Make the report's directory and try a write there, before any figure is computed: a
    file in its place or a directory that refuses writes (a read-only dataset) is an
    AnalysisError saying what to do, in one line."""
    if out.exists() and not out.is_dir():
        advice = "give --out a directory (made if missing)" if given else "give --out DIR"
        raise AnalysisError(f"cannot write the report into {out}: a file, not a folder; {advice}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".probe-"):
            pass
    except OSError as error:
        raise AnalysisError(cannot_write(out, error, given)) from None


def cannot_write(out: Path, error: OSError, given: bool) -> str:
    cause = error.strerror or str(error)
    if error.filename is not None and Path(os.fsdecode(error.filename)) != out:
        cause += f": {os.fsdecode(error.filename)}"
    advice = (
        "give --out a directory that can be written"
        if given
        else "the dataset cannot be written here (read-only?): give --out DIR for the report"
    )
    return f"cannot write the report into {out} ({cause}); {advice}"
