"""``parsl-perf``: measure task throughput of a configuration."""
