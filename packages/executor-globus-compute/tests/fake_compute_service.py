"""An in-process stand-in for the Globus Compute service, for tests that cannot reach the real one.

The real SDK runs unchanged: a real ``globus_compute_sdk.Client`` (with a null authorizer and
no version check) whose web-API object is replaced by :class:`FakeComputeService`, and a real
``globus_compute_sdk.Executor`` with its task-submitter thread and its AMQP result watcher.
What is faked is what lives on Globus' side of the network:

- the web API calls the SDK makes (``register_function``, ``submit``, ``get_result_amqp_url``),
  answered as the service answers them and recorded (``functions``, ``submissions``);
- the endpoint: each submitted task is decoded with the SDK's serializer and run on a local
  thread pool; its outcome is packed as the endpoint packs it (a ``Result`` message holding
  the serialized value, or the formatted traceback with ``error_details``);
- the AMQP broker: ``pika.SelectConnection`` is wrapped so that a connection to one of these
  services' hosts gets an in-process connection, channel and I/O loop that deliver the result
  messages to the SDK's consumer callback (any other host goes to the real pika).
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import globus_sdk
import pika
import pika.exceptions
from globus_compute_common import messagepack
from globus_compute_common.messagepack.message_types import Result, ResultErrorDetails
from globus_compute_sdk import Client, Executor
from globus_compute_sdk.serialize import ComputeSerializer

__all__ = ["FakeComputeService"]

_SERVICES: dict[str, FakeComputeService] = {}
_REAL_SELECT_CONNECTION = pika.SelectConnection
_QUEUE_PREFIX = "fake-results."


class _Response:
    """What the SDK reads from a globus_sdk response: ``.data`` and item access."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


class _V2:
    def __init__(self, service: FakeComputeService) -> None:
        self._service = service

    def get_result_amqp_url(self) -> _Response:
        return _Response(
            {
                "queue_prefix": _QUEUE_PREFIX,
                "connection_url": f"amqp://user:secret@{self._service.host}:5672/",
            }
        )


class _V3:
    def __init__(self, service: FakeComputeService) -> None:
        self._service = service

    def register_function(self, data: dict[str, Any]) -> _Response:
        return _Response({"function_uuid": self._service._register(data)})

    def submit(self, endpoint_id: Any, data: dict[str, Any]) -> _Response:
        return _Response(self._service._submit(str(endpoint_id), data))


class FakeComputeService:
    """The Globus Compute web service, one endpoint and the AMQP result stream, in this process."""

    def __init__(self, workers: int = 2) -> None:
        self.host = f"compute-{uuid.uuid4().hex[:12]}.fake-client.invalid"
        self.endpoint_id = str(uuid.uuid4())
        self.v2 = _V2(self)
        self.v3 = _V3(self)
        #: function uuid -> the registration request (function_name, function_code, ...)
        self.functions: dict[str, dict[str, Any]] = {}
        #: every batch as the SDK sent it, with the endpoint it named
        self.submissions: list[dict[str, Any]] = []
        #: task id -> the (resource_specification, user_endpoint_config) it was submitted with
        self.task_specs: dict[str, tuple[Any, Any]] = {}
        self.serializer = ComputeSerializer()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="fake-compute-endpoint")
        self._queues: dict[str, queue.SimpleQueue] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._executors: list[Executor] = []
        _install_fake_amqp()
        _SERVICES[self.host] = self

    # -- the SDK side ------------------------------------------------------
    def client(self) -> Client:
        """A real SDK Client that talks to this service instead of Globus."""
        client = Client(authorizer=globus_sdk.NullAuthorizer(), do_version_check=False)
        client._compute_web_client = self  # the object whose .v2/.v3 the Client calls
        return client

    def sdk_executor(self, **kwargs: Any) -> Executor:
        """A real ``globus_compute_sdk.Executor`` bound to this service's endpoint.

        Each gets its own task group (the SDK otherwise shares one process-wide, and with it
        the result watcher) and a burst limit that does not slow a test's many small batches.
        """
        kwargs.setdefault("endpoint_id", self.endpoint_id)
        kwargs.setdefault("task_group_id", uuid.uuid4())
        kwargs.setdefault("api_burst_limit", 8)
        kwargs.setdefault("api_burst_window_s", 1)
        executor = Executor(client=self.client(), **kwargs)
        self._executors.append(executor)
        return executor

    def close(self) -> None:
        """Shut down the SDK executors made here and their result watchers, stop the endpoint's
        pool (tasks not started are dropped) and forget this host."""
        from globus_compute_sdk.sdk.executor import _RESULT_WATCHERS

        self._closed = True
        for executor in self._executors:
            executor.shutdown(wait=False, cancel_futures=True)
            watcher = _RESULT_WATCHERS.get(executor.task_group_id)
            if watcher is not None:
                watcher.shutdown(wait=False, cancel_futures=True)
        self._pool.shutdown(wait=False, cancel_futures=True)
        _SERVICES.pop(self.host, None)

    # -- the web API -------------------------------------------------------
    def _register(self, data: dict[str, Any]) -> str:
        function_id = str(uuid.uuid4())
        with self._lock:
            self.functions[function_id] = data
        return function_id

    def _submit(self, endpoint_id: str, data: dict[str, Any]) -> dict[str, Any]:
        if self._closed:
            raise RuntimeError("the fake Globus Compute service is closed")
        task_group_id = data.get("task_group_id") or str(uuid.uuid4())
        spec = (data.get("resource_specification"), data.get("user_endpoint_config"))
        tasks: dict[str, list[str]] = {}
        with self._lock:
            self.submissions.append({"endpoint_id": endpoint_id, **data})
            for function_id, payloads in data["tasks"].items():
                code = self.functions[function_id]["function_code"]
                ids = tasks[function_id] = []
                for payload in payloads:
                    task_id = str(uuid.uuid4())
                    ids.append(task_id)
                    self.task_specs[task_id] = spec
                    self._pool.submit(self._run_task, _QUEUE_PREFIX + task_group_id, task_id, code, payload)
        return {
            "tasks": tasks,
            "task_group_id": task_group_id,
            "request_id": str(uuid.uuid4()),
            "endpoint_id": endpoint_id,
        }

    # -- the endpoint ------------------------------------------------------
    def _run_task(self, queue_name: str, task_id: str, function_code: str, payload: str) -> None:
        serde = self.serializer
        try:
            func = serde.deserialize(serde.unpack_buffers(function_code)[0])
            args, kwargs = (serde.deserialize(b) for b in serde.unpack_buffers(payload))
            try:
                value = func(*args, **kwargs)
            except BaseException as e:
                # the endpoint reports the task's own frames, not its machinery's
                e.__traceback__ = e.__traceback__.tb_next if e.__traceback__ else None
                raise
            message = Result(task_id=task_id, data=serde.serialize(value))
        except BaseException as e:
            text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            message = Result(
                task_id=task_id,
                data=text,
                error_details=ResultErrorDetails(
                    code="RemoteExecutionError", user_message=f"{type(e).__name__}: {e}"
                ),
            )
        self._queue(queue_name).put(messagepack.pack(message))

    # -- the broker --------------------------------------------------------
    def _queue(self, name: str) -> queue.SimpleQueue:
        with self._lock:
            q = self._queues.get(name)
            if q is None:
                q = self._queues[name] = queue.SimpleQueue()
            return q


# -- AMQP, in process --------------------------------------------------------------------------


def _install_fake_amqp() -> None:
    if pika.SelectConnection is _REAL_SELECT_CONNECTION:
        pika.SelectConnection = _select_connection  # type: ignore[misc,assignment]


def _select_connection(parameters: Any, *args: Any, **kwargs: Any) -> Any:
    service = _SERVICES.get(getattr(parameters, "host", None))
    if service is None:
        return _REAL_SELECT_CONNECTION(parameters, *args, **kwargs)
    return _Connection(service, parameters, **kwargs)


class _IOLoop:
    """pika's ``ioloop``: timers plus message delivery, run on the thread that calls ``start``."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self._timers: list[tuple[float, int, Callable[[], Any]]] = []
        self._seq = itertools.count()
        self._stopping = False

    def call_later(self, delay: float, callback: Callable[[], Any]) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), callback))

    def stop(self) -> None:
        self._stopping = True

    def start(self) -> None:
        self._stopping = False
        while not self._stopping:
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now and not self._stopping:
                heapq.heappop(self._timers)[2]()
            if self._stopping:
                return
            wait = 0.05 if not self._timers else min(0.05, max(0.0, self._timers[0][0] - time.monotonic()))
            self._connection._deliver(wait)


class _Deliver:
    def __init__(self, delivery_tag: int) -> None:
        self.delivery_tag = delivery_tag


class _Properties:
    headers = None
    timestamp = None


class _Connection:
    """pika's ``SelectConnection`` to one FakeComputeService."""

    def __init__(
        self,
        service: FakeComputeService,
        parameters: Any,
        on_open_callback: Any = None,
        on_open_error_callback: Any = None,
        on_close_callback: Any = None,
        **_: Any,
    ) -> None:
        self.params = parameters
        self.ioloop = _IOLoop(self)
        self.is_open = False
        self.is_closed = False
        self._service = service
        self._on_close = on_close_callback
        self._channel: _Channel | None = None
        self._tags = itertools.count(1)
        self.ioloop.call_later(0, partial(self._opened, on_open_callback))

    def _opened(self, callback: Any) -> None:
        self.is_open = True
        if callback is not None:
            callback(self)

    def channel(self, on_open_callback: Any = None) -> _Channel:
        channel = self._channel = _Channel(self)
        if on_open_callback is not None:
            self.ioloop.call_later(0, partial(on_open_callback, channel))
        return channel

    def close(self) -> None:
        if self.is_closed:
            return
        self.is_open, self.is_closed = False, True
        if self._on_close is not None:
            reason = pika.exceptions.ConnectionClosedByClient(200, "Normal shutdown")
            self.ioloop.call_later(0, partial(self._on_close, self, reason))

    def _deliver(self, wait: float) -> None:
        """Hand the consumer the next message of its queue, waiting up to ``wait`` seconds."""
        channel = self._channel
        if channel is None or channel._queue is None or not channel.is_open:
            time.sleep(wait)
            return
        try:
            body = channel._queue.get(timeout=wait)
        except queue.Empty:
            return
        channel._consumer(channel, _Deliver(next(self._tags)), _Properties(), body)


class _Channel:
    def __init__(self, connection: _Connection) -> None:
        self.connection = connection
        self.channel_number = 1
        self.is_open, self.is_closed = True, False
        self.acked = 0
        self.nacked: list[int] = []
        self._on_close: list[Any] = []
        self._queue: queue.SimpleQueue | None = None
        self._consumer: Any = None

    def add_on_close_callback(self, callback: Any) -> None:
        self._on_close.append(callback)

    def add_on_cancel_callback(self, callback: Any) -> None:
        pass  # the fake broker never cancels a consumer

    def basic_consume(self, queue: str, on_message_callback: Any, **_: Any) -> str:
        self._queue = self.connection._service._queue(queue)
        self._consumer = on_message_callback
        return "ctag1"

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self.acked = max(self.acked, delivery_tag)

    def basic_nack(self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True) -> None:
        self.nacked.append(delivery_tag)  # the SDK could not read the message: tests assert none

    def close(self) -> None:
        if self.is_closed:
            return
        self.is_open, self.is_closed = False, True
        reason = pika.exceptions.ChannelClosedByClient(200, "Normal shutdown")
        for callback in self._on_close:
            self.connection.ioloop.call_later(0, partial(callback, self, reason))
