"""``segmark-refine``: refine a dataset's tipping threshold. Refinement (``pipeline.analysis``)
proposes points; this command hands them to the engine (``pipeline.driver.extending``), which
runs them into the dataset on its cluster."""

from __future__ import annotations

import argparse
import sys

from segmark.pipeline.analysis.data import AnalysisError
from segmark.pipeline.analysis.refine import parse_where, refine
from segmark.pipeline.config import ConfigError
from segmark.pipeline.driver import extending


def refine_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="segmark-refine",
        description="Add points and replicates to a dataset where P(state) is most uncertain "
        "until the threshold's bootstrap CI along AXIS is at most WIDTH wide.",
    )
    parser.add_argument("dataset", help="dataset directory (the `results:` line of a sweep)")
    parser.add_argument("--axis", required=True, help="e.g. policy.permit_strictness")
    parser.add_argument("--width", type=float, required=True, help="target CI width")
    parser.add_argument("--where", nargs="*", default=[], help="PATH=VALUE fixing other axes")
    parser.add_argument("--max-rounds", type=int, default=5, help="rounds at most (5)")
    parser.add_argument("--runs-per-round", type=int, default=None, help="runs per round at most")
    parser.add_argument("--max-runs", type=int, default=None, help="added runs at most")
    parser.add_argument("--new-values", type=int, default=3, help="new axis values a round (3)")
    parser.add_argument(
        "--extra-replicates", type=int, default=None, help="replicates added (default: doubles)"
    )
    parser.add_argument("--top-points", type=int, default=2, help="values given replicates (2)")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (0)")
    args = parser.parse_args(argv)
    try:
        with extending(args.dataset) as extend:
            result = refine(
                args.dataset,
                args.axis,
                args.width,
                extend=extend,
                where=parse_where(args.where),
                max_rounds=args.max_rounds,
                runs_per_round=args.runs_per_round,
                max_runs=args.max_runs,
                new_values=args.new_values,
                extra_replicates=args.extra_replicates,
                top_points=args.top_points,
                n_boot=args.n_boot,
                seed=args.seed,
            )
    except (AnalysisError, ConfigError, FileNotFoundError) as error:
        print(f"segmark-refine: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(0 if result.reached else 1)
