"""Benchmarks of the engine: one script per figure, run with `python -m bench.<name>`."""
