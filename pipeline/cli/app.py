"""The ``segmark`` command: a Hydra app that runs one sweep of one model and reports where its
data is."""

from __future__ import annotations

import errno
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import hydra
import pandas as pd
from hydra.errors import HydraException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from segmark.models.interface import Model
from segmark.pipeline.analysis.finding import describe, describe_sampled, finding_columns
from segmark.pipeline.cli.compose import (
    check_command_line,
    check_overrides,
    config_error,
    prepare,
)
from segmark.pipeline.cli.multirun import check_jobs, is_multirun
from segmark.pipeline.config import Config, ConfigError
from segmark.pipeline.driver import SweepResult, model_of, run_sweep
from segmark.pipeline.dryrun import dry_run
from segmark.pipeline.schedule import SchedulerLost, WorkersDied
from segmark.pipeline.store import STATUS_OK, DatasetBusy, UnreadableDataset, read_summary

WRITE_ERRORS = {errno.EFBIG, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM}


@hydra.main(version_base="1.3", config_path="pkg://segmark.conf", config_name="config")
def _app(cfg: DictConfig) -> None:
    try:
        config: Config = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    except OmegaConfBaseException as error:
        cause = config_error(error)
        _refuse(f"{error.full_key}: {cause or error.msg}".replace("\n", " "))
    try:
        model = model_of(config)
        if config.dry_run:
            dry_run(config, model=model)
            return
        for noisy in ("distributed.client", "distributed.comm", "distributed.core"):
            # connection failures are reported by segmark in one line, not as Dask tracebacks
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        result = run_sweep(config, model=model)
    except ConfigError as error:
        _refuse(str(error))
    except DatasetBusy as error:
        print(f"segmark: {error}", file=sys.stderr)
        sys.exit(3)
    except SchedulerLost as error:
        print(
            f"segmark: {error}. Runs finished so far are stored; restart the scheduler and its "
            "workers, then run the same command (same storage.root and storage.dataset) to resume.",
            file=sys.stderr,
        )
        sys.exit(4)
    except KeyboardInterrupt as error:
        interrupted(error)
    except WorkersDied as error:
        local = config.cluster.kind == "local"
        limit = f" (cluster.memory_limit is {config.cluster.memory_limit!r})" if local else ""
        resume = "run the same command with the new setting and storage.dataset to resume"
        print(f"segmark: {error}{limit}. Runs finished so far are stored; {resume}.",
              file=sys.stderr)  # fmt: skip
        sys.exit(5)
    except UnreadableDataset as error:
        print(f"segmark: {error}. Mount or restore it, then run the same command (same "
              "storage.root and storage.dataset) to resume.", file=sys.stderr)  # fmt: skip
        sys.exit(5)
    except OSError as error:
        if error.errno not in WRITE_ERRORS:
            raise
        where = f" ({error.filename})" if error.filename else ""
        print(
            f"segmark: cannot write the dataset: {error.strerror or error}{where}. Runs finished "
            "so far are stored and no half-written file is left; free disk space, lift the "
            "file-size limit or fix permissions, then run the same command with the same "
            "storage.dataset to resume.",
            file=sys.stderr,
        )
        sys.exit(5)
    print()
    try:
        report(result, model)
    except Exception as error:  # the data is stored; a failed summary must not hide where
        print(f"(no summary of the results: {type(error).__name__}: {error})")
    skipped = f", {result.n_skipped} already stored" if result.n_skipped else ""
    print(f"{result.n_runs} runs ({result.n_failed} failed{skipped}) in {result.wall_s:.1f} s")
    print(f"results: {result.directory}")


def report(result: SweepResult, model: Model) -> None:
    """Print the finding and save the curve along the first axis, if it is numeric."""
    grid = result.design.grid
    paths = list(grid) if grid is not None else list(result.design.paths)
    # only what the finding needs: a million runs' full summary would not fit a small driver
    table = read_summary(result.directory, finding_columns(model, paths))
    summary = table.to_pandas(strings_to_categorical=True)
    del table
    if grid is None:
        print(describe_sampled(summary, model, result.design.paths))
        return
    print(describe(summary, model, grid))
    if not grid or (summary["status"] != STATUS_OK).all():
        return
    axis = next(iter(grid))
    if pd.api.types.is_numeric_dtype(summary[model.parameter(axis).column]):
        from segmark.pipeline.analysis.figures import axis_curve  # matplotlib once results exist

        name = "tipping.png" if model.state else "outcomes.png"
        figure = axis_curve(summary, model, axis, result.directory / name)
        print(f"figure: {figure}")


def _refuse(message: str) -> None:
    program = Path(sys.argv[0]).name or "segmark"  # segmark or segmark-calibrate
    print(f"{program}: invalid config: {message}", file=sys.stderr)
    sys.exit(2)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (what SLURM, systemd, container runtimes and a closed terminal send),
    raised in the main thread and handled as Ctrl-C is: the manifest says incomplete, the lock
    is released, the resume hint printed; the exit code is 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _stop(signum: int, frame: object) -> None:
    for other in STOP_SIGNALS:  # a second signal must not break the clean-up of the first
        signal.signal(other, lambda *_: None)
    # the workers get the signal too: the scheduler's complaints about their closed streams
    # are teardown noise, not news (the user gets one line and the resume hint)
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] == "distributed":
            logging.getLogger(name).setLevel(logging.CRITICAL)
    raise Stopped(signum)


def stop_on_signals() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Stopped` in the main thread (where Python runs
    signal handlers; called from another, as an embedding program might, it does nothing)."""
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            signal.signal(signum, _stop)


def interrupted(error: KeyboardInterrupt) -> NoReturn:
    """Exit after Ctrl-C (130) or a stop signal (128 + its number, with one line)."""
    if isinstance(error, Stopped):  # segmark, segmark-calibrate or segmark-refine
        print(f"{Path(sys.argv[0]).name or 'segmark'}: stopped by {error}", file=sys.stderr)
    sys.exit(getattr(error, "exit_code", 130))


def launch(app: Callable[[], None], config_name: str = "config") -> None:
    """Run a Hydra ``app`` on this command line: the model it names prepared, its overrides
    and config files checked first (exit 2 with one line on a bad one); SIGTERM and SIGHUP
    stop it as Ctrl-C does (:class:`Stopped`)."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    stop_on_signals()
    args = sys.argv[1:]
    try:
        model, composed = prepare(args)
        check_overrides(args, model)
        check_command_line(args)
        if is_multirun(composed):
            check_jobs(composed, config_name, model)
    except ConfigError as error:
        _refuse(str(error))
    sys.argv[1:] = composed
    # Hydra prints its own composition errors over several lines and exits 1; letting them
    # through (its documented switch) gives one line and exit 2 like every other refusal
    user_wants_traces = "HYDRA_FULL_ERROR" in os.environ
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        app()
    except Stopped as error:  # outside the app's own handling (composing, reporting)
        interrupted(error)
    except (HydraException, OmegaConfBaseException) as error:
        if user_wants_traces:
            raise
        _refuse(one_line(error))
    finally:
        if not user_wants_traces:
            del os.environ["HYDRA_FULL_ERROR"]


def one_line(error: BaseException) -> str:
    """A Hydra composition error in one line: option lists joined by commas (private options,
    named with a leading underscore, left out), the search path and links dropped."""
    text = str(error).split("Config search path:")[0].split("See https://hydra.cc")[0]
    head, _, options = text.partition("Available options in")
    parts = [" ".join(word for word in head.split() if word != "^")]
    if options:
        group, _, names = options.partition(":")
        shown = ", ".join(name for name in names.split() if not name.startswith("_"))
        parts.append(f"the options in{group} are {shown}")
    if isinstance(error.__cause__, OmegaConfBaseException):  # e.g. a type refused in a merge
        parts.append(str(error.__cause__).splitlines()[0])
    if isinstance(error, OverrideParseException):
        parts[0] = f"cannot parse the command line ({parts[0]})"
        parts.append("quote values that hold spaces, newlines, brackets or commas")
    return re.sub(r"^In '[^']*': ", "", "; ".join(parts))


def main() -> None:
    launch(_app)
