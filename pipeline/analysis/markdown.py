"""Reports as text: Markdown tables, file-name slugs and numbers made safe for JSON."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


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
