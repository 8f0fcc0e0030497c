"""madoguchi's benchmark: a load generator in several processes, the servers it measures, and
the six measurements of docs/benchmarks.md. Run it with ``./scripts/bench``."""
