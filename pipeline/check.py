"""``segmark-check``: does a fresh sweep behave like the committed baseline? (docs/CHECKS.md)

A *baseline* is a JSON summary of a finished sweep: for every point of its grid (the values of
the parameters it sweeps) the per-run values of every outcome, plus its fixed parameters, model
version and root seed. :func:`summarize` writes it; :func:`compare` tests a fresh dataset against
it, point by point and outcome by outcome:

- continuous outcomes: two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``, exact for
  small samples; conservative with ties), which sees any change of distribution: location,
  spread or shape;
- 0/1 outcomes (``integrated``) and the share of failed runs: Fisher's exact test on the 2x2
  table.

All p-values form one family; Holm's step-down procedure keeps the probability that an
unchanged model fails the check (a false alarm from seed noise) at most ``alpha`` (0.01 by
default), whatever the dependence between outcomes and points. Tests whose pooled values are
all equal (no relabelling of runs could reject) are left out of the family. The fresh sweep
should use a different root seed than the baseline, so that its runs are new draws.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from segmark.models.interface import Model
from segmark.pipeline.analysis.data import AnalysisError, model_of
from segmark.pipeline.store import MANIFEST_FILE, STATUS_OK, read_manifest, read_summary

FORMAT = "segmark-check-baseline/1"
ALPHA = 0.01
# the committed baseline, found from the checkout this package runs from, not the current folder
DEFAULT_BASELINE = Path(__file__).resolve().parents[1] / "tests" / "baselines" / "check.json"
MIN_REPLICATES = 10  # per point: below this no single test survives a Holm correction
FAILED = "failed"  # the share of failed runs, tested like a 0/1 outcome


class CheckError(ValueError):
    """The dataset or baseline cannot be compared (not a complete dataset, another sweep)."""


def _key(value: Any) -> Any:
    """A parameter value as a point coordinate that survives JSON (floats rounded)."""
    if isinstance(value, float | np.floating):
        return round(float(value), 12)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _load(directory: Path) -> tuple[pd.DataFrame, dict[str, Any], Model]:
    directory = Path(directory)
    if not (directory / MANIFEST_FILE).is_file():
        raise CheckError(f"{directory} is not a segmark dataset (no {MANIFEST_FILE})")
    manifest = read_manifest(directory)  # a damaged one: UnreadableDataset, naming it
    if manifest.get("status") != "complete":
        raise CheckError(
            f"{directory}: the sweep is {manifest.get('status')!r}, not complete: finish it "
            "(rerun the same command with its storage.dataset) before checking it"
        )
    summary = read_summary(directory).to_pandas()
    if summary.empty:
        raise CheckError(f"{directory}: the dataset holds no runs")
    try:
        model = model_of(directory, manifest)
    except AnalysisError as error:
        raise CheckError(str(error)) from None
    return summary, manifest, model


def _swept(summary: pd.DataFrame, model: Model) -> list[str]:
    return [p.path for p in model.columns() if summary[p.column].nunique() > 1]


def _flag(model: Model, outcome: str) -> bool:
    return any(o.name == outcome and o.dtype is bool for o in model.outcomes)


def _values(runs: pd.DataFrame, outcome: str, flag: bool) -> list[Any]:
    """The outcome over a point's ok runs, sorted (order carries no information)."""
    ok = runs[runs["status"] == STATUS_OK][outcome].dropna()
    if flag:
        return sorted(int(bool(v)) for v in ok)
    return sorted(float(v) for v in ok)


def summarize(directory: Path) -> dict[str, Any]:
    """The baseline summary of a complete dataset: per grid point, every outcome's run values."""
    summary, manifest, model = _load(directory)
    provenance = manifest.get("provenance", {})
    return {
        "format": FORMAT,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": Path(directory).name,
        "model_version": manifest.get("model_version", provenance.get("model_version")),
        "root_seed": provenance.get("root_seed"),
        "git": provenance.get("git"),
        **summarize_runs(summary, model),
    }


def summarize_runs(summary: pd.DataFrame, model: Model) -> dict[str, Any]:
    """The run count, swept axes, fixed parameters and per-point outcome values of a summary
    table of ``model``'s runs."""
    axes = _swept(summary, model)
    columns = [model.parameter(path).column for path in axes]
    first = summary.iloc[0]
    fixed = {p.path: _key(first[p.column]) for p in model.columns() if p.path not in axes}
    points = []
    groups = summary.groupby(columns, sort=True) if columns else [((), summary)]
    for at, runs in groups:
        at = at if isinstance(at, tuple) else (at,)
        points.append(
            {
                "at": {path: _key(v) for path, v in zip(axes, at, strict=True)},
                "runs": len(runs),
                FAILED: int((runs["status"] != STATUS_OK).sum()),
                "values": {o.name: _values(runs, o.name, o.dtype is bool) for o in model.outcomes},
            }
        )
    return {
        "runs": len(summary),
        "axes": axes,
        "fixed": fixed,
        "outcomes": [o.name for o in model.outcomes],
        "points": points,
    }


def write_baseline(directory: Path, path: Path) -> dict[str, Any]:
    """Summarize ``directory`` into ``path`` (refused if a point has too few replicates to
    test)."""
    baseline = summarize(directory)
    thin = [p for p in baseline["points"] if p["runs"] < MIN_REPLICATES]
    if thin:
        raise CheckError(
            f"{directory}: {len(thin)} point(s) hold fewer than {MIN_REPLICATES} runs (e.g. "
            f"{_where(thin[0]['at'])}: {thin[0]['runs']}); a baseline needs at least "
            f"{MIN_REPLICATES} replicates per point for its tests to have any power"
        )
    write_json(Path(path), baseline)
    return baseline


def write_json(path: Path, data: dict[str, Any]) -> None:
    """``data`` as JSON at ``path``, written whole (a hidden name, then renamed): a failed write
    (a full disk, a read-only folder) leaves neither a half-written file nor its temporary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_baseline(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"no baseline at {path}: write one with --write-baseline (docs/CHECKS.md)")
    try:
        baseline = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, nested too deep
        cause = error.msg if isinstance(error, json.JSONDecodeError) else type(error).__name__
        raise CheckError(f"{path}: not a {FORMAT} file (not JSON: {cause})") from None
    if not isinstance(baseline, dict) or baseline.get("format") != FORMAT:
        raise CheckError(f"{path}: not a {FORMAT} file")
    return baseline


@dataclass
class Test:
    at: dict[str, Any]
    outcome: str
    test: str  # "ks" or "fisher"
    statistic: float
    p: float
    baseline_n: int
    fresh_n: int
    baseline_mean: float
    fresh_mean: float
    p_holm: float = math.nan
    rejected: bool = False


@dataclass
class CheckResult:
    alpha: float
    tests: list[Test]
    uninformative: int  # tests left out: pooled values all equal
    problems: list[str] = field(default_factory=list)  # fail the check without a test
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> list[Test]:
        return [t for t in self.tests if t.rejected]

    @property
    def passed(self) -> bool:
        return not self.rejected and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "alpha": self.alpha,
            "correction": "holm",
            "tests": [asdict(t) for t in self.tests],
            "uninformative": self.uninformative,
            "problems": self.problems,
            "notes": self.notes,
        }


def _one_test(
    at: dict[str, Any], outcome: str, base: Sequence[float], fresh: Sequence[float], flag: bool
) -> Test | None:
    """KS for continuous values, Fisher's exact test for 0/1 values; None when untestable."""
    if not base or not fresh or len(set(base) | set(fresh)) < 2:
        return None
    if flag:
        table = [[sum(base), len(base) - sum(base)], [sum(fresh), len(fresh) - sum(fresh)]]
        statistic, p = stats.fisher_exact(table)
        kind = "fisher"
    else:
        result = stats.ks_2samp(base, fresh)
        statistic, p, kind = result.statistic, result.pvalue, "ks"
    return Test(
        at=at,
        outcome=outcome,
        test=kind,
        statistic=float(statistic),
        p=float(p),
        baseline_n=len(base),
        fresh_n=len(fresh),
        baseline_mean=float(np.mean(base)),
        fresh_mean=float(np.mean(fresh)),
    )


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values: reject where adjusted p <= alpha (family-wise rate alpha)."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def _where(at: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in at.items()) or "the single point"


def compare(baseline: dict[str, Any], directory: Path, alpha: float = ALPHA) -> CheckResult:
    """Test the outcome distributions of the dataset at ``directory`` against ``baseline``."""
    if not 0 < alpha < 1:
        raise CheckError(f"alpha = {alpha}: a false-alarm rate is in (0, 1)")
    summary, manifest, model = _load(directory)
    seed = manifest.get("provenance", {}).get("root_seed")
    version = manifest.get("model_version")
    return compare_runs(baseline, summary, model, alpha, seed, version, directory)


def compare_runs(
    baseline: dict[str, Any],
    summary: pd.DataFrame,
    model: Model,
    alpha: float = ALPHA,
    root_seed: int | None = None,
    model_version: str | None = None,
    directory: Path | str = "the dataset",
) -> CheckResult:
    """:func:`compare` on a summary table (its runs' root seed and model version given)."""
    if not 0 < alpha < 1:
        raise CheckError(f"alpha = {alpha}: a false-alarm rate is in (0, 1)")
    axes: list[str] = baseline["axes"]
    notes: list[str] = []
    problems: list[str] = []
    extra = [path for path in _swept(summary, model) if path not in axes]
    if extra:
        raise CheckError(
            f"{directory} sweeps {', '.join(extra)}, which the baseline does not (it sweeps "
            f"{', '.join(axes) or 'nothing'}): run the sweep the baseline was made from"
        )
    if root_seed is not None and root_seed == baseline.get("root_seed"):
        notes.append(
            f"the dataset has the baseline's root seed ({root_seed}): its runs repeat the "
            "baseline's draws, so seed noise is not exercised; use another sweep.root_seed"
        )
    if model_version is not None and model_version != baseline.get("model_version"):
        notes.append(
            f"model version {baseline.get('model_version')} in the baseline, {model_version} now"
        )
    first = summary.iloc[0]
    columns = {p.path: p.column for p in model.parameters}
    changed = [
        f"{path} {value} -> {_key(first[columns[path]])}"
        for path, value in baseline["fixed"].items()
        if path in columns and _key(first[columns[path]]) != value
    ]
    if changed:
        notes.append("fixed parameters differ from the baseline's: " + "; ".join(changed))

    columns = [model.parameter(path).column for path in axes]
    keyed = summary.assign(
        _point=[tuple(_key(v) for v in row) for row in summary[columns].itertuples(index=False)]
        if columns
        else [()] * len(summary)
    )
    by_point = dict(tuple(keyed.groupby("_point", sort=False)))
    gone = [name for name in baseline["outcomes"] if name not in summary.columns]
    if gone:
        problems.append(f"outcomes in the baseline but not in the dataset: {', '.join(gone)}")
    outcomes = [name for name in baseline["outcomes"] if name not in gone]
    tests: list[Test] = []
    uninformative = 0
    for point in baseline["points"]:
        at = point["at"]
        runs = by_point.get(tuple(at[path] for path in axes))
        if runs is None:
            problems.append(f"no runs at {_where(at)}, where the baseline has {point['runs']}")
            continue
        failed = int((runs["status"] != STATUS_OK).sum())
        pairs = [(FAILED, _flags(point["runs"], point[FAILED]), _flags(len(runs), failed))]
        pairs += [
            (name, point["values"][name], _values(runs, name, _flag(model, name)))
            for name in outcomes
        ]
        for name, base, fresh in pairs:
            test = _one_test(at, name, base, fresh, name == FAILED or _flag(model, name))
            if test is None:
                uninformative += 1
            else:
                tests.append(test)
    if tests:
        for test, adjusted in zip(tests, holm([t.p for t in tests]), strict=True):
            test.p_holm = float(adjusted)
            test.rejected = bool(adjusted <= alpha)
    return CheckResult(alpha, tests, uninformative, problems, notes)


def _flags(n: int, ones: int) -> list[int]:
    return [1] * ones + [0] * (n - ones)


def report(result: CheckResult, show: int = 8) -> str:
    """The check's verdict, with the rejected (or the closest) tests."""
    kinds = sorted({t.test for t in result.tests})
    named = {"ks": "Kolmogorov-Smirnov", "fisher": "Fisher's exact"}
    lines = [
        f"{len(result.tests)} tests ({', '.join(named[k] for k in kinds) or 'none'}; "
        f"{result.uninformative} left out: all values equal), family-wise false-alarm rate "
        f"{result.alpha:g} (Holm)"
    ]
    lines += [f"note: {note}" for note in result.notes]
    lines += [f"problem: {problem}" for problem in result.problems]
    rejected = result.rejected
    listed = rejected or sorted(result.tests, key=lambda t: t.p)[:3]
    for test in sorted(listed, key=lambda t: t.p)[:show]:
        lines.append(
            f"  {_where(test.at)}  {test.outcome}: mean {test.baseline_mean:.4g} "
            f"(n={test.baseline_n}) -> {test.fresh_mean:.4g} (n={test.fresh_n}), "
            f"{test.test} {test.statistic:.3g}, "
            f"p={test.p:.2g}, Holm p={test.p_holm:.2g}"
        )
    if len(rejected) > show:
        lines.append(f"  ... and {len(rejected) - show} more")
    if result.passed:
        lines.append("PASS: the outcome distributions agree with the baseline")
    else:
        what = [f"{len(rejected)} of {len(result.tests)} tests reject"] if rejected else []
        what += [f"{len(result.problems)} problem(s)"] if result.problems else []
        lines.append(f"FAIL: {', '.join(what)}: the model behaves differently from the baseline")
    return "\n".join(lines)
