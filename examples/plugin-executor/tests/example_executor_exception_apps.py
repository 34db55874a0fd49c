"""Apps and exceptions for test_task_exceptions.py, in a module of their own so the worker
subprocess can import them by name (a test module's importlib name is not importable there)."""

from __future__ import annotations

from parsl import python_app


class Tagged(Exception):
    def __init__(self, tag: str):
        super().__init__(tag)
        self.tag = tag


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("refuses to be pickled")


@python_app
def fail_deep(tag: str) -> None:
    def inner_helper_frame() -> None:
        try:
            raise KeyError("the cause")
        except KeyError as e:
            raise Tagged(tag) from e

    inner_helper_frame()


@python_app
def fail_unpicklable() -> None:
    raise Unpicklable("cannot travel")
