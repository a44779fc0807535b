"""The command-line entry points: ``segmark`` (:mod:`.sweep`, a Hydra app; :mod:`.compose`
turns its command line into a config of the chosen model) and ``segmark-refine``
(:mod:`.commands`). The only modules that import Hydra."""

from segmark.pipeline.cli.app import main

__all__ = ["main"]
