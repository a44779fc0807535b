"""The layers import contracts cannot express (`lint-imports` in make test checks the rest,
pyproject.toml lists them): no cycle of imports between modules across segmark's packages, and
only the store writes Parquet."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).parents[1]
PACKAGES = ("segmark.kernels", "segmark.models", "segmark.pipeline")


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """The import cycles: components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in graph.modules or other.split(".")[0] != "segmark":
                continue
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = set()
            while True:
                other = stack.pop()
                component.add(other)
                if other == module:
                    break
            if len(component) > 1:
                found.append(component)

    for module in sorted(graph.modules):
        if module.startswith("segmark.") and module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_another_package() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    # a package's __init__ re-exporting its modules is not a cycle of the code
    for package in [m for m in graph.modules if graph.find_children(m)]:
        for child in graph.find_children(package):
            if graph.direct_import_exists(importer=package, imported=child):
                graph.remove_import(importer=package, imported=child)
    assert strongly_connected(graph) == []


def _parquet_imports(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(a.name == "pyarrow.parquet" for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and (
            node.module == "pyarrow.parquet"
            or (node.module == "pyarrow" and any(a.name == "parquet" for a in node.names))
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "to_parquet":
            lines.append(node.lineno)
    return lines


def test_only_the_store_reads_and_writes_parquet_files() -> None:
    """pyarrow.parquet and DataFrame.to_parquet only in pipeline/store/ (analysis reads through
    the store's functions or pyarrow.dataset)."""
    offenders = {}
    for folder in ("kernels", "models", "pipeline"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.parent == ROOT / "pipeline" / "store":
                continue
            if lines := _parquet_imports(path):
                offenders[str(path.relative_to(ROOT))] = lines
    assert offenders == {}
