"""Scripts that print figures (python -m benchmarks.<name>)."""
