"""Hydra's multirun with its basic launcher driving the sweep's runs: one job per run.

    python -m benchmarks.peers.hydra_app -m 'index=range(0,N)' rows=<rows file> last=N-1 ...

The basic launcher runs the jobs one after another in this process, each with its own output
directory and config files, as a user's ``my_app -m`` would. The first job loads the kernel;
the clock runs from the end of the first job to the end of the last (``stamps`` file), so the
per-job cost excludes Python's and Hydra's start-up. Results stay in memory (JobReturn).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore

from benchmarks.peers.runs import load_rows, run_index


@dataclass
class Job:
    index: int = 0
    rows: str = ""
    stamps: str = ""
    last: int = 0


ConfigStore.instance().store(name="peer", node=Job)


@hydra.main(version_base="1.3", config_path=None, config_name="peer")
def job(cfg: Job) -> float:
    outcomes, _ = run_index(cfg.rows, cfg.index)
    if cfg.index in (0, cfg.last):
        with open(cfg.stamps, "a") as out:
            out.write(f"{time.perf_counter()!r}\n")
    return float(outcomes[0])


def drive(rows: str, workers: int, out: Path) -> dict[str, float]:
    n = len(load_rows(rows))
    stamps = out / "stamps.txt"
    command = [
        sys.executable, "-m", "benchmarks.peers.hydra_app", "-m", f"index=range(0,{n})",
        f"rows={rows}", f"stamps={stamps}", f"last={n - 1}", f"hydra.sweep.dir={out / 'multirun'}",
    ]  # fmt: skip
    subprocess.run(command, cwd=Path(__file__).parents[2], capture_output=True, check=True)
    first, last = map(float, stamps.read_text().split())
    files = sum(1 for p in (out / "multirun").rglob("*") if p.is_file())
    return {"wall_s": last - first, "runs": n - 1, "processes": 1, "files": files}


if __name__ == "__main__":
    job()
