"""numba's on-disk cache of the kernels, invalidated by a change to any module of the package.

numba stamps a cached function with the content of the one file that defines it. The weekly
loop in ``market.py`` compiles the phases of ``phases.py``, ``arbitrage.py`` and
``outputs.py`` into itself, so an edit there would leave the loop's cached build running the
old phases. :func:`register` puts a locator in front of numba's own for functions of this
package: it uses the location numba would choose and a stamp covering every module here.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from numba.core import caching

PACKAGE = Path(__file__).resolve().parent


@cache
def _digest(stamps: tuple[tuple[str, int, int], ...]) -> bytes:
    sha = hashlib.sha256()
    for name, _, _ in stamps:
        sha.update(name.encode())
        sha.update((PACKAGE / name).read_bytes())
    return sha.digest()


def package_stamp() -> bytes:
    """A digest of every module of the package (re-read when one's size or mtime changes)."""
    stamps = []
    for path in sorted(PACKAGE.glob("*.py")):
        info = path.stat()
        stamps.append((path.name, info.st_mtime_ns, info.st_size))
    return _digest(tuple(stamps))


class PackageLocator(caching._CacheLocator):
    """The locator numba would use for a function of this package, stamped by the package."""

    def __init__(self, inner: caching._CacheLocator):
        self._inner = inner

    def get_cache_path(self) -> str:
        return self._inner.get_cache_path()

    def get_disambiguator(self) -> str:
        return self._inner.get_disambiguator()

    def get_source_stamp(self) -> Any:
        return (self._inner.get_source_stamp(), package_stamp())

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> PackageLocator | None:
        if Path(py_file).resolve().parent != PACKAGE:
            return None
        for other in caching.CacheImpl._locator_classes:
            if other is not cls:
                inner = other.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner)
        return None


def register() -> None:
    """Put :class:`PackageLocator` first (idempotent); before any ``cache=True`` decorator here."""
    if PackageLocator not in caching.CacheImpl._locator_classes:
        caching.CacheImpl._locator_classes.insert(0, PackageLocator)
