"""A tipping threshold and its uncertainty: the result of ``analysis.tipping``, as the report,
the figures and refinement read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmark.pipeline.analysis.markdown import fmt


@dataclass
class Threshold:
    """The tipping threshold of P(state) along ``axis`` within one slice."""

    axis: str
    where: dict[str, Any]  # values of the other parameters fixed in this slice ({}: pooled)
    pooled: list[str]  # other swept parameters pooled over
    curve: pd.DataFrame  # per axis value: runs, <state> count, p_<state>, p_low, p_high, ...
    direction: str  # "falling" or "rising": how P(state) moves as the axis grows
    crossing: float  # logistic midpoint: the threshold
    crossing_ci: tuple[float, float]
    width: float  # 10-90% distance of the fitted logistic
    width_ci: tuple[float, float]
    interpolated: float  # first 0.5 crossing of the empirical curve
    interpolated_ci: tuple[float, float]
    susceptibility_peak: float  # axis value where the order parameter varies most
    susceptibility_peak_ci: tuple[float, float]
    fit_p_value: float  # Pearson chi-square goodness of fit of the logistic
    boot_crossing_share: float  # share of bootstrap curves that cross 0.5
    n_runs: int
    n_failed: int
    n_boot: int
    level: float
    resampling: str
    order: str
    state: str  # the bool outcome whose probability crosses 0.5
    notes: list[str] = field(default_factory=list)
    boot_crossings: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    labels: dict[str, str] = field(default_factory=dict, repr=False)  # axis and outcome labels

    @property
    def p(self) -> str:
        """The curve's probability column, ``p_<state>``."""
        return f"p_{self.state}"

    def label(self, name: str) -> str:
        """The axis label of the axis, the state or the order parameter."""
        return self.labels.get(name, name)

    @property
    def found(self) -> bool:
        return bool(np.isfinite(self.crossing))

    @property
    def ci_width(self) -> float:
        return float(self.crossing_ci[1] - self.crossing_ci[0])

    def describe(self) -> str:
        """One sentence with the threshold, its interval and the width."""
        where = where_text(self.where)
        pct = f"{self.level:.0%}"
        if not self.found:
            return f"Along {self.axis}{where}: no threshold in the swept range. " + (
                self.notes[0] if self.notes else ""
            )
        return (
            f"Along {self.axis}{where}, P({self.state}) is {self.direction} and crosses 0.5 at "
            f"{fmt(self.crossing)} ({pct} CI {fmt(self.crossing_ci[0])}-"
            f"{fmt(self.crossing_ci[1])}; interpolated crossing {fmt(self.interpolated)}); the "
            f"transition (10-90%) is {fmt(self.width)} wide ({pct} CI {fmt(self.width_ci[0])}-"
            f"{fmt(self.width_ci[1])}); susceptibility peaks at {fmt(self.susceptibility_peak)}."
        )

    def numbers(self) -> dict[str, Any]:
        """:meth:`as_dict` with the notes and the bootstrap's settings (report.json)."""
        return {**self.as_dict(), "notes": self.notes, "n_boot": self.n_boot, "level": self.level}

    def as_dict(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            **{f"at {k}": v for k, v in self.where.items()},
            "threshold": self.crossing,
            "ci_low": self.crossing_ci[0],
            "ci_high": self.crossing_ci[1],
            "width": self.width,
            "width_low": self.width_ci[0],
            "width_high": self.width_ci[1],
            "interpolated": self.interpolated,
            "interp_low": self.interpolated_ci[0],
            "interp_high": self.interpolated_ci[1],
            "susceptibility_peak": self.susceptibility_peak,
            "peak_low": self.susceptibility_peak_ci[0],
            "peak_high": self.susceptibility_peak_ci[1],
            "direction": self.direction,
            "fit_p_value": self.fit_p_value,
            "runs": self.n_runs,
            "failed": self.n_failed,
        }


def where_text(where: dict[str, Any]) -> str:
    if not where:
        return ""
    return " at " + ", ".join(
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in where.items()
    )


def conditional_table(rows: list[Threshold]) -> pd.DataFrame:
    """One row per slice's threshold, as the report tabulates them."""
    out = []
    for r in rows:
        out.append(
            {
                **r.where,
                "runs": r.n_runs,
                "failed": r.n_failed,
                "threshold": r.crossing,
                "95% CI": f"{fmt(r.crossing_ci[0])}-{fmt(r.crossing_ci[1])}",
                "width": r.width,
                "interpolated": r.interpolated,
            }
        )
    return pd.DataFrame(out)
