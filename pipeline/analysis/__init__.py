"""Analysis of a sweep's Parquet dataset: tipping thresholds, phase diagrams, sensitivity,
hysteresis and early warnings, and the report (docs/ANALYSIS.md)."""
