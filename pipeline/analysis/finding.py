"""What a finished sweep found along its first axis: a table and a one-paragraph summary, in the
model's own terms (its state outcome, e.g. nk's integrated national market, and its headline
outcomes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmark.models.interface import Model
from segmark.pipeline.analysis.labels import outcome_label, probability_label
from segmark.pipeline.analysis.stats import crossing_cells, first_crossing, wilson_interval
from segmark.pipeline.store import STATUS_OK

SHOWN = 8  # parameters a sampled design's finding names, the strongest correlations first


def finding_columns(model: Model, paths: list[str]) -> list[str]:
    """The summary columns the finding and its figure read."""
    outcomes = [model.state, model.order, *model.headline]
    columns = ["point", "status", *(o for o in outcomes if o), *_headline_floats(model)]
    columns += [model.parameter(p).column for p in paths]
    return list(dict.fromkeys(columns))


def _headline_floats(model: Model) -> tuple[str, ...]:
    """The outcomes a finding reports: the model's headline, or its first float outcome."""
    floats = tuple(o.name for o in model.outcomes if o.dtype is float)
    return model.headline or floats[:1]


def _ok_runs(summary: pd.DataFrame, model: Model) -> pd.DataFrame:
    """The runs with status ok; the state outcome as plain bool (it is nullable for failed
    runs)."""
    ok = summary[summary["status"] == STATUS_OK]
    return ok.assign(**{model.state: ok[model.state].astype(bool)}) if model.state else ok


def axis_table(summary: pd.DataFrame, model: Model, axis_path: str) -> pd.DataFrame:
    """Per value of the axis (other axes pooled): runs, P(state) with its 95% interval (for a
    model with a state outcome), and the mean and sd of the headline outcomes and the order
    outcome."""
    column = model.parameter(axis_path).column
    ok = _ok_runs(summary, model)
    grouped = ok.groupby(column, sort=True)
    table = pd.DataFrame({"runs": grouped.size()})
    if model.state:
        table["p_state"] = grouped[model.state].mean()
        low, high = wilson_interval(grouped[model.state].sum().to_numpy(), table["runs"])
        table["p_low"], table["p_high"] = low, high
    for name in dict.fromkeys([*_headline_floats(model), *([model.order] if model.order else [])]):
        table[f"{name}_mean"] = grouped[name].mean()
        table[f"{name}_sd"] = grouped[name].std(ddof=1)
    table.index.name = column
    return table.reset_index()


def describe(summary: pd.DataFrame, model: Model, axes: dict[str, list]) -> str:
    """One paragraph on how the sweep's outcomes change along its first axis."""
    n_runs = len(summary)
    ok = _ok_runs(summary, model)
    n_failed = n_runs - len(ok)
    failed = f" {n_failed} of {n_runs} runs failed and are left out." if n_failed else ""
    if ok.empty:
        return f"All {n_runs} runs failed; see the status and message columns of the summary."
    headline = _headline_floats(model)
    if not axes:
        text = f"{n_runs} runs at one parameter point"
        if model.state:
            text += f": {probability_label(model, model.state)} {ok[model.state].mean():.0%}"
        means = ", ".join(
            f"mean {outcome_label(model, name)} {ok[name].mean():.3g}" for name in headline
        )
        return f"{text}; {means}.{failed}"
    path = next(iter(axes))
    table = axis_table(summary, model, path)
    column = model.parameter(path).column
    first, last = table.iloc[0], table.iloc[-1]
    others = f" (pooled over {', '.join(list(axes)[1:])})" if len(axes) > 1 else ""
    numeric = pd.api.types.is_numeric_dtype(table[column])
    span = (
        f"from {first[column]:g} to {last[column]:g}"
        if numeric
        else f"({', '.join(map(str, table[column]))})"
    )
    text = (
        f"Across {len(table)} values of {path} {span}{others}, with "
        f"{int(table['runs'].median())} replicates each"
    )
    if model.state:
        text += (
            f", {probability_label(model, model.state)} goes from {first.p_state:.0%} to "
            f"{last.p_state:.0%}"
        )
        if numeric:
            text += _crossing_text(table, column, path)
    moves = [
        f"mean {outcome_label(model, name)} moves from {first[f'{name}_mean']:.3g} to "
        f"{last[f'{name}_mean']:.3g}"
        for name in headline
    ]
    return f"{text}. {_sentence(_listed(moves))}.{failed}" if moves else f"{text}.{failed}"


def _crossing_text(table: pd.DataFrame, column: str, path: str) -> str:
    x = table[column].to_numpy(dtype=float)
    p = table["p_state"].to_numpy(dtype=float)
    if len(x) < 2:
        return ""
    j = int(crossing_cells(p)[0])
    if j < 0:
        return "; it never crosses 50% on this range"
    cross = float(first_crossing(x, p)[0])
    return f"; it crosses 50% near {path} = {cross:.3g} (between {x[j]:g} and {x[j + 1]:g})"


def _listed(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if not items:
        return ""
    return " and ".join(filter(None, (", ".join(items[:-1]), items[-1])))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def describe_sampled(summary: pd.DataFrame, model: Model, paths: tuple[str, ...]) -> str:
    """One paragraph for a sampled or listed design: how often runs end in the model's state,
    and which parameters move its order outcome most (Spearman rank correlation)."""
    ok = _ok_runs(summary, model)
    n_failed = len(summary) - len(ok)
    if ok.empty:
        return f"All {len(summary)} runs failed; see the status and message columns of the summary."
    text = f"{len(ok)} runs over {ok['point'].nunique()} design points"
    if model.state:
        text += f": {probability_label(model, model.state)} {ok[model.state].mean():.0%}"
    target = model.order or _headline_floats(model)[0]
    correlations = {}
    for path in paths:
        values = ok[model.parameter(path).column]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > 1:
            rho = values.corr(ok[target], method="spearman")
            if np.isfinite(rho):
                correlations[path] = rho
    if correlations:
        ranked = sorted(correlations.items(), key=lambda item: -abs(item[1]))
        text += f"; rank correlation with {outcome_label(model, target)}: " + ", ".join(
            f"{path} {rho:+.2f}" for path, rho in ranked[:SHOWN]
        )
        if len(ranked) > SHOWN:
            text += f" ({len(ranked) - SHOWN} more, each {abs(ranked[SHOWN][1]):.2f} or less)"
    failed = f" {n_failed} of {len(summary)} runs failed and are left out." if n_failed else ""
    return text + "." + failed
