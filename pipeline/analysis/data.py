"""Loading a sweep's dataset for analysis: every stored run, with failures counted, never mixed in.

:func:`load` reads ``summary/`` (and, on demand, ``timeseries/``) of a dataset directory
(docs/OUTPUT.md), its manifest and its resolved config. Analyses take the :class:`Dataset` (or a
summary DataFrame) and use only runs with ``status == "ok"``; the counts of failed runs and of
planned runs not stored travel with every result and into the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.dataset as pads

from segmark.models import registry
from segmark.models.interface import Model
from segmark.pipeline import config
from segmark.pipeline.store import (
    CONFIG_FILE,
    MANIFEST_FILE,
    PLAN_FILE,
    SERIES_DIR,
    STATUS_OK,
    SUMMARY_DIR,
    read_manifest,
    read_model,
    read_plan_ids,
    read_series,
    read_summary,
)
from segmark.pipeline.yamlfile import load_config, read_yaml


class AnalysisError(ValueError):
    """The data cannot answer the question asked (a missing axis, an incomplete design...);
    the message says why and what to do, in one paragraph."""


@dataclass
class Dataset:
    """A sweep's stored runs. ``summary`` holds every stored run (ok and failed); ``model`` is
    the model that made them, as the dataset describes it (its parameters, outcomes, units)."""

    path: Path
    summary: pd.DataFrame
    model: Model
    manifest: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    n_missing: int = 0  # runs of the latest invocation's plan (plan.parquet) not stored
    duplicates_dropped: int = 0

    @cached_property
    def ok(self) -> pd.DataFrame:
        """The runs that finished (bool outcomes as plain bool: nullable only for failed runs)."""
        ok = self.summary[self.summary["status"] == STATUS_OK]
        flags = [o.name for o in self.model.outcomes if o.dtype is bool and o.name in ok]
        return ok.astype(dict.fromkeys(flags, bool))

    @property
    def state(self) -> str:
        """The model's state outcome (``integrated`` for nk): what tipping analyses estimate
        the probability of; an AnalysisError for a model that declares none."""
        if self.model.state is None:
            raise AnalysisError(
                f"model {self.model.name} declares no state outcome (a bool outcome such as "
                "nk's integrated): tipping thresholds and phase boundaries need one."
            )
        return self.model.state

    def column(self, path: str) -> str:
        """The summary column of a parameter path, refused by name if the model has none."""
        return column(path, self.model)

    @cached_property
    def failed(self) -> pd.DataFrame:
        return self.summary[self.summary["status"] != STATUS_OK]

    @property
    def n_stored(self) -> int:
        return len(self.summary)

    @property
    def n_failed(self) -> int:
        return len(self.failed)

    @property
    def status(self) -> str:
        return str(self.manifest.get("status", "unknown"))

    @property
    def sweep(self) -> dict[str, Any]:
        return dict(self.config.get("sweep") or {})

    @property
    def design(self) -> str:
        return str(self.sweep.get("design", "unknown"))

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def swept(self) -> list[str]:
        """Parameter paths (``policy.permit_strictness``) that vary across the stored runs."""
        return swept_parameters(self.summary, self.model)

    @cached_property
    def common_random_numbers(self) -> bool:
        """True when a replicate number has one seed at every point (common random numbers)."""
        return common_random_numbers(self.summary)

    def series(self, run_ids: list[str] | None = None, columns: list[str] | None = None):
        """The sampled weekly series of ``run_ids`` (all runs by default) as a DataFrame."""
        if not (self.path / SERIES_DIR).exists():
            raise AnalysisError(f"{self.path} has no {SERIES_DIR}/ directory.")
        wanted = None if columns is None else ["run_id", "step", *columns]
        filt = None if run_ids is None else pads.field("run_id").isin(list(run_ids))
        frame = read_series(self.path, wanted, filt).to_pandas()
        return frame.drop_duplicates(["run_id", "step"]).sort_values(["run_id", "step"])

    def config_object(self) -> config.Config:
        """The dataset's resolved ``config.yaml`` as a typed Config (the latest invocation)."""
        if not (self.path / CONFIG_FILE).exists():
            raise AnalysisError(f"{self.path} has no {CONFIG_FILE}: its design cannot be rebuilt.")
        try:
            return load_config(self.path / CONFIG_FILE)
        except config.ConfigError as error:
            raise AnalysisError(str(error)) from None

    def status_line(self) -> str:
        """One sentence: how many runs are stored, failed and missing, and the dataset status."""
        text = (
            f"{self.n_stored} runs stored ({self.n_stored - self.n_failed} ok, "
            f"{self.n_failed} failed)"
        )
        if self.n_missing:
            text += f", {self.n_missing} planned runs not stored"
        text += f"; dataset status {self.status}"
        if self.duplicates_dropped:
            text += f"; {self.duplicates_dropped} second copies of runs ignored"
        return text + "."

    def failure_table(self) -> pd.DataFrame:
        """Failed runs grouped by message (first line), most frequent first."""
        if self.failed.empty:
            return pd.DataFrame({"message": [], "runs": []})
        messages = self.failed["message"].fillna("(no message)").str.split("\n").str[0]
        counts = messages.value_counts()
        return pd.DataFrame({"message": counts.index, "runs": counts.to_numpy()})


def swept_parameters(summary: pd.DataFrame, model: Model) -> list[str]:
    """The parameters (paths, in column order) that vary across the runs of ``summary``."""
    return [
        p.path
        for p in model.columns()
        if p.column in summary.columns and summary[p.column].nunique() > 1
    ]


def common_random_numbers(summary: pd.DataFrame) -> bool:
    if summary.empty:
        return True
    return bool((summary.groupby("replicate")["seed"].nunique() <= 1).all())


def load(path: str | Path) -> Dataset:
    """Read the dataset at ``path`` (the directory a sweep printed as ``results:``)."""
    path = Path(path).expanduser().resolve()
    if not (path / SUMMARY_DIR).is_dir():
        raise AnalysisError(
            f"{path} is not a segmark dataset (no {SUMMARY_DIR}/ directory); give the directory "
            "a sweep printed on its last line (results: ...)."
        )
    summary = read_summary(path).to_pandas()
    if summary.empty:
        raise AnalysisError(f"{path} holds no runs yet.")
    before = len(summary)
    summary = summary.drop_duplicates("run_id", keep="first").reset_index(drop=True)
    manifest = read_manifest(path) if (path / MANIFEST_FILE).exists() else {}
    stored_config: dict[str, Any] = {}
    if (path / CONFIG_FILE).exists():  # as plain data: nothing in it is resolved
        try:
            stored_config = read_yaml(path / CONFIG_FILE) or {}
        except config.ConfigError as error:
            raise AnalysisError(str(error)) from None
    n_missing = 0
    if (path / PLAN_FILE).exists():
        planned = read_plan_ids(path)
        n_missing = int((~np.isin(planned, summary["run_id"].to_numpy())).sum())
    model = model_of(path, manifest)
    return Dataset(path, summary, model, manifest, stored_config, n_missing, before - len(summary))


def model_of(path: Path, manifest: dict[str, Any]) -> Model:
    """The model a dataset describes in its manifest; for a dataset written before manifests
    did, the installed model of its model version (``name-version``)."""
    described = read_model(path)
    if described is not None:
        return described
    tag = str(manifest.get("model_version", ""))
    name = tag.rpartition("-")[0]
    try:
        return registry.get(name)
    except registry.UnknownModel:
        raise AnalysisError(
            f"{path}: the dataset does not describe its model ({tag or 'no model version'}) "
            "and no installed model has that name."
        ) from None


def as_dataset(data: Dataset | pd.DataFrame | str | Path, model: Model | None = None) -> Dataset:
    """A Dataset from a Dataset, a path, or a summary DataFrame (e.g. a filtered one) of
    ``model``'s runs (default: the default model)."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, pd.DataFrame):
        model = model or registry.get(config.DEFAULT_MODEL)
        return Dataset(Path("."), data.reset_index(drop=True), model)
    return load(data)


def column(path: str, model: Model) -> str:
    """The summary column of a parameter path (``policy.permit_strictness`` ->
    ``policy_permit_strictness``); raises AnalysisError for a path the model does not have."""
    if path not in model.paths:
        example = next(iter(model.paths), "policy.x")
        raise AnalysisError(
            f"{path!r} is not a parameter of model {model.name}; parameters are written as in "
            f"configs, e.g. {example}."
        )
    return model.parameter(path).column


def is_numeric(ds: Dataset, path: str) -> bool:
    return bool(pd.api.types.is_numeric_dtype(ds.summary[ds.column(path)]))


def slices(ds: Dataset, by: list[str]) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """(fixed values by path, runs) for each combination of the ``by`` parameters."""
    summary = ds.summary
    if not by:
        return [({}, summary)]
    columns = [ds.column(p) for p in by]
    out = []
    for values, runs in summary.groupby(columns, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        out.append(({p: _plain(v) for p, v in zip(by, values, strict=True)}, runs))
    return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
