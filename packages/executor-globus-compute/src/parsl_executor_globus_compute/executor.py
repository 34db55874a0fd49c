"""``GlobusComputeExecutor``: hand Parsl tasks to a Globus Compute endpoint through the SDK.

A thin adapter over a ``globus_compute_sdk.Executor`` the user builds (it names the endpoint
and holds the credentials). ``submit`` puts the task's resource specification, and its
``user_endpoint_config`` if it has one, on the SDK executor, submits, and restores the
defaults the SDK executor had when this executor was made; the future it returns is the
SDK's own ``ComputeFuture``. Functions, arguments and results travel with the SDK's
serializers; a task that raises on the endpoint fails with the SDK's ``TaskExecutionFailed``,
whose message carries the remote traceback.

The SDK is imported when an executor is made, not when this module is: listing plugins or
resolving other names must not pay for it (importing it also starts an SDK thread).
"""

from __future__ import annotations

import copy
import importlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from parsl.errors import ConfigurationError, OptionalModuleMissing, type_check_error
from parsl.executors.base import ParslExecutor
from parsl.utils import RepresentationMixin

if TYPE_CHECKING:
    from globus_compute_sdk import Executor as SDKExecutor

__all__ = ["INSTALL_HINT", "USER_ENDPOINT_CONFIG", "GlobusComputeExecutor"]

logger = logging.getLogger(__name__)

#: what to run when the Globus Compute SDK is missing
INSTALL_HINT = "pip install 'parslcore[globus-compute]'"

#: the resource-specification key that goes to the SDK's ``user_endpoint_config`` instead
USER_ENDPOINT_CONFIG = "user_endpoint_config"


def sdk_executor_class() -> type:
    """``globus_compute_sdk.Executor``; OptionalModuleMissing naming the install line if absent."""
    try:
        from globus_compute_sdk import Executor
    except ImportError as e:
        raise OptionalModuleMissing(
            ["globus-compute-sdk"],
            f"GlobusComputeExecutor drives a globus_compute_sdk.Executor and the Globus Compute SDK "
            f"cannot be imported ({e}). Install it with: {INSTALL_HINT}",
        ) from e
    return Executor


class GlobusComputeExecutor(ParslExecutor, RepresentationMixin):
    """Run tasks on a Globus Compute endpoint through a ``globus_compute_sdk.Executor``.

    Parameters: ``executor`` (a ``globus_compute_sdk.Executor`` bound to an endpoint, e.g.
    ``Executor(endpoint_id="...")``), ``label`` (default ``'GlobusComputeExecutor'``),
    ``storage_access`` (staging providers) and ``working_dir``.

    A task's ``parsl_resource_specification`` replaces the SDK executor's
    ``resource_specification`` for that task; a ``user_endpoint_config`` key in it replaces
    the SDK executor's ``user_endpoint_config`` (multi-user endpoints). Tasks without one get
    the values the SDK executor had when this executor was made. The endpoint, not Parsl,
    decides which keys it accepts.

    ``shutdown()`` does not wait for tasks: tasks not yet sent to Globus Compute are
    cancelled, and so are those still waiting for a result.
    """

    PLUGIN_NAME = "globus_compute"

    def __init__(
        self,
        executor: SDKExecutor,
        label: str = "GlobusComputeExecutor",
        storage_access: Sequence[Any] | None = None,
        working_dir: str | None = None,
    ) -> None:
        sdk_class = sdk_executor_class()
        if not isinstance(executor, sdk_class):
            raise type_check_error(
                f"GlobusComputeExecutor(executor={executor!r}): expected a globus_compute_sdk.Executor, "
                f"got {type(executor).__qualname__}. Pass one bound to your endpoint: "
                f"GlobusComputeExecutor(executor=globus_compute_sdk.Executor(endpoint_id='<endpoint uuid>'))"
            )
        if not isinstance(label, str) or not label:
            raise type_check_error(f"GlobusComputeExecutor(label={label!r}): use a non-empty string")
        if storage_access is not None and (
            isinstance(storage_access, (str, bytes)) or not isinstance(storage_access, Sequence)
        ):
            raise type_check_error(
                f"GlobusComputeExecutor(storage_access={storage_access!r}): use a list of staging "
                f"providers, e.g. storage_access=[HTTPInTaskStaging()], or None"
            )
        if working_dir is not None and not isinstance(working_dir, str):
            raise type_check_error(
                f"GlobusComputeExecutor(working_dir={working_dir!r}): use a path string or None"
            )
        super().__init__()
        self.executor = executor
        self.label = label
        self.storage_access = list(storage_access) if storage_access is not None else None
        self.working_dir = working_dir
        # The defaults every task without its own specification gets, as configured now.
        self.resource_specification = executor.resource_specification
        self.user_endpoint_config = executor.user_endpoint_config
        # submit() changes the SDK executor's attributes around its call: one submit at a time
        # (the DataFlowKernel submits from whichever thread made a task ready). The SDK's own
        # first-use function registration is not safe to race either.
        self._submit_lock = threading.Lock()
        self._shut_down = False

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        """Check that the SDK executor can take tasks: not shut down and bound to an endpoint."""
        if self._shut_down or getattr(self.executor, "_stopped", False):
            raise ConfigurationError(
                f"GlobusComputeExecutor {self.label!r}: its globus_compute_sdk.Executor has been shut "
                f"down (a Config is loaded once per executor); make a new globus_compute_sdk.Executor "
                f"and GlobusComputeExecutor for this Config"
            )
        if getattr(self.executor, "endpoint_id", None) is None:
            raise ConfigurationError(
                f"GlobusComputeExecutor {self.label!r}: its globus_compute_sdk.Executor has no "
                f"endpoint_id, so no task could run; create it with "
                f"globus_compute_sdk.Executor(endpoint_id='<endpoint uuid>')"
            )
        logger.debug("GlobusComputeExecutor %s started with %r", self.label, self.executor)

    def submit(
        self, func: Callable[..., Any], resource_specification: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Future:
        """Submit ``func(*args, **kwargs)`` to the endpoint; returns the SDK's ComputeFuture."""
        if self._shut_down:
            raise RuntimeError(
                f"GlobusComputeExecutor {self.label!r} has been shut down; no task can be submitted"
            )
        spec = copy.deepcopy(resource_specification or self.resource_specification)
        endpoint_config = self.user_endpoint_config
        if isinstance(spec, dict):
            endpoint_config = spec.pop(USER_ENDPOINT_CONFIG, endpoint_config)
        sdk = self.executor
        with self._submit_lock:
            try:
                try:
                    sdk.resource_specification = spec
                    sdk.user_endpoint_config = endpoint_config
                except TypeError as e:
                    raise TypeError(
                        f"GlobusComputeExecutor {self.label!r}: parsl_resource_specification="
                        f"{resource_specification!r} cannot be sent to Globus Compute ({e}); use a dict "
                        f"of JSON values, with user_endpoint_config (if any) a dict too"
                    ) from e
                return sdk.submit(func, *args, **kwargs)
            finally:
                sdk.resource_specification = self.resource_specification
                sdk.user_endpoint_config = self.user_endpoint_config

    def shutdown(self) -> None:
        """Stop the SDK executor without waiting for tasks (tasks still open are cancelled)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.executor.shutdown(wait=False, cancel_futures=True)
        _stop_result_watcher(self.executor)
        logger.debug("GlobusComputeExecutor %s shut down", self.label)


def _stop_result_watcher(sdk: Any) -> None:
    """Stop the SDK thread that waits for this executor's results, cancelling what it waits for.

    The watcher is not a daemon thread and would keep the process alive until every open
    task returns. It is shared by all SDK executors of one task group: when another one
    still waits for results, only this executor's futures are cancelled.
    """
    watcher = _live_result_watcher(sdk)
    if watcher is None:
        return
    get_open = getattr(watcher, "get_open_futures", None)
    if get_open is not None:
        ours = get_open(sdk)
        if len(get_open()) > len(ours):
            for fut in ours.values():
                fut.cancel()
            return
    watcher.shutdown(wait=False, cancel_futures=True)


def _live_result_watcher(sdk: Any) -> Any:
    """The running result watcher of ``sdk``'s task group, if any (never starts one)."""
    try:
        module = importlib.import_module("globus_compute_sdk.sdk.executor")
    except ImportError:
        return None
    watchers = getattr(module, "_RESULT_WATCHERS", None)
    if isinstance(watchers, dict):  # current SDKs: one watcher per task group, module-wide
        watcher = watchers.get(getattr(sdk, "task_group_id", None))
    else:  # older SDKs kept it on the executor
        watcher = getattr(sdk, "_result_watcher", None)
    if watcher is None or not callable(getattr(watcher, "shutdown", None)):
        return None
    is_alive = getattr(watcher, "is_alive", None)
    if is_alive is not None and not is_alive():
        return None
    return watcher
