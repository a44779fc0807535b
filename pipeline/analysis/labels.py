"""Axis labels with units: parameters as users write them in configs, outcomes with their units."""

from __future__ import annotations

from segmark.pipeline.config import parameter_fields

OUTCOME_LABELS = {
    "integrated": "P(integrated national market)",
    "integration_index": "integration index (population share of largest price-linked market)",
    "price_dispersion": "price dispersion (sd of log prices across units)",
    "price_cv": "price CV across units (-)",
    "trade_share": "interregional trade share of market value (-)",
    "band_compliance": "share of links within their cost band (-)",
    "shortage": "unmet demand (population-weighted share)",
    "remote_premium": "remote-unit price premium (log points)",
    "trio_dispersion": "Pyongyang-Sinuiju-Hyesan rice price sd (log points)",
    "gini": "Gini of consumption per head (-)",
    "market_income_share": "market share of household income (-)",
    "marginal_trade_share": "share of units with marginal trade (-)",
    "crossing_trade_share": "share of trade on permit links (-)",
    "hub_integration": "share of major hubs in one trade component (-)",
    "time_to_integration": "week of first integration (weeks; -1 never)",
    "lcc_share": "largest price-linked market (population share)",
    "price_level": "mean log price (log points)",
    "spatial_correlation": "Moran's I of weekly price changes (-)",
}


def parameter_label(path: str) -> str:
    """``policy.permit_strictness (-)``: the config path with its unit."""
    group, _, name = path.partition(".")
    try:
        unit = parameter_fields(group)[name].metadata.get("unit")
    except KeyError:
        return path
    if not unit:
        return path
    return f"{path} ({'dimensionless' if unit == '-' else unit})"


def outcome_label(name: str) -> str:
    return OUTCOME_LABELS.get(name, name)
