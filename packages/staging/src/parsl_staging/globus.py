"""Globus staging (``parsl.data_provider.globus``): Files named ``globus://<endpoint>/<path>``.

An executor's ``storage_access`` names the Globus endpoint (collection) that sees its
filesystem: ``GlobusStaging(endpoint_uuid, endpoint_path=None, local_path=None)``. Stage-in
transfers the File from its endpoint to the executor's endpoint before the app; stage-out
transfers the app's output back after it. Transfers are submitted and waited on from the
workflow's own process (the kernel's internal executor); a transfer that is rejected or
ends without succeeding fails the File's task with
:class:`~parsl_staging.errors.GlobusTransferError`. Needs ``pip install 'parslcore[globus]'``
and a login (``parsl-globus-auth``), or an ``authorizer=`` of your own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parsl.data_provider.files import File
from parsl.data_provider.staging import Staging
from parsl.executors.base import INTERNAL_EXECUTOR_LABEL
from parsl.utils import RepresentationMixin
from parsl_staging.errors import GlobusTransferError
from parsl_staging.globus_auth import get_authorizer, import_globus_sdk, main
from parsl_staging.local_paths import assign_local_path, staging_root

if TYPE_CHECKING:
    from parsl.app.futures import DataFuture
    from parsl.data_provider.data_manager import DataManager

__all__ = ["Globus", "GlobusStaging", "cli_run", "get_globus"]

logger = logging.getLogger(__name__)


cli_run = main


class Globus:
    """Submit Globus transfers and wait for them, with one authorizer.

    ``Globus()`` uses the stored login (logging in interactively when there is none);
    ``Globus(authorizer)`` uses any ``globus_sdk`` authorizer (client credentials, a
    ``GlobusApp``-made one, ...).
    """

    def __init__(self, authorizer: Any = None, poll_period: float = 10.0) -> None:
        self.authorizer = authorizer if authorizer is not None else get_authorizer()
        self.poll_period = poll_period
        self._client: Any = None

    def _transfer_client(self) -> Any:
        if self._client is None:
            self._client = import_globus_sdk().TransferClient(authorizer=self.authorizer)
        return self._client

    def transfer_file(
        self, src_ep: str, dst_ep: str, src_path: str, dst_path: str, url: str | None = None
    ) -> None:
        """Copy one file between endpoints; return when it succeeded, raise if it did not."""
        globus_sdk = import_globus_sdk()
        url = url or f"globus://{src_ep}{src_path}"
        route = f"globus://{src_ep}{src_path} -> globus://{dst_ep}{dst_path}"
        tc = self._transfer_client()
        data = globus_sdk.TransferData(
            source_endpoint=src_ep, destination_endpoint=dst_ep, label="parsl staging"
        )
        data.add_item(src_path, dst_path)
        try:
            task_id = tc.submit_transfer(data)["task_id"]
        except globus_sdk.GlobusAPIError as e:
            raise GlobusTransferError(
                url, f"the transfer {route} was rejected: {e.http_status} {e.code}: {e.message}"
            ) from e
        except globus_sdk.GlobusError as e:
            raise GlobusTransferError(url, f"cannot submit the transfer {route}: {e}") from e
        logger.debug("Globus task %s: %s", task_id, route)
        reported: set[str] = set()
        try:
            while True:
                task = tc.get_task(task_id)
                status = task["status"]
                if status != "ACTIVE":
                    break
                nice = task.get("nice_status")
                if nice not in (None, "OK", "Queued"):
                    # Globus retries faults (permission, endpoint down) until the deadline; say so
                    for event in self._errors(tc, task_id):
                        key = f"{event.get('time')} {event.get('code')}"
                        if key not in reported:
                            reported.add(key)
                            logger.warning(
                                "Globus task %s (%s) is retrying after: %s %s",
                                task_id,
                                route,
                                event.get("description"),
                                event.get("details"),
                            )
                time.sleep(self.poll_period)
        except globus_sdk.GlobusError as e:
            raise GlobusTransferError(url, f"lost track of Globus task {task_id} ({route}): {e}") from e
        if status == "SUCCEEDED":
            return
        detail = ""
        try:
            errors = self._errors(tc, task_id)
            if errors:
                detail = f": {errors[0].get('description')} {errors[0].get('details') or ''}".rstrip()
        except globus_sdk.GlobusError as e:
            logger.debug("Could not read the errors of Globus task %s: %s", task_id, e)
        raise GlobusTransferError(
            url,
            f"Globus task {task_id} ({route}) ended {status}"
            f"{detail or ' (' + str(task.get('nice_status')) + ')'}",
        )

    @staticmethod
    def _errors(tc: Any, task_id: str) -> list[dict[str, Any]]:
        events = tc.task_event_list(task_id, limit=10)
        return [dict(e) for e in events if e.get("is_error")]


_shared: Globus | None = None
_shared_lock = threading.Lock()


def get_globus() -> Globus:
    """The process-wide :class:`Globus` using the stored login (made on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Globus()
        return _shared


def _globus_stage_in(
    provider: GlobusStaging, dst_path: str, parent_fut: Any = None, outputs: Any = ()
) -> None:
    file = outputs[0]
    provider.globus().transfer_file(file.netloc, provider.endpoint_uuid, file.path, dst_path, url=file.url)


def _globus_stage_out(provider: GlobusStaging, src_path: str, file: File) -> None:
    provider.globus().transfer_file(provider.endpoint_uuid, file.netloc, src_path, file.path, url=file.url)


def _make_dir_then_run(file: File, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    os.makedirs(os.path.dirname(file.local_path or "") or ".", exist_ok=True)
    return func(*args, **kwargs)


class GlobusStaging(Staging, RepresentationMixin):
    """Stage ``globus://`` Files to and from the Globus endpoint that sees an executor's files.

    Staged files live under the executor's ``working_dir`` (else the run directory), which
    the endpoint must be able to reach::

        HighThroughputExecutor(working_dir="/home/me/parsl_work",
                               storage_access=default_staging + [GlobusStaging(
                                   endpoint_uuid="7d2dc622-2edb-11e8-b8be-0ac6873fc732",
                                   endpoint_path="/", local_path="/home/me")])

    :param endpoint_uuid: the UUID of that endpoint (collection).
    :param endpoint_path: with ``local_path``: the endpoint's path for the local directory
        ``local_path`` (for endpoints that present the filesystem from another root, such as
        shared endpoints). Give both or neither; without them paths are the same on both.
    :param local_path: the local directory that ``endpoint_path`` names.
    :param authorizer: a ``globus_sdk`` authorizer to use instead of the stored login.
    :param poll_period: seconds between checks of a running transfer.
    """

    PLUGIN_NAME = "globus"

    def __init__(
        self,
        endpoint_uuid: str,
        endpoint_path: str | None = None,
        local_path: str | None = None,
        *,
        authorizer: Any = None,
        poll_period: float = 10.0,
    ) -> None:
        if not isinstance(endpoint_uuid, (str, uuid.UUID)) or not str(endpoint_uuid).strip():
            raise ValueError(
                f"GlobusStaging needs endpoint_uuid, the UUID of the Globus endpoint that "
                f"sees the executor's files, not {endpoint_uuid!r}"
            )
        try:
            uuid.UUID(str(endpoint_uuid))
        except ValueError:
            raise ValueError(
                f"GlobusStaging endpoint_uuid={endpoint_uuid!r} is not a UUID; copy the "
                f"endpoint's UUID from the Globus web app's collection page"
            ) from None
        if (endpoint_path is None) != (local_path is None):
            raise ValueError(
                "GlobusStaging takes endpoint_path and local_path together (the endpoint's "
                "name for a local directory); give both or neither, got "
                f"endpoint_path={endpoint_path!r}, local_path={local_path!r}"
            )
        for name, value in (("endpoint_path", endpoint_path), ("local_path", local_path)):
            if value is not None and (not isinstance(value, str) or not value.startswith("/")):
                raise ValueError(f"GlobusStaging {name}= must be an absolute path, not {value!r}")
        if not isinstance(poll_period, (int, float)) or poll_period <= 0:
            raise ValueError(f"poll_period= must be a positive number of seconds, not {poll_period!r}")
        import_globus_sdk()  # fail here, where Globus was asked for, if the extra is missing
        self.endpoint_uuid = str(endpoint_uuid)
        self.endpoint_path = endpoint_path
        self.local_path = local_path
        self.authorizer = authorizer
        self.poll_period = poll_period
        self._globus: Globus | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_globus"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def globus(self) -> Globus:
        """The :class:`Globus` this provider transfers with (logging in on first use)."""
        with self._lock:
            if self._globus is None:
                # without an authorizer of its own, every provider shares the process's login
                auth = self.authorizer if self.authorizer is not None else get_globus().authorizer
                self._globus = Globus(auth, poll_period=self.poll_period)
            return self._globus

    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "globus"

    def can_stage_out(self, file: File) -> bool:
        return file.scheme == "globus"

    def _local_path(self, file: File, dm: DataManager, executor: str) -> str:
        if file.local_path is None and not os.path.isabs(staging_root(dm, executor)):
            file.local_path = os.path.abspath(assign_local_path(file, dm, executor))
        return assign_local_path(file, dm, executor)

    def endpoint_path_of(self, local: str) -> str:
        """The path the endpoint uses for the local path ``local``."""
        local = os.path.normpath(local)
        if self.local_path is None or self.endpoint_path is None:
            return local
        root = os.path.normpath(self.local_path)
        if os.path.commonpath([root, local]) != root:
            raise ValueError(
                f"GlobusStaging local_path={self.local_path!r} does not contain {local!r}, "
                f"where the file is staged; set the executor's working_dir under "
                f"{self.local_path!r}"
            )
        return os.path.normpath(os.path.join(self.endpoint_path, os.path.relpath(local, root)))

    def stage_in(self, dm: DataManager, executor: str, file: File, parent_fut: Any) -> DataFuture:
        dst = self.endpoint_path_of(self._local_path(file, dm, executor))
        app = dm.staging_app(_globus_stage_in, INTERNAL_EXECUTOR_LABEL)
        fut = app(self, dst, parent_fut=parent_fut, outputs=[file], _parsl_staging_inhibit=True)
        return fut.outputs[0]

    def replace_task_stage_out(
        self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]
    ) -> Callable[..., Any]:
        import functools

        self._local_path(file, dm, executor)
        return functools.update_wrapper(functools.partial(_make_dir_then_run, file, func), func)

    def stage_out(self, dm: DataManager, executor: str, file: File, app_fu: Any) -> Any:
        from parsl.app.futures import DataFuture

        src = self.endpoint_path_of(self._local_path(file, dm, executor))
        app = dm.staging_app(_globus_stage_out, INTERNAL_EXECUTOR_LABEL)
        return app(
            self, src, DataFuture(app_fu, file, tid=getattr(app_fu, "tid", None)), _parsl_staging_inhibit=True
        )
