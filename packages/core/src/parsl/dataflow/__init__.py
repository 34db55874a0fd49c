"""The DataFlowKernel: dependency tracking, task launch, retries and memoization."""
