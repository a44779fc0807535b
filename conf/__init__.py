"""Hydra config tree of segmark (YAML files only; the schemas live in segmark.pipeline.config)."""
