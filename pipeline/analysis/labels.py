"""Axis labels with units, from the model's declarations: parameters as users write them in
configs, outcomes and series by their short labels."""

from __future__ import annotations

from segmark.models.interface import Model


def parameter_label(model: Model, path: str) -> str:
    """``policy.permit_strictness (dimensionless)``: the config path with its unit."""
    if path not in model.paths:
        return path
    unit = model.parameter(path).unit
    return f"{path} ({'dimensionless' if unit == '-' else unit})" if unit else path


def outcome_label(model: Model, name: str) -> str:
    """An outcome's or series' short label, with its unit unless dimensionless."""
    declared = {o.name: o for o in model.outcomes}
    declared.update({s.name: s for s in model.series if s.name not in declared})
    item = declared.get(name)
    if item is None:
        return name
    label = item.label or name
    return label if item.unit in ("-", "") else f"{label} ({item.unit})"


def probability_label(model: Model, state: str) -> str:
    """The probability of a bool outcome, by its label: ``P(integrated national market)``."""
    label = outcome_label(model, state)
    return label if label.startswith("P(") else f"P({label})"
