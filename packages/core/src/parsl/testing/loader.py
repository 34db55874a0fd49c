"""``Loader``: load DataFlowKernels in a test and always clean them up.

The ``load`` fixture of this repository's test suites is one line around it::

    @pytest.fixture
    def load(tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with Loader(str(tmp_path / "runinfo")) as loader:
            yield loader
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self  # annotations only

__all__ = ["Loader"]


class Loader:
    """``loader(config=None, **config_kwargs)`` loads a Config and returns its DataFlowKernel.

    Without ``config`` it builds one from ``config_kwargs`` with defaults for tests: a
    4-thread ThreadPoolExecutor labelled ``threads``, ``run_dir`` and no scaling strategy.
    On exit every kernel it loaded is cleaned up and ``parsl.clear()`` is called.
    """

    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir
        self.loaded: list[Any] = []

    def __call__(self, config: Any = None, **kwargs: Any) -> Any:
        import parsl
        from parsl.config import Config
        from parsl.executors.threads import ThreadPoolExecutor

        if config is None:
            kwargs.setdefault("executors", [ThreadPoolExecutor(label="threads", max_threads=4)])
            kwargs.setdefault("run_dir", self.run_dir)
            kwargs.setdefault("strategy", "none")
            config = Config(**kwargs)
        dfk = parsl.load(config)
        self.loaded.append(dfk)
        return dfk

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        import parsl

        for dfk in self.loaded:
            if not dfk.cleanup_called:
                dfk.cleanup()
        parsl.clear()
