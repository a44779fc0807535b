"""Models by name: the ``segmark.models`` entry-point group.

An installed package adds a model with one line in its ``pyproject.toml``::

    [project.entry-points."segmark.models"]
    mine = "mypackage.model:MODEL"

where ``MODEL`` is a :class:`segmark.models.interface.Model`. segmark's own models are
registered the same way (see its ``pyproject.toml``); nothing names a model module in code.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from segmark.models.interface import Model

GROUP = "segmark.models"


class UnknownModel(LookupError):
    """No installed model has that name, or its entry point does not load a Model."""


def _entry_points() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=GROUP)}


def names() -> tuple[str, ...]:
    """The installed models, sorted."""
    return tuple(sorted(_entry_points()))


@cache
def get(name: str) -> Model:
    """The model registered as ``name``."""
    point = _entry_points().get(name)
    if point is None:
        raise UnknownModel(
            f"model={name!r} is not an installed model: choose one of {', '.join(names())} "
            f"(models register under the {GROUP!r} entry-point group; docs/MODELS.md)."
        )
    try:
        model = point.load()
    except Exception as error:  # a broken plugin must not read as a missing one
        raise UnknownModel(
            f"model={name!r}: its entry point {point.value} failed to load: "
            f"{type(error).__name__}: {error}"
        ) from error
    if not isinstance(model, Model) or model.simulate is None:
        raise UnknownModel(
            f"model={name!r}: its entry point {point.value} is not a segmark Model with a "
            "simulate function."
        )
    if model.name != name:
        raise UnknownModel(
            f"model={name!r}: its entry point {point.value} loads the model named "
            f"{model.name!r}; register it under that name."
        )
    return model
