"""``segmark-report <dataset>``: a Markdown report with PNG figures, written into
``<dataset>/report/`` (report.md; report.html, the same as one self-contained page with the
figures embedded; report.json with every number; the figures), with sections chosen
by what the sweep holds and what its model declares:

  * the dataset: model, design, swept parameters, runs stored, failed (by message), missing;
  * the outcomes along each numeric grid parameter (means and spread of the headline outcomes);
  * tipping thresholds of P(state) along every numeric swept parameter of a grid (pooled, and
    one per slice of the other swept parameters), for a model with a state outcome;
  * phase diagrams for every pair of numeric grid parameters (P(state) and the order outcome,
    with the estimated boundary);
  * Sobol' indices (saltelli designs) or Morris effects (morris designs), or, for other
    sampled designs, rank correlations;
  * scenario discovery (sampled designs, or any given ``where``): PRIM boxes, CART, feature
    scores and a map of the units inside and outside the first box;
  * places, for a model with per-unit outputs: maps of the units and a province table at the
    lowest and highest value of the first numeric grid parameter;
  * historical scenarios (model.scenario swept): outcomes per scenario and their time paths;
  * hysteresis and early warnings, for ramp runs (model.ramp_parameter set).
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from segmark.models import ramps
from segmark.pipeline.analysis import figures, hysteresis
from segmark.pipeline.analysis.data import AnalysisError, Dataset, is_numeric, load
from segmark.pipeline.analysis.discovery_report import Discovery, discovery_of
from segmark.pipeline.analysis.discovery_report import section as discovery_section
from segmark.pipeline.analysis.early_warnings import report_section as warnings_section
from segmark.pipeline.analysis.finding import axis_table, describe_sampled
from segmark.pipeline.analysis.html import render as render_html
from segmark.pipeline.analysis.labels import outcome_label, probability_label
from segmark.pipeline.analysis.markdown import (
    cannot_write,
    json_safe,
    slug,
    staged,
    table,
    writable_directory,
)
from segmark.pipeline.analysis.phase import phase_diagram
from segmark.pipeline.analysis.sensitivity import morris_effects, sobol_indices
from segmark.pipeline.analysis.threshold import conditional_table
from segmark.pipeline.analysis.tipping import tipping_threshold, tipping_thresholds
from segmark.pipeline.designs import SAMPLED

REPORT_DIR = "report"
MAX_PHASE_PAIRS = 6


class Report:
    def __init__(
        self,
        ds: Dataset,
        out: Path,
        n_boot: int,
        seed: int,
        discovery: Discovery | None = None,
        colour: str | None = None,
    ):
        self.ds, self.out, self.n_boot, self.seed = ds, out, n_boot, seed
        self.discovery, self.colour = discovery, colour  # colour: the maps' per-unit output
        self.lines: list[str] = []
        self.numbers: dict[str, Any] = {}
        self.figures: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def figure(self, fig_function, result, name: str, caption: str) -> None:
        path = self.out / f"{name}.png"
        with staged(path) as tmp:
            fig_function(result, tmp)
        self.figures.append(path.name)
        self.add(f"![{caption}]({path.name})", "")

    # sections -----------------------------------------------------------------------------
    def header(self) -> None:
        ds = self.ds
        self.add(f"# Report: {ds.name}", "")
        description = ds.sweep.get("description") or ""
        self.add(
            f"Dataset `{ds.path}`: model `{ds.model.tag}`, sweep `{ds.sweep.get('name', '?')}` "
            f"({ds.design} design" + (f"; {description}" if description else "") + ").",
            "",
            f"Swept parameters: {', '.join(f'`{p}`' for p in ds.swept) or 'none'}.",
            "",
            ds.status_line(),
            "",
        )
        self.numbers["dataset"] = {
            "path": str(ds.path),
            "model": ds.model.tag,
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
                table(ds.failure_table()),
                "",
            )
        if ds.status != "complete" or ds.n_missing:
            self.add(
                f"**The dataset is not complete** (status {ds.status}, {ds.n_missing} planned runs "
                "not stored): estimates use the runs stored so far.",
                "",
            )

    def numeric_axes(self, least: int = 2) -> list[str]:
        """Numeric swept parameters of a grid or list design (not a ramp's settings) with at
        least ``least`` values."""
        ds = self.ds
        if ds.design in SAMPLED:
            return []
        return [
            p
            for p in ds.swept
            if is_numeric(ds, p)
            and p not in ramps.PATHS
            and ds.summary[ds.column(p)].nunique() >= least
        ]

    def outcomes(self) -> None:
        axes = self.numeric_axes()
        if not axes:
            return
        self.add("## Outcomes along the swept parameters", "")
        self.numbers["outcomes"] = []
        for axis in axes:
            frame = axis_table(self.ds.ok, self.ds.model, axis)
            self.add(f"### {axis}", "", table(frame), "")
            self.numbers["outcomes"].append({"axis": axis, "table": frame.to_dict("records")})

    def tipping(self) -> None:
        axes = self.numeric_axes(least=3)
        state = self.ds.model.state
        if not axes or state is None:
            return
        self.add("## Tipping thresholds", "")
        self.add(
            f"{probability_label(self.ds.model, state)} is the share of ok runs that end with "
            f"`{state}` true (95% Wilson intervals). The threshold is the midpoint of a "
            "logistic curve fitted with Firth's penalised likelihood, with a 95% percentile "
            "bootstrap interval; the width is its 10-90% distance; the interpolated crossing "
            "is where the empirical curve first reaches 0.5; susceptibility is the variance of "
            f"`{self.ds.model.order or state}` across replicates (docs/ANALYSIS.md).",
            "",
        )
        self.numbers["thresholds"] = []
        for axis in axes:
            self._tipping_along(axis)

    def _tipping_along(self, axis: str) -> None:
        try:
            pooled = tipping_threshold(self.ds, axis, n_boot=self.n_boot, seed=self.seed)
        except AnalysisError as error:
            self.add(f"### {axis}", "", str(error), "")
            return
        self.add(f"### {axis}", "", f"**{pooled.describe()}**", "")
        self.add(f"Bootstrap: {pooled.n_boot} resamples of {pooled.resampling}.", "")
        for note in pooled.notes:
            self.add(f"- {note}")
        if pooled.notes:
            self.add("")
        self.figure(
            figures.tipping_figure,
            pooled,
            f"tipping_{slug(axis)}",
            f"P({pooled.state}) along {axis}",
        )
        self.numbers["thresholds"].append(pooled.numbers())
        others = [p for p in self.ds.swept if p != axis and p not in ramps.PATHS]
        if not others:
            return
        try:
            rows = tipping_thresholds(self.ds, axis, by=others, n_boot=self.n_boot, seed=self.seed)
        except AnalysisError:
            rows = []
        if rows:
            self.add(
                f"Conditional on {', '.join(others)} (one threshold per slice):",
                "",
                table(conditional_table(rows)),
                "",
            )
            self.numbers["thresholds"].extend(r.numbers() for r in rows)

    def phase(self) -> None:
        axes = self.numeric_axes()
        model = self.ds.model
        outcomes = [o for o in (model.state, model.order) if o] or list(model.headline[:1])
        if len(axes) < 2 or not outcomes:
            return
        self.add("## Phase diagrams", "")
        self.numbers["phase"] = []
        for x, y in list(itertools.combinations(axes, 2))[:MAX_PHASE_PAIRS]:
            if (
                self.ds.summary[self.ds.column(x)].nunique()
                < self.ds.summary[self.ds.column(y)].nunique()
            ):
                x, y = y, x
            for outcome in outcomes:
                if not self._phase_of(x, y, outcome):
                    break

    def _phase_of(self, x: str, y: str, outcome: str) -> bool:
        boundary = outcome == self.ds.model.state
        try:
            diagram = phase_diagram(
                self.ds, x, y, outcome, boundary=boundary, n_boot=self.n_boot, seed=self.seed
            )
        except AnalysisError as error:
            self.add(f"{x} x {y}: {error}", "")
            return False
        name = f"phase_{slug(x)}__{slug(y)}__{outcome}"
        self.add(f"### {outcome_label(self.ds.model, outcome)} over {x} and {y}", "")
        self.figure(figures.phase_figure, diagram, name, f"{outcome} over {x} and {y}")
        if boundary and diagram.boundary:
            frame = diagram.boundary_table()
            self.add("Estimated boundary (threshold along x per y, 95% CI):", "")
            self.add(table(frame), "")
            self.numbers["phase"].append({"x": x, "y": y, "boundary": frame.to_dict("records")})
        return True

    def sensitivity(self) -> None:
        design = self.ds.design
        if design not in ("saltelli", "morris"):
            return
        method = {"saltelli": sobol_indices, "morris": morris_effects}[design]
        title = {"saltelli": "Sobol' indices", "morris": "Morris elementary effects"}[design]
        self.add(f"## Sensitivity: {title}", "")
        self.numbers["sensitivity"] = []
        model = self.ds.model
        for outcome in [o for o in (model.order, model.state) if o] or list(model.headline[:1]):
            try:
                result = method(self.ds, outcome, seed=self.seed)
            except AnalysisError as error:
                self.add(f"**Not analysed:** {error}", "")
                return
            label = probability_label(model, outcome) if outcome == model.state else outcome
            self.add(f"### {label}", "", table(result.table), "")
            if result.noise_share == result.noise_share:  # not NaN
                self.add(
                    f"Replicate noise is {result.noise_share:.1%} of the variance of {outcome} "
                    f"across runs ({result.replicates} replicates per point, averaged).",
                    "",
                )
            for note in result.notes:
                self.add(f"- {note}")
            name = f"{result.method}_{outcome}"
            self.figure(figures.sensitivity_figure, result, name, f"{title} of {outcome}")
            self.numbers["sensitivity"].append(
                {
                    "method": result.method,
                    "outcome": outcome,
                    "table": result.table.to_dict("records"),
                    "noise_share": result.noise_share,
                }
            )

    def places(self) -> None:
        from segmark.pipeline.analysis import places

        axes = self.numeric_axes()
        if not axes or not places.has_places(self.ds):
            return
        try:
            result = places.contrast(self.ds, axes[0], self.colour or places.MAP_OUTCOME)
        except AnalysisError as error:  # e.g. runs on several networks: no one map
            self.add("## Places", "", f"No map: {error}", "")
            return
        provinces = places.province_table(result)
        colour = f"`{self.colour}`" if self.colour else places.MAP_MEANING
        self.add(
            "## Places",
            "",
            f"Each unit's outputs over the window, averaged over the runs at the lowest and "
            f"highest `{result.axis}` (`places/`; docs/OUTPUT.md). Colour: {colour}; size: "
            "unmet demand.",
            "",
        )
        self.figure(places.map_figure, result, "places", f"units along {result.axis}")
        self.add("Per province (means over its units), dearest first:", "", table(provinces), "")
        self.numbers["places"] = {
            "axis": result.axis,
            "values": list(result.values),
            "provinces": provinces.to_dict("records"),
        }

    def sampled(self) -> None:
        if self.ds.design not in ("random", "lhs", "sobol"):
            return
        summary = describe_sampled(self.ds.summary, self.ds.model, tuple(self.ds.swept))
        self.add("## Sampled design", "", summary, "")

    def scenarios(self) -> None:
        from segmark.pipeline.analysis.historical import SCENARIO, scenario_figure, scenario_table

        if SCENARIO not in self.ds.swept:
            return
        frame = scenario_table(self.ds)
        self.add("## Historical scenarios", "", table(frame), "")
        self.figure(scenario_figure, self.ds, "scenarios", "scenario time paths")
        self.numbers["scenarios"] = frame.to_dict("records")

    def scenario_discovery(self) -> None:
        if self.discovery is not None:
            discovery_section(self, self.discovery)

    def hysteresis(self) -> None:
        if hysteresis.ramp_runs(self.ds).empty:
            return
        hysteresis.report_section(self)
        warnings_section(self)

    def write(self) -> Path:
        self.header()
        for section in (
            self.outcomes,
            self.tipping,
            self.phase,
            self.places,
            self.sensitivity,
            self.sampled,
            self.scenario_discovery,
            self.scenarios,
            self.hysteresis,
        ):
            section()
        self.numbers["figures"] = self.figures
        text = "\n".join(self.lines).rstrip() + "\n"
        with staged(self.out / "report.json") as tmp:
            tmp.write_text(json.dumps(json_safe(self.numbers), indent=1) + "\n")
        page = render_html(text, self.out, f"segmark report: {self.ds.name}")
        with staged(self.out / "report.html") as tmp:
            tmp.write_text(page, encoding="utf-8")
        with staged(self.out / "report.md") as tmp:  # last: a report.md has all it links
            tmp.write_text(text)
        return self.out / "report.md"


def write_report(
    dataset: str | Path | Dataset,
    out: str | Path | None = None,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    where: str | None = None,
    over: list[str] | None = None,
    map_outcome: str | None = None,
) -> Path:
    """Write ``report.md``, ``report.html``, ``report.json`` and the figures; returns
    report.md's path. ``where`` (runs of interest) and ``over`` (swept parameters) set the
    scenario discovery, which sampled designs always get; ``map_outcome`` the per-unit output
    the maps colour. A folder that cannot take them (a read-only dataset, ``out`` naming a
    file, a disk that fills) or an option the dataset cannot answer is an AnalysisError in
    one line, before anything is written."""
    ds = dataset if isinstance(dataset, Dataset) else load(dataset)
    discovery = discovery_of(ds, where, over)
    if map_outcome is not None:
        from segmark.pipeline.analysis.places import check_colour

        check_colour(ds, map_outcome)
    given = out is not None
    out = Path(out) if out is not None else ds.path / REPORT_DIR
    writable_directory(out, given)
    try:
        return Report(ds, out, n_boot, seed, discovery, map_outcome).write()
    except OSError as error:  # the disk filled or turned read-only while the report was written
        if error.filename is None or Path(os.fsdecode(error.filename)).parent != out:
            raise
        raise AnalysisError(cannot_write(out, error, given)) from None
