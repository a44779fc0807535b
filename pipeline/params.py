"""The one map between config parameters, run-table columns and the kernel's parameter vector.

Every model, policy and shock field becomes a flat snake_case column ``<group>_<name>``. The
kernel names its scalar parameters in ``market.PARAMS``; each must be a field of exactly one group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from segmark.kernels import market
from segmark.pipeline.config import GROUPS, Config, parameter_fields


@dataclass(frozen=True)
class Column:
    group: str
    name: str
    type: type

    @property
    def column(self) -> str:
        return f"{self.group}_{self.name}"

    @property
    def path(self) -> str:
        return f"{self.group}.{self.name}"


def _columns() -> tuple[Column, ...]:
    cols = []
    for group in GROUPS:
        for name, spec in parameter_fields(group).items():
            kind = (
                spec.type
                if isinstance(spec.type, type)
                else {"int": int, "float": float}.get(spec.type, str)
            )
            cols.append(Column(group, name, kind))
    return tuple(cols)


PARAMETER_COLUMNS: tuple[Column, ...] = _columns()
BY_PATH = {c.path: c for c in PARAMETER_COLUMNS}


def _kernel_columns() -> tuple[str, ...]:
    found = []
    for name in market.PARAMS:
        owners = [c for c in PARAMETER_COLUMNS if c.name == name]
        if len(owners) != 1:
            raise RuntimeError(
                f"kernel parameter {name!r} must be a field of exactly one of {GROUPS}, "
                f"found {len(owners)}"
            )
        found.append(owners[0].column)
    return tuple(found)


KERNEL_COLUMNS: tuple[str, ...] = _kernel_columns()


def base_point(cfg: Config) -> dict[str, Any]:
    """Column -> value for the config's own (unswept) parameter values."""
    return {c.column: getattr(getattr(cfg, c.group), c.name) for c in PARAMETER_COLUMNS}


def kernel_vector(row: dict[str, Any]) -> np.ndarray:
    """float64 (len(market.PARAMS),) from a run-table row."""
    return np.array([row[column] for column in KERNEL_COLUMNS], dtype=np.float64)
