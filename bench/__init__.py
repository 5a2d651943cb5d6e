"""Benchmarks: engine overhead and throughput (``python -m bench.engine``)."""
