"""Which runs are "of interest" for scenario discovery: a bool outcome (``integrated``, or
``not integrated``) or a comparison of an outcome with a number (``integration_index > 0.5``).
Parsed, never evaluated as code."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmark.models.interface import Model
from segmark.pipeline.analysis.data import AnalysisError

_FORM = re.compile(
    r"\s*(?P<negate>not\s+)?(?P<outcome>[A-Za-z_]\w*)"
    r"(?:\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))?\s*"
)
_OPS = {
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
}  # fmt: skip
FORMS = "OUTCOME, not OUTCOME (a true/false outcome) or OUTCOME OP NUMBER (OP: < <= > >= == !=)"


@dataclass(frozen=True)
class Condition:
    """Runs whose ``outcome`` is true (``op`` None; false with ``negate``), or compares with
    ``value`` by ``op``."""

    outcome: str
    op: str | None = None
    value: float | None = None
    negate: bool = False

    def __str__(self) -> str:
        if self.op is None:
            return f"{'not ' if self.negate else ''}{self.outcome}"
        return f"{self.outcome} {self.op} {self.value:g}"

    def cases(self, runs: pd.DataFrame) -> np.ndarray:
        """Which of ``runs`` (ok runs of the summary) meet the condition."""
        values = runs[self.outcome].to_numpy()
        if self.op is None:
            hit = values.astype(bool)
            return ~hit if self.negate else hit
        return _OPS[self.op](values.astype(float), self.value)


def parse(text: str | None, model: Model) -> Condition:
    """The condition ``--where`` gives (``None``: the model's state outcome), checked against
    the model's outcomes; an AnalysisError in one line names what is wrong and what is
    allowed."""
    if text is None:
        if model.state is None:
            raise AnalysisError(
                f"--where: model {model.name} has no state outcome to default to; give "
                f"{FORMS}, e.g. '{model.outcomes[0].name} > 0'."
            )
        return Condition(model.state)
    match = _FORM.fullmatch(text)
    if match is None or (match["negate"] and match["op"]):
        raise AnalysisError(f"--where {text!r} does not parse: give {FORMS}.")
    outcomes = {o.name: o for o in model.outcomes}
    name = match["outcome"]
    if name not in outcomes:
        raise AnalysisError(
            f"--where {text!r}: {name!r} is not an outcome of model {model.name}; outcomes "
            f"are {', '.join(outcomes)}."
        )
    if match["op"] is None and outcomes[name].dtype is not bool:
        raise AnalysisError(
            f"--where {text!r}: {name} is a number, not true/false: compare it, e.g. "
            f"'{name} > 0.5'."
        )
    value = float(match["value"]) if match["value"] else None
    return Condition(name, match["op"], value, bool(match["negate"]))
