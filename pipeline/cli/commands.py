"""The commands beside ``segmark``: ``segmark-report`` (a report on a dataset), ``segmark-check``
(a sweep against a committed baseline) and ``segmark-refine`` (a threshold refined: refinement
in ``pipeline.analysis`` proposes points, the engine's ``pipeline.extend.extending`` runs them
into the dataset on its cluster). Argument parsing and exit codes only."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from segmark.pipeline.analysis.data import AnalysisError
from segmark.pipeline.analysis.refine import parse_where, refine
from segmark.pipeline.analysis.report import write_report
from segmark.pipeline.check import (
    ALPHA,
    DEFAULT_BASELINE,
    CheckError,
    compare,
    read_baseline,
    report,
    write_baseline,
    write_json,
)
from segmark.pipeline.cli.app import WRITE_ERRORS, interrupted, stop_on_signals
from segmark.pipeline.config import ConfigError
from segmark.pipeline.extend import extending
from segmark.pipeline.store import UnreadableDataset


def at_least(least: int, why: str = "") -> type:
    """An argparse type: an integer >= ``least``, else a one-line error (exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            raise argparse.ArgumentTypeError(
                f"{text!r}: give an integer >= {least}{f' ({why})' if why else ''}"
            )
        return value

    parse.__name__ = f"integer >= {least}"
    return parse  # type: ignore[return-value]


N_BOOT = at_least(100, "fewer resamples give no interval worth printing")
POSITIVE = at_least(1)


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
    parser.add_argument("--max-rounds", type=POSITIVE, default=5, help="rounds at most (5)")
    parser.add_argument(
        "--runs-per-round", type=POSITIVE, default=None, help="runs per round at most"
    )
    parser.add_argument("--max-runs", type=POSITIVE, default=None, help="added runs at most")
    parser.add_argument(
        "--new-values", type=POSITIVE, default=3, help="new axis values a round (3)"
    )
    parser.add_argument(
        "--extra-replicates",
        type=POSITIVE,
        default=None,
        help="replicates added (default: doubles)",
    )
    parser.add_argument(
        "--top-points", type=POSITIVE, default=2, help="values given replicates (2)"
    )
    parser.add_argument("--n-boot", type=N_BOOT, default=1000, help="bootstrap resamples (1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (0)")
    parser.add_argument(
        "--trust-cluster",
        action="store_true",
        help="use the dataset's stored cluster settings even where they name a scheduler, job "
        "scripts, a numba cache or a public dashboard (only for a dataset you wrote)",
    )
    args = parser.parse_args(argv)
    stop_on_signals()
    try:
        _try_writing(Path(args.dataset))
        with extending(args.dataset, trust_cluster=args.trust_cluster) as extend:
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
    except (AnalysisError, ConfigError, FileNotFoundError, UnreadableDataset) as error:
        print(f"segmark-refine: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as error:
        interrupted(error)
    except OSError as error:
        if error.errno not in WRITE_ERRORS:
            raise
        print(
            f"segmark-refine: cannot write the dataset ({error.strerror or error}: "
            f"{error.filename}); refinement adds runs to it: make it writable, or refine a copy",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(0 if result.reached else 1)


def _try_writing(directory: Path) -> None:
    """A write into the dataset, before a bootstrap runs or a cluster starts: a dataset that
    refuses writes (read-only) is refused at once. (A missing one is extending's to report.)"""
    if not directory.is_dir():
        return
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
    except OSError as error:  # named as the dataset, not the probe's random name
        raise OSError(error.errno, error.strerror, str(directory)) from None


def report_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="segmark-report",
        description="Write a report of a segmark dataset: report.md with PNG figures and "
        "report.html, the same as one self-contained page to open in a browser (into "
        "<dataset>/report/ unless --out is given).",
    )
    parser.add_argument("dataset", help="dataset directory (the `results:` line of a sweep)")
    parser.add_argument("--out", help="directory for report.md, report.html and figures")
    parser.add_argument("--n-boot", type=N_BOOT, default=2000, help="bootstrap resamples (2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (0)")
    parser.add_argument(
        "--where",
        help="scenario discovery of the runs meeting this: OUTCOME, 'not OUTCOME' or "
        "'OUTCOME OP NUMBER', e.g. 'integration_index > 0.5' (default: the model's state "
        "outcome, for sampled designs)",
    )
    parser.add_argument(
        "--over", help="scenario discovery over these swept parameters only (comma-separated)"
    )
    parser.add_argument(
        "--map", help="the per-unit output the maps colour (default: linked, the share of goods "
        "in the national market)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    over = [p.strip() for p in args.over.split(",")] if args.over is not None else None
    try:
        path = write_report(
            args.dataset, args.out, n_boot=args.n_boot, seed=args.seed, where=args.where,
            over=over, map_outcome=args.map,
        )  # fmt: skip
    except (AnalysisError, UnreadableDataset) as error:
        print(f"segmark-report: {error}", file=sys.stderr)
        sys.exit(2)
    print(path.read_text().split("\n## ")[0].strip().splitlines()[-1])
    for line in path.read_text().splitlines():
        if line.startswith("**Along"):
            print(line.strip("*"))
    print(f"open in a browser: {path.with_suffix('.html').as_uri()}")
    print(f"report: {path}")


def check_status(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="segmark-check",
        description="Compare a finished sweep's outcome distributions with a committed baseline "
        "(KS / Fisher's exact tests, Holm-corrected). Exit 0: pass; 1: the model behaves "
        "differently; 2: the inputs cannot be compared. See docs/CHECKS.md.",
    )
    parser.add_argument("dataset", type=Path, help="a complete dataset directory")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=DEFAULT_BASELINE,
        help="default: the checkout's tests/baselines/check.json",
    )
    parser.add_argument(
        "--alpha", type=float, default=ALPHA, help=f"family-wise false-alarm rate ({ALPHA})"
    )
    parser.add_argument(
        "--write-baseline",
        action="store_true",
        help="write the dataset's summary to --baseline (refresh it on purpose) and stop",
    )
    parser.add_argument("--report", type=Path, help="also write the test results as JSON here")
    parser.add_argument("--show", type=at_least(0), default=8, help="tests listed (default 8)")
    args = parser.parse_args(argv)
    try:
        if args.write_baseline:
            baseline = write_baseline(args.dataset, args.baseline)
            print(
                f"wrote {args.baseline}: {baseline['runs']} runs at {len(baseline['points'])} "
                f"points (root seed {baseline['root_seed']}, model {baseline['model_version']}); "
                "commit it"
            )
            return 0
        baseline = read_baseline(args.baseline)
        result = compare(baseline, args.dataset, args.alpha)
    except (CheckError, UnreadableDataset, OSError) as error:
        print(f"segmark-check: {error}", file=sys.stderr)
        return 2
    print(
        f"baseline {args.baseline} ({baseline['runs']} runs, root seed {baseline['root_seed']}, "
        f"model {baseline['model_version']}) vs {args.dataset}"
    )
    print(report(result, args.show))
    if args.report:
        try:
            write_json(args.report, result.to_json())
        except OSError as error:
            print(
                f"segmark-check: cannot write --report {args.report} ({error.strerror or error})",
                file=sys.stderr,
            )
            return 2
    return 0 if result.passed else 1


def check_main() -> None:
    sys.exit(check_status())
