"""Apps: the decorators that turn functions into Parsl tasks."""
