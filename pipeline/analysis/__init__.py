"""Analysis of a sweep's Parquet dataset: tipping thresholds, phase diagrams, sensitivity,
hysteresis and early warnings, scenario discovery, and the report (docs/ANALYSIS.md).

The functions a user starts from are importable from here (``from segmark.pipeline.analysis
import load, tipping_threshold``); they are loaded on first use, so importing one module of
the package (``analysis.stats``) does not import matplotlib and every analysis with it.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module of this package that defines it
_EXPORTS = {
    "load": "data",
    "tipping_threshold": "tipping",
    "tipping_thresholds": "tipping",
    "threshold_table": "tipping",
    "clustered_thresholds": "tipping",
    "phase_diagram": "phase",
    "sobol_indices": "sensitivity",
    "morris_effects": "sensitivity",
    "loops": "hysteresis",
    "bistability": "hysteresis",
    "scenario_table": "historical",
    "scenario_paths": "historical",
    "write_report": "report",
    "refine": "refine",
    "describe_box": "scoring",
    "cart_boxes": "scoring",
    "feature_scores": "scoring",
}
# functions named as their modules: bound now, or the module would shadow them once imported
from segmark.pipeline.analysis.early_warnings import early_warnings  # noqa: E402, F401
from segmark.pipeline.analysis.prim import prim  # noqa: E402, F401

__all__ = sorted([*_EXPORTS, "early_warnings", "prim"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
