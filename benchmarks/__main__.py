"""Every benchmark in one command, each part in its own process: ``python -m benchmarks``.

Runs the kernel, sweep-overhead (default and trivial model), scale, storage and calibration
throughput benchmarks, each writing its JSON next to this file, then prints one summary table
against the targets of issues 7 and 24 and writes results.json (machine, versions, settings,
every part, the summary). ``--quick`` runs everything small (a few minutes) into a scratch
directory, to check the suite.

    .venv/bin/python -m benchmarks                 # make bench: about 85 minutes on 2 cores
    .venv/bin/python -m benchmarks --runs 10000    # the issue's 10,000 default runs (+15 min)
    .venv/bin/python -m benchmarks --runs 10000 --repeats 3   # medians of 3 (about 2.5 hours)
    .venv/bin/python -m benchmarks --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks.common import HERE, table, write_json

PACKAGES = (
    "segmark",
    "numpy",
    "numba",
    "dask",
    "distributed",
    "pyarrow",
    "duckdb",
    "hydra-core",
    "ema_workbench",
    "pyabc",
)
FULL = {
    "runs": 5000,
    "repeats": 1,
    "trivial_runs": 20_000,
    "trivial_repeats": 3,
    "hydra_runs": 200,
    "hydra_trivial_runs": 500,
    "scale": [1000, 10_000, 100_000, 1_000_000],
    "storage_runs": 10_000,
    "calibration": ["--particles", "1000", "200", "--populations", "5"],
}
QUICK_KERNEL = ["--peer-steps", "26", "--repeats", "3"]
QUICK = {
    "runs": 200,
    "repeats": 1,
    "trivial_runs": 2000,
    "trivial_repeats": 1,
    "hydra_runs": 10,
    "hydra_trivial_runs": 50,
    "scale": [1000, 10_000],
    "storage_runs": 1000,
    "calibration": ["--particles", "60", "30", "--populations", "2", "--toy-particles", "100"],
}


def parts(s: dict, quick: bool) -> dict[str, list[str]]:
    """Each part's command line (a module of this package and its arguments)."""
    default = ["--runs", str(s["runs"]), "--hydra-runs", str(s["hydra_runs"]),
               "--repeats", str(s["repeats"])]  # fmt: skip
    trivial = ["--runs", str(s["trivial_runs"]), "--hydra-runs", str(s["hydra_trivial_runs"]),
               "--repeats", str(s["trivial_repeats"])]  # fmt: skip
    return {
        "kernel_speed": ["benchmarks.kernel_speed", *(QUICK_KERNEL if quick else [])],
        "sweep_overhead_default": ["benchmarks.sweep_overhead", *default],
        "sweep_overhead_trivial": ["benchmarks.sweep_overhead", "--trivial", *trivial],
        "sweep_scale": ["benchmarks.sweep_scale", "--trivial", "--runs", *map(str, s["scale"])],
        "storage": ["benchmarks.storage", "--runs", str(s["storage_runs"])],
        "calibration_throughput": ["benchmarks.calibration_throughput", *s["calibration"]],
    }


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, object]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version}


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


PEERS = {"segmark": "segmark", "pool": "Pool", "ema": "EMA Workbench", "hydra": "Hydra multirun"}


def summary(results: dict) -> list[tuple]:
    """(measure, value, target, met) rows from the parts that ran."""
    rows: list[tuple] = []

    def add(measure: str, value: object, target: str | None = None, met: bool | None = None):
        rows.append((measure, value, target, None if met is None else ("yes" if met else "no")))

    if kernel := results.get("kernel_speed"):
        fast = kernel["implementations"]["numba kernel"]
        add("kernel µs/step, NK network, 520-week run", kernel["kernel_us_per_step_full_run"])
        ratio = kernel["agents_over_kernel"]
        add("per-agent Python ÷ numba kernel, per step", ratio, "≥ 100", ratio >= 100)
        add("NumPy twin ÷ numba kernel, per step", kernel["twin_over_kernel"])
        add(
            "kernel ns per node·good / per edge·good",
            f"{fast['ns_per_node_good']:.3g} / {fast['ns_per_edge_good']:.3g}",
        )
        add(
            "numba compile s, cold / from cache",
            f"{kernel['compile_cold_s']:.3g} / {kernel['compile_cached_s']:.3g}",
        )
    if default := results.get("sweep_overhead_default"):
        for name, label in PEERS.items():
            if (r := default["drivers"].get(name, {})).get("fraction_of_ideal") is not None:
                measure = f"default model, {r['runs']:,} runs: {label}, fraction of ideal"
                if default.get("repeats", 1) > 1:
                    measure += f" (median of {default['repeats']})"
                if name == "segmark":
                    add(measure, r["fraction_of_ideal"], "≥ 0.95", r["fraction_of_ideal"] >= 0.95)
                else:
                    add(measure, r["fraction_of_ideal"])
    if trivial := results.get("sweep_overhead_trivial"):
        for name, label in PEERS.items():
            if (r := trivial["drivers"].get(name, {})).get("overhead_ms_per_run") is not None:
                median = f" (median of {n})" if (n := trivial.get("repeats", 1)) > 1 else ""
                add(f"trivial model, {r['runs']:,} runs: {label}, overhead ms/run{median}",
                    r["overhead_ms_per_run"])  # fmt: skip
        for name in ("ema", "hydra"):
            if (ratio := trivial["drivers"].get(name, {}).get("overhead_vs_segmark")) is not None:
                add(f"{PEERS[name]} overhead ÷ segmark's", ratio, "≥ 20", ratio >= 20)
            if (own := trivial["drivers"].get(name, {}).get("own_overhead_vs_segmark")) is not None:
                add(
                    f"{PEERS[name]} ÷ segmark's, beyond each one's own runs", own, "≥ 20", own >= 20
                )
    if scale := results.get("sweep_scale"):
        for p in scale["curve"]:
            add(
                f"trivial model, {p['runs']:,} runs: wall s / driver peak MB / files",
                f"{p['wall_s']:.3g} / {p['driver_peak_rss_mb']:.0f} / {p['parquet_files']}",
                "< 500 MB",
                p["driver_peak_rss_mb"] < 500,
            )
    if storage := results.get("storage"):
        w, read = storage["write"], storage["read_s"]["compacted"]
        add(
            f"Parquet write, {storage['runs']:,} runs: MB/s / rows/s",
            f"{w['mb_per_s']:.3g} / {w['rows_per_s']:,.0f}",
        )
        for query, label in (("summary", "group by 2 parameters"), ("series", "series by step")):
            add(
                f"{label}, ms: pyarrow / DuckDB",
                f"{read[f'pyarrow {query}'] * 1e3:.3g} / {read[f'DuckDB {query}'] * 1e3:.3g}",
            )
    if calibration := results.get("calibration_throughput"):
        rows.extend(_calibration_rows(calibration))
    return rows


def _calibration_rows(result: dict) -> list[tuple]:
    nk, toy = result["nk"], result["toy"]
    cal, flat = nk["calibration"], nk["flat"]
    size = f"nk calibration, {nk['particles']:,} x {nk['populations']}"
    memory = [nk, *result["memory"]]
    rows = [
        (f"{size}: workers busy (flat sweep of its {cal['runs']:,} runs: {flat['busy']:.3f})",
         cal["busy"], "≥ 0.9", "yes" if cal["busy"] >= 0.9 else "no"),
        (f"{size}: throughput ÷ the flat sweep's", nk["throughput_vs_flat"], None, None),
        ("nk calibration driver peak MB at " + " / ".join(f"{m['particles']}" for m in memory)
         + " particles", " / ".join(f"{m['calibration']['driver_peak_rss_mb']:.0f}"
                                    for m in memory), None, None),
    ]  # fmt: skip
    peer = toy["pyabc"]
    if "ms_per_simulation" in peer:
        rows.append((f"toy calibration, {toy['particles']:,} x {toy['populations']}: ms a "
                     "simulation, segmark / pyabc (multicore)",
                     f"{toy['segmark']['ms_per_simulation']:.2f} / "
                     f"{peer['ms_per_simulation']:.2f}", None, None))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the suite")
    parser.add_argument("--runs", type=int, help="default-model runs (sweep overhead)")
    parser.add_argument(
        "--repeats", type=int, help="times each driver runs the default model (medians)"
    )
    parser.add_argument("--only", nargs="+", help="some parts: kernel_speed sweep_scale ...")
    parser.add_argument("--out", type=Path, help="where the JSON files go")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    if args.runs:
        settings["runs"] = args.runs
    if args.repeats:
        settings["repeats"] = args.repeats
    out = args.out or (Path("/tmp/segmark-bench-quick") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results, seconds, load = {}, {}, {}
    for name, command in parts(settings, args.quick).items():
        if args.only and name not in args.only:
            continue
        path = out / f"{name}.json"
        print(f"\n== {name}: python -m {' '.join(command)}", flush=True)
        load[name] = os.getloadavg()[0]  # others' work on the machine skews every ratio
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", *command, "--json", str(path)], cwd=HERE.parent
        )
        seconds[name] = time.perf_counter() - t0
        if done.returncode == 0:
            results[name] = json.loads(path.read_text())
        else:
            print(f"{name} failed (exit {done.returncode}); going on", flush=True)
    rows = summary(results)
    print("\n== summary\n" + table(rows, ("measure", "value", "target", "met")))
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": machine(),
        "versions": versions(),
        "settings": settings,
        "part_seconds": seconds,
        "load_average_before_part": load,
        "total_seconds": time.perf_counter() - started,
        "summary": [dict(zip(("measure", "value", "target", "met"), r, strict=True)) for r in rows],
        "parts": results,
    }
    write_json(out / "results.json", report)
    print(f"results: {out / 'results.json'} ({report['total_seconds'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
