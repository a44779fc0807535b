"""The segmark weekly step written per agent in plain Python, as a Mesa or NetLogo model would be.

A peer for the kernel benchmark, not part of segmark: one ``County`` object per market with a
float per good, one ``Trader`` object per link (petty trips over it), one ``Wholesaler`` object
per route between two depots (truckloads along a least-cost path, found by its own Dijkstra),
and a ``Model`` whose ``step()`` runs the phases of ``kernels.market`` with Python loops,
floats and the ``math`` module (no NumPy inside the step). It computes the same step as
``kernels.reference`` (the counter-based draws too, with Python integers), so the benchmark
compares like with like; tests/test_bench_agents.py holds the two to 1e-9. Only the setup
borrows NumPy: the landscape (demand, production, phone ranks) comes from
``market.draw_landscape`` with the run's seeded generator, as in the kernel. Like the kernel,
it computes the week's outputs only in weeks that are averaged or sampled.
"""

from benchmarks.peers.agents.model import Model, simulate
from benchmarks.peers.agents.outputs import OUTCOMES, SERIES, Result

__all__ = ["OUTCOMES", "SERIES", "Model", "Result", "simulate"]
