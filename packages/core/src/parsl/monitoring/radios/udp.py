"""``UDPRadio``: messages as UDP datagrams, each signed with an HMAC of a per-run key.

The receiver is a thread in the workflow process bound to ``port`` (any free port when None) on
every interface; it drops datagrams whose HMAC does not verify before unpickling anything.
Senders send ``hmac + pickle(message)`` to ``address:port``. UDP may lose messages.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import pickle
import secrets
import socket
import threading
import time
from typing import Any

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig
from parsl.utils import RepresentationMixin

__all__ = ["UDPRadio", "UDPRadioReceiver", "UDPRadioSender"]

logger = logging.getLogger(__name__)

#: seconds the receiving thread waits on the socket before checking whether to stop
RECEIVE_TICK_S = 0.1
MAX_DATAGRAM = 65535


class UDPRadioSender(MonitoringRadioSender):
    """Sends each message as one signed datagram to ``address:port``."""

    def __init__(
        self, address: str, port: int, hmac_key: bytes, hmac_digest: str, *, timeout: int = 10
    ) -> None:
        self.address = address
        self.port = port
        self.hmac_key = hmac_key
        self.hmac_digest = hmac_digest
        self.sock_timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self.sock.settimeout(timeout)

    def send(self, message: object) -> None:
        try:
            data = pickle.dumps(message)
        except Exception:
            logger.exception("UDPRadioSender cannot pickle a monitoring message; dropped")
            return
        signed = hmac.digest(self.hmac_key, data, self.hmac_digest) + data
        try:
            self.sock.sendto(signed, (self.address, self.port))
        except OSError:
            logger.exception("UDPRadioSender could not send to %s:%s", self.address, self.port)


class UDPRadioReceiver(MonitoringRadioReceiver):
    """Receives signed datagrams on ``sock`` into ``resource_msgs`` until shut down.

    After ``shutdown()`` it keeps receiving until ``atexit_timeout`` seconds pass without a
    datagram, so messages sent just before the end still arrive.
    """

    def __init__(
        self,
        *,
        sock: socket.socket,
        resource_msgs: Any,
        hmac_key: bytes,
        hmac_digest: str,
        atexit_timeout: float,
    ) -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.resource_msgs = resource_msgs
        self.hmac_key = hmac_key
        self.hmac_digest = hmac_digest
        self.atexit_timeout = atexit_timeout
        self._digest_size = hashlib.new(hmac_digest).digest_size
        self._stop = threading.Event()
        sock.settimeout(RECEIVE_TICK_S)
        self.thread = threading.Thread(target=self._run, name="parsl-monitoring-udp-radio", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._receive_one()
            quiet_since = time.monotonic()
            while time.monotonic() - quiet_since < self.atexit_timeout:
                if self._receive_one():
                    quiet_since = time.monotonic()
        finally:
            self.sock.close()

    def _receive_one(self) -> bool:
        try:
            datagram, sender = self.sock.recvfrom(MAX_DATAGRAM)
        except TimeoutError:
            return False
        except OSError:
            logger.exception("UDPRadioReceiver socket error")
            self._stop.set()
            return False
        tag, data = datagram[: self._digest_size], datagram[self._digest_size :]
        expected = hmac.digest(self.hmac_key, data, self.hmac_digest)
        if len(tag) != self._digest_size or not hmac.compare_digest(tag, expected):
            # network noise or a sender with another key: never unpickle it
            logger.error("UDPRadioReceiver dropped a datagram from %s whose HMAC does not match", sender)
            return True
        try:
            self.resource_msgs.put(pickle.loads(data))
        except Exception:
            logger.exception("UDPRadioReceiver could not unpickle a signed message from %s", sender)
        return True

    def shutdown(self) -> None:
        self._stop.set()
        self.thread.join()


class UDPRadio(RadioConfig, RepresentationMixin):
    """Monitoring messages over UDP to ``address`` (the workflow host as workers reach it)."""

    def __init__(
        self,
        *,
        port: int | None = None,
        atexit_timeout: int = 3,
        address: str,
        debug: bool = False,
        hmac_digest: str = "sha512",
    ) -> None:
        try:
            hashlib.new(hmac_digest)
        except ValueError as e:
            raise ValueError(
                f"UDPRadio(hmac_digest={hmac_digest!r}): not a hash hashlib knows; "
                f"use e.g. 'sha512' or 'sha256'"
            ) from e
        self.port = port
        self.atexit_timeout = atexit_timeout
        self.address = address
        self.debug = debug
        self.hmac_digest = hmac_digest
        self.hmac_key: bytes | None = None

    def create_receiver(self, *, run_dir: str, resource_msgs: Any) -> MonitoringRadioReceiver:
        # a fresh key per run, as long as the digest (RFC 2104 section 3)
        self.hmac_key = secrets.token_bytes(hashlib.new(self.hmac_digest).digest_size)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.bind(("0.0.0.0", self.port or 0))
        except OSError as e:
            sock.close()
            raise RuntimeError(
                f"UDPRadio cannot listen on UDP port {self.port}: {e}; "
                f"choose another port= or leave it out to use any free port"
            ) from e
        receiver = UDPRadioReceiver(
            sock=sock,
            resource_msgs=resource_msgs,
            hmac_key=self.hmac_key,
            hmac_digest=self.hmac_digest,
            atexit_timeout=self.atexit_timeout,
        )
        self.port = receiver.port
        return receiver

    def create_sender(self) -> MonitoringRadioSender:
        if self.port is None or self.hmac_key is None:
            raise RuntimeError("UDPRadio.create_sender() needs create_receiver() called first")
        return UDPRadioSender(self.address, self.port, self.hmac_key, self.hmac_digest)
