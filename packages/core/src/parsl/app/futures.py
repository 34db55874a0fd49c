"""``DataFuture``: the future of a file an app produces (``parsl.app.futures``)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from parsl.data_provider.files import File

__all__ = ["DataFuture"]


class DataFuture(Future[File]):
    """A future for a :class:`File` written by an app.

    It completes with the File when the producing app (``app_fut``) succeeds, and with the
    app's exception when it fails. Pass it to another app's ``inputs=`` to depend on it.
    """

    def __init__(self, fut: Future[Any], file_obj: File, tid: int | None = None) -> None:
        super().__init__()
        if not isinstance(file_obj, File):
            raise TypeError(f"DataFuture needs a File, not {type(file_obj).__name__}")
        self._tid = tid
        self.file_obj = file_obj
        self.parent = fut
        fut.add_done_callback(self.parent_callback)

    def parent_callback(self, parent_fu: Future[Any]) -> None:
        if parent_fu.cancelled():
            Future.cancel(self)  # the app that would write the file was cancelled
            return
        e = parent_fu.exception()
        if e is not None:
            self.set_exception(e)
        else:
            self.set_result(self.file_obj)

    @property
    def tid(self) -> int | None:
        return self._tid

    @property
    def filepath(self) -> str:
        return self.file_obj.filepath

    @property
    def filename(self) -> str:
        return self.filepath

    def cancel(self) -> bool:
        raise NotImplementedError("Cancel the app that produces the file: its AppFuture.cancel()")

    def running(self) -> bool:
        parent = self.parent
        return parent.running() if parent is not None else False

    def __repr__(self) -> str:
        done = "done" if self.done() else "not done"
        return (
            f"<{type(self).__module__}.{type(self).__qualname__} object at {hex(id(self))} "
            f"representing {self.file_obj!r} {done}>"
        )
