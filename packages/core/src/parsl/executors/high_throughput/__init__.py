"""Old import paths of the HighThroughputExecutor (provided by parsl-executor-htex)."""
