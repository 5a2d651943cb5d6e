"""Staff-removal ground truth and benchmark: ``python -m bench.staves``."""
