"""Where a kernel step's time goes: each numbered section of ``_simulate``, timed by the CPU.

Builds an instrumented copy of ``kernels/market.py`` in a temporary directory: before every
numbered section comment of the weekly loop (``# 2. arrivals`` ... ``# 13. outputs``) it reads
the CPU's cycle counter (``llvm.readcyclecounter``) and adds the cycles since the last reading to
the section that just ended. The copy is compiled without numba's cache and run on the North
Korea network with default parameters, with phones everywhere (the default sweep's market) and
with every link removed (the node side alone); each section's share of the cycles is scaled by
the run's wall time per step. The readings cost some time of their own: the table shows where
time goes, kernel_speed.py how fast the kernel is. Not part of ``make bench``.

    .venv/bin/python -m benchmarks.kernel_sections [--steps 520] [--runs 5]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path
from types import ModuleType

from benchmarks.common import absolute_imports, default_params, import_copy, table
from benchmarks.kernel_speed import K, without_links
from segmark.kernels import market, network

SECTION = re.compile(r"^        # (\d+)\. ([A-Za-z' ]+)")
COUNTER = """
from llvmlite import ir as _ir
from numba import types as _types
from numba.core import cgutils as _cgutils
from numba.extending import intrinsic as _intrinsic

CYCLES = np.zeros(32, dtype=np.int64)


@_intrinsic
def _cycles(typingctx):
    def codegen(context, builder, signature, args):
        fnty = _ir.FunctionType(_ir.IntType(64), [])
        fn = _cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return _types.int64(), codegen
"""


def _mark(section: int, indent: str) -> str:
    return (
        f"{indent}_now = _cycles(); cycles[_section] += _now - _last; _last = _now; "
        f"_section = {section}"
    )


def instrumented_source(source: str) -> tuple[str, dict[int, str]]:
    """The kernel's source with a cycle reading before each numbered section of the weekly
    loop, and the sections' names (0: the top of the week, before section 1)."""
    source = absolute_imports(source).replace("cache=True", "cache=False")
    names = {0: "week start"}
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        if line.startswith("def _simulate("):
            inside = True
        elif inside and line.startswith("@njit"):
            inside = False
        section = SECTION.match(line) if inside else None
        if section:
            names[int(section.group(1))] = section.group(2).strip()
            out.append(_mark(int(section.group(1)), "        "))
        out.append(line)
        if inside and line == "    for t in range(n_steps):":
            out.append(_mark(0, "        "))
        if inside and line == "    dirty = True":
            out.append("    _last = _cycles()\n    _section = 0")
    text = "\n".join(out)
    # the counters go in as the last argument of _simulate
    text = text.replace("    prices,\n):", "    prices,\n    cycles,\n):", 1)
    text = text.replace("        prices,\n    )", "        prices,\n        CYCLES,\n    )", 1)
    numba_import = "from numba import njit\n"
    text = text.replace(numba_import, numba_import + COUNTER, 1)
    if len(names) < 10 or "cycles[_section]" not in text:
        raise RuntimeError("kernels/market.py no longer has the layout this tool instruments")
    return text, names


def load(directory: Path) -> tuple[ModuleType, dict[int, str]]:
    source, names = instrumented_source(Path(market.__file__).read_text())
    return import_copy(source, "market_sections", directory), names


def measure(steps: int, runs: int) -> dict:
    net = network.build("nk", 0)
    cases = {
        "default parameters": (net, default_params()),
        "phones everywhere": (net, default_params(phone_penetration=1.0)),
        "no links": (without_links(net), default_params()),
    }
    with tempfile.TemporaryDirectory() as directory:
        kernel, names = load(Path(directory))
        result = {}
        for label, (graph, params) in cases.items():
            kernel.simulate(graph, params, 0, K, 2, 1)  # compile
            kernel.CYCLES[:] = 0
            start = time.perf_counter()
            for seed in range(runs):
                kernel.simulate(graph, params, seed + 1, K, steps, 4)
            us_per_step = (time.perf_counter() - start) / runs / steps * 1e6
            share = kernel.CYCLES / kernel.CYCLES.sum()
            result[label] = {
                "us_per_step": us_per_step,
                "sections": {names[i]: float(share[i] * us_per_step) for i in sorted(names)},
            }
    return result


def show(result: dict) -> str:
    labels = list(result)
    sections = list(next(iter(result.values()))["sections"])
    rows = [(name, *(result[label]["sections"][name] for label in labels)) for name in sections]
    rows.append(("whole step", *(result[label]["us_per_step"] for label in labels)))
    return "µs per step by section (NK network)\n" + table(rows, ("section", *labels))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=520)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    result = measure(args.steps, args.runs)
    print(show(result))
    return result


if __name__ == "__main__":
    main()
