"""The sweep pipeline: config -> run table -> Dask -> Parquet -> analysis."""
