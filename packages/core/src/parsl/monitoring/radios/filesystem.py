"""``FilesystemRadio``: messages as files in a shared directory (``<run_dir>/monitor-fs-radio``).

A sender pickles each message into ``tmp/`` and renames it into ``new/`` (a rename is atomic,
so the receiver never reads half a file); the receiver, a thread in the workflow process,
scans ``new/`` every ``POLL_PERIOD_S`` seconds, queues what it finds and deletes the files.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
import uuid
from typing import Any

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig
from parsl.utils import RepresentationMixin

__all__ = ["FilesystemRadio", "FilesystemRadioReceiver", "FilesystemRadioSender"]

logger = logging.getLogger(__name__)

#: seconds between two scans of the message directory
POLL_PERIOD_S = 1.0


def _directories(run_dir: str) -> tuple[str, str]:
    base = os.path.join(run_dir, "monitor-fs-radio")
    return os.path.join(base, "tmp"), os.path.join(base, "new")


class FilesystemRadioSender(MonitoringRadioSender):
    """Writes each message as one file under ``run_dir`` (which must be shared with the receiver)."""

    def __init__(self, *, run_dir: str) -> None:
        self.tmp_path, self.new_path = _directories(run_dir)
        os.makedirs(self.tmp_path, exist_ok=True)
        os.makedirs(self.new_path, exist_ok=True)

    def send(self, message: object) -> None:
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}"  # names sort in writing order
        tmp = os.path.join(self.tmp_path, name)
        try:
            with open(tmp, "wb") as f:
                pickle.dump(message, f)
            os.replace(tmp, os.path.join(self.new_path, name))
        except Exception:
            logger.exception("FilesystemRadioSender could not write a monitoring message")


class FilesystemRadioReceiver(MonitoringRadioReceiver):
    """Moves message files into ``resource_msgs`` until shut down (then makes one last pass)."""

    def __init__(self, resource_msgs: Any, run_dir: str) -> None:
        self.resource_msgs = resource_msgs
        _, self.new_path = _directories(run_dir)
        os.makedirs(self.new_path, exist_ok=True)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="parsl-monitoring-fs-radio", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(POLL_PERIOD_S)
            self._scan()  # after the stop flag too: files written before shutdown are not lost
            if stopping:
                return

    def _scan(self) -> None:
        try:
            names = sorted(os.listdir(self.new_path))
        except OSError:
            logger.exception("FilesystemRadioReceiver cannot list %s", self.new_path)
            return
        for name in names:
            path = os.path.join(self.new_path, name)
            try:
                with open(path, "rb") as f:
                    message = pickle.load(f)
                self.resource_msgs.put(message)
                os.remove(path)
            except Exception:
                logger.exception("FilesystemRadioReceiver could not read %s; will try again", path)

    def shutdown(self) -> None:
        self._stop.set()
        self.thread.join()


class FilesystemRadio(RadioConfig, RepresentationMixin):
    """Monitoring messages over a shared filesystem: slower than UDP, but nothing is lost."""

    def create_receiver(self, *, run_dir: str, resource_msgs: Any) -> MonitoringRadioReceiver:
        self.run_dir = run_dir
        return FilesystemRadioReceiver(resource_msgs, run_dir)

    def create_sender(self) -> MonitoringRadioSender:
        run_dir = getattr(self, "run_dir", None)
        if run_dir is None:
            raise RuntimeError("FilesystemRadio.create_sender() needs create_receiver() called first")
        return FilesystemRadioSender(run_dir=run_dir)
