"""``segmark-report <dataset>``: a Markdown report with PNG figures, written into
``<dataset>/report/`` (report.md, report.json with every number, figures), with sections chosen
by what the sweep holds:

  * the dataset: design, swept parameters, runs stored, failed (by message) and missing;
  * tipping thresholds along every numeric swept parameter of a grid (pooled, and one per
    slice of the other swept parameters);
  * phase diagrams for every pair of numeric grid parameters (P(integrated) and the
    integration index, with the estimated boundary);
  * Sobol' indices (saltelli designs) or Morris effects (morris designs), or, for other
    sampled designs, rank correlations;
  * historical scenarios (model.scenario swept): outcomes per scenario and their time paths;
  * hysteresis and early warnings, for ramp runs (model.ramp_parameter set).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmark.pipeline.analysis import figures
from segmark.pipeline.analysis.data import AnalysisError, Dataset, is_numeric, load
from segmark.pipeline.analysis.labels import outcome_label
from segmark.pipeline.analysis.phase import phase_diagram
from segmark.pipeline.analysis.sensitivity import morris_effects, sobol_indices
from segmark.pipeline.analysis.tipping import (
    Threshold,
    fmt,
    tipping_threshold,
    tipping_thresholds,
)

REPORT_DIR = "report"
SENSITIVITY_OUTCOMES = ("integration_index", "integrated")
MAX_PHASE_PAIRS = 6
SAMPLED = ("random", "lhs", "sobol", "saltelli", "morris")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def _table(frame: pd.DataFrame, digits: int = 4) -> str:
    """A DataFrame as a Markdown table, numbers with ``digits`` significant digits."""

    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return fmt(float(v), digits)
        return str(v)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Report:
    def __init__(self, ds: Dataset, out: Path, n_boot: int, seed: int):
        self.ds, self.out, self.n_boot, self.seed = ds, out, n_boot, seed
        self.lines: list[str] = []
        self.numbers: dict[str, Any] = {}
        self.figures: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def figure(self, fig_function, result, name: str, caption: str) -> None:
        path = self.out / f"{name}.png"
        fig_function(result, path)
        self.figures.append(path.name)
        self.add(f"![{caption}]({path.name})", "")

    # sections -----------------------------------------------------------------------------
    def header(self) -> None:
        ds = self.ds
        self.add(f"# Report: {ds.name}", "")
        description = ds.sweep.get("description") or ""
        self.add(
            f"Dataset `{ds.path}`: sweep `{ds.sweep.get('name', '?')}` ({ds.design} design"
            + (f"; {description}" if description else "")
            + ").",
            "",
            f"Swept parameters: {', '.join(f'`{p}`' for p in ds.swept) or 'none'}.",
            "",
            ds.status_line(),
            "",
        )
        self.numbers["dataset"] = {
            "path": str(ds.path),
            "design": ds.design,
            "swept": ds.swept,
            "runs_stored": ds.n_stored,
            "runs_failed": ds.n_failed,
            "runs_missing": ds.n_missing,
            "status": ds.status,
        }
        if ds.n_failed:
            self.add(
                f"**{ds.n_failed} failed runs are left out of every analysis below** (status "
                "`failed` in the summary); by message:",
                "",
                _table(ds.failure_table()),
                "",
            )
        if ds.status != "complete" or ds.n_missing:
            self.add(
                f"**The dataset is not complete** (status {ds.status}, {ds.n_missing} planned runs "
                "not stored): estimates use the runs stored so far.",
                "",
            )

    def numeric_grid_axes(self) -> list[str]:
        ds = self.ds
        return [
            p
            for p in ds.swept
            if is_numeric(ds.summary, p)
            and not p.startswith("model.ramp_")
            and ds.summary[_col(p)].nunique() >= 3
        ]

    def tipping(self) -> None:
        axes = self.numeric_grid_axes()
        if not axes or self.ds.design in SAMPLED:
            return
        self.add("## Tipping thresholds", "")
        self.add(
            "P(integrated) is the share of ok runs ending in an integrated national market "
            "(95% Wilson intervals). The threshold is the midpoint of a logistic curve fitted "
            "with Firth's penalised likelihood, with a 95% percentile bootstrap interval; the "
            "width is its 10-90% distance; the interpolated crossing is where the empirical "
            "curve first reaches 0.5; susceptibility is the variance of the integration index "
            "across replicates (docs/ANALYSIS.md).",
            "",
        )
        self.numbers["thresholds"] = []
        for axis in axes:
            try:
                pooled = tipping_threshold(self.ds, axis, n_boot=self.n_boot, seed=self.seed)
            except AnalysisError as error:
                self.add(f"### {axis}", "", str(error), "")
                continue
            self.add(f"### {axis}", "", f"**{pooled.describe()}**", "")
            self.add(f"Bootstrap: {pooled.n_boot} resamples of {pooled.resampling}.", "")
            for note in pooled.notes:
                self.add(f"- {note}")
            if pooled.notes:
                self.add("")
            self.figure(
                figures.tipping_figure,
                pooled,
                f"tipping_{_slug(axis)}",
                f"P(integrated) along {axis}",
            )
            self.numbers["thresholds"].append(_threshold_numbers(pooled))
            others = [p for p in self.ds.swept if p != axis and not p.startswith("model.ramp_")]
            if others:
                try:
                    rows = tipping_thresholds(
                        self.ds, axis, by=others, n_boot=self.n_boot, seed=self.seed
                    )
                except AnalysisError:
                    rows = []
                if rows:
                    self.add(
                        f"Conditional on {', '.join(others)} (one threshold per slice):",
                        "",
                        _table(_conditional_table(rows)),
                        "",
                    )
                    self.numbers["thresholds"].extend(_threshold_numbers(r) for r in rows)

    def phase(self) -> None:
        axes = [p for p in self.ds.swept if is_numeric(self.ds.summary, p)]
        axes = [p for p in axes if not p.startswith("model.ramp_")]
        if len(axes) < 2 or self.ds.design in SAMPLED:
            return
        self.add("## Phase diagrams", "")
        self.numbers["phase"] = []
        for x, y in list(itertools.combinations(axes, 2))[:MAX_PHASE_PAIRS]:
            if self.ds.summary[_col(x)].nunique() < self.ds.summary[_col(y)].nunique():
                x, y = y, x
            for outcome in ("integrated", "integration_index"):
                try:
                    diagram = phase_diagram(
                        self.ds,
                        x,
                        y,
                        outcome,
                        boundary=outcome == "integrated",
                        n_boot=self.n_boot,
                        seed=self.seed,
                    )
                except AnalysisError as error:
                    self.add(f"{x} x {y}: {error}", "")
                    break
                name = f"phase_{_slug(x)}__{_slug(y)}__{outcome}"
                self.add(f"### {outcome_label(outcome)} over {x} and {y}", "")
                self.figure(figures.phase_figure, diagram, name, f"{outcome} over {x} and {y}")
                if outcome == "integrated" and diagram.boundary:
                    table = diagram.boundary_table()
                    self.add("Estimated boundary (threshold along x per y, 95% CI):", "")
                    self.add(_table(table), "")
                    self.numbers["phase"].append(
                        {"x": x, "y": y, "boundary": table.to_dict("records")}
                    )

    def sensitivity(self) -> None:
        design = self.ds.design
        if design not in ("saltelli", "morris"):
            return
        method = {"saltelli": sobol_indices, "morris": morris_effects}[design]
        title = {"saltelli": "Sobol' indices", "morris": "Morris elementary effects"}[design]
        self.add(f"## Sensitivity: {title}", "")
        self.numbers["sensitivity"] = []
        for outcome in SENSITIVITY_OUTCOMES:
            try:
                result = method(self.ds, outcome, seed=self.seed)
            except AnalysisError as error:
                self.add(f"**Not analysed:** {error}", "")
                return
            label = "P(integrated)" if outcome == "integrated" else outcome
            self.add(f"### {label}", "")
            self.add(_table(result.table), "")
            if np.isfinite(result.noise_share):
                self.add(
                    f"Replicate noise is {result.noise_share:.1%} of the variance of {outcome} "
                    f"across runs ({result.replicates} replicates per point, averaged).",
                    "",
                )
            for note in result.notes:
                self.add(f"- {note}")
            self.figure(
                figures.sensitivity_figure,
                result,
                f"{result.method}_{outcome}",
                f"{title} of {outcome}",
            )
            self.numbers["sensitivity"].append(
                {
                    "method": result.method,
                    "outcome": outcome,
                    "table": result.table.to_dict("records"),
                    "noise_share": result.noise_share,
                }
            )

    def sampled(self) -> None:
        if self.ds.design not in ("random", "lhs", "sobol"):
            return
        from segmark.pipeline.finding import describe_sampled

        self.add("## Sampled design", "", describe_sampled(self.ds.summary, tuple(self.ds.swept)))
        self.add("")

    def scenarios(self) -> None:
        from segmark.pipeline.analysis.scenarios import scenario_figure, scenario_table

        if "model.scenario" not in self.ds.swept:
            return
        table = scenario_table(self.ds)
        self.add("## Historical scenarios", "", _table(table), "")
        self.figure(scenario_figure, self.ds, "scenarios", "scenario time paths")
        self.numbers["scenarios"] = table.to_dict("records")

    def hysteresis(self) -> None:
        try:
            from segmark.pipeline.analysis import hysteresis
        except ImportError:
            return
        hysteresis.report_section(self)

    def write(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        self.header()
        for section in (
            self.tipping,
            self.phase,
            self.sensitivity,
            self.sampled,
            self.scenarios,
            self.hysteresis,
        ):
            section()
        self.numbers["figures"] = self.figures
        text = "\n".join(self.lines).rstrip() + "\n"
        (self.out / "report.md").write_text(text)
        (self.out / "report.json").write_text(json.dumps(_json_safe(self.numbers), indent=1) + "\n")
        return self.out / "report.md"


def _col(path: str) -> str:
    from segmark.pipeline.analysis.data import column

    return column(path)


def _threshold_numbers(t: Threshold) -> dict[str, Any]:
    return {**t.as_dict(), "notes": t.notes, "n_boot": t.n_boot, "level": t.level}


def _conditional_table(rows: list[Threshold]) -> pd.DataFrame:
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


def write_report(
    dataset: str | Path | Dataset,
    out: str | Path | None = None,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> Path:
    """Write ``report.md``, ``report.json`` and the figures; returns report.md's path."""
    ds = dataset if isinstance(dataset, Dataset) else load(dataset)
    out = Path(out) if out is not None else ds.path / REPORT_DIR
    return Report(ds, out, n_boot, seed).write()


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="segmark-report",
        description="Write a Markdown report with PNG figures for a segmark dataset "
        "(into <dataset>/report/ unless --out is given).",
    )
    parser.add_argument("dataset", help="dataset directory (the `results:` line of a sweep)")
    parser.add_argument("--out", help="directory for report.md and figures")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (0)")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.dataset, args.out, n_boot=args.n_boot, seed=args.seed)
    except AnalysisError as error:
        print(f"segmark-report: {error}", file=sys.stderr)
        sys.exit(2)
    print(path.read_text().split("\n## ")[0].strip().splitlines()[-1])
    for line in path.read_text().splitlines():
        if line.startswith("**Along"):
            print(line.strip("*"))
    print(f"report: {path}")
