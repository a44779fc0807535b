"""Models segmark sweeps: the interface a model declares (:mod:`.interface`), models found by
name (:mod:`.registry`), and segmark's own plugins: ``nk`` (the North Korea market), ``lake``
(the shallow-lake problem), ``grazing`` (a plain Python function) and ``gauss`` (a known
posterior, calibration's test case). docs/MODELS.md shows how
to bring your own."""

from segmark.models.interface import (
    Model,
    Outcome,
    Parameter,
    ParameterError,
    Result,
    Series,
    Stopped,
    Targets,
)

__all__ = [
    "Model",
    "Outcome",
    "Parameter",
    "ParameterError",
    "Result",
    "Series",
    "Stopped",
    "Targets",
]
