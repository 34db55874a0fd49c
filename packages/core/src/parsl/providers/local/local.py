"""``LocalProvider``: each block is a bash script run on this machine in its own session."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parsl.jobs.states import JobState, JobStatus
from parsl.launchers.launchers import SingleNodeLauncher
from parsl.launchers.wrap import wrap_command
from parsl.providers.base import ExecutionProvider
from parsl.providers.errors import ScriptPathError, SubmitException
from parsl.utils import RepresentationMixin

if TYPE_CHECKING:
    from parsl.channels.base import Channel

logger = logging.getLogger(__name__)

__all__ = ["LocalProvider"]


class LocalProvider(ExecutionProvider, RepresentationMixin):
    """Provide blocks from the local host.

    ``submit`` writes ``<script_dir>/<job_name>.<time>.sh`` (``worker_init``
    followed by the launcher-wrapped command) and starts it with bash in a new
    session, with output in ``<script>.stdout`` / ``<script>.stderr`` and the
    exit code in ``<script>.ec``. The job id is the process id, as a string.

    Parameters
    ----------
    channel : Channel, optional
        Accepted for configurations written for older Parsl and otherwise ignored:
        jobs always run on this machine.
    nodes_per_block : int
        Passed to the launcher (a local block is one node).
    launcher : Launcher
        Wraps the command; the default starts ``tasks_per_node`` copies.
    init_blocks, min_blocks, max_blocks : int
        Blocks at start, and the bounds the scaling strategy keeps to.
    worker_init : str
        Shell commands run before the workers start, e.g. ``'source activate env'``.
    cmd_timeout : int
        Seconds allowed to start a job.
    parallelism : float
        Share (0 to 1) of pending tasks that should get a slot.
    move_files : bool, optional
        Accepted for older configurations; files never need moving here.
    """

    #: Seconds ``cancel`` waits after SIGTERM before sending SIGKILL to the job's process group.
    cancel_grace_period: float = 3.0

    def __init__(
        self,
        channel: Channel | None = None,
        nodes_per_block: int = 1,
        launcher: Callable[..., str] = SingleNodeLauncher(),  # noqa: B008 (shared default, as upstream)
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        worker_init: str = "",
        cmd_timeout: int = 30,
        parallelism: float = 1,
        move_files: bool | None = None,
        walltime: str | None = None,
    ):
        self.channel = channel
        # 0.9-era scripts pass walltime=; local blocks have no scheduler limit to apply it to.
        self.walltime = walltime
        self.nodes_per_block = nodes_per_block
        self.launcher = launcher
        self.init_blocks = init_blocks
        self.min_blocks = min_blocks
        self.max_blocks = max_blocks
        self.worker_init = worker_init
        self.cmd_timeout = cmd_timeout
        self.parallelism = parallelism
        self.move_files = move_files
        if not callable(launcher):
            from parsl.launchers.errors import BadLauncher  # import cycle: it subclasses a provider error

            raise BadLauncher(
                launcher,
                f"LocalProvider launcher is a {type(launcher).__name__}; "
                "use SingleNodeLauncher(), SimpleLauncher() or another callable",
            )
        if channel is not None:
            logger.debug("LocalProvider ignores channel %r: jobs run on this machine", channel)
        self._label = "local"
        self.script_dir: str | None = None
        self._own_script_dir: str | None = None
        # job_id -> {'job_id', 'status': JobStatus, 'proc': Popen, 'script_path', ...}
        self.resources: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    @property
    def label(self) -> str:
        return self._label

    @property
    def status_polling_interval(self) -> int:
        return 5

    def _scripts_directory(self) -> str:
        if self.script_dir:
            os.makedirs(self.script_dir, exist_ok=True)
            return self.script_dir
        if self._own_script_dir is None:
            self._own_script_dir = tempfile.mkdtemp(prefix="parsl-local-")
        return self._own_script_dir

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.localprovider") -> str:
        """Start one block running ``command`` and return its job id (the process id)."""
        self._reap()
        directory = self._scripts_directory()
        job_name = f"{job_name}.{time.time()}"
        base = os.path.abspath(os.path.join(directory, job_name))
        n = 0
        while os.path.exists(base + ".sh"):
            n += 1
            base = os.path.abspath(os.path.join(directory, f"{job_name}.{n}"))
        script_path = base + ".sh"
        paths = {
            "script_path": script_path,
            "stdout_path": script_path + ".stdout",
            "stderr_path": script_path + ".stderr",
            "ec_path": script_path + ".ec",
        }

        launch = wrap_command(self.launcher, command, tasks_per_node, self.nodes_per_block, directory)
        text = f"{self.worker_init}\nexport JOBNAME={shlex.quote(job_name)}\n{launch}\n"
        try:
            with open(script_path, "w") as f:
                f.write(text)
            os.chmod(script_path, 0o700)
        except OSError as e:
            raise ScriptPathError(script_path, e) from e

        # The wrapper records the script's exit code so it survives even if the provider
        # only sees the wrapper's status.
        wrapper = (
            f"/bin/bash {shlex.quote(script_path)}\n"
            f"ec=$?\necho $ec > {shlex.quote(paths['ec_path'])}\nexit $ec\n"
        )
        try:
            with open(paths["stdout_path"], "wb") as out, open(paths["stderr_path"], "wb") as err:
                proc = subprocess.Popen(
                    ["/bin/bash", "-c", wrapper],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
        except OSError as e:
            raise SubmitException(job_name, f"could not start bash: {e}") from e

        job_id = str(proc.pid)
        with self._lock:
            self.resources[job_id] = {
                "job_id": job_id,
                "proc": proc,
                "pgid": proc.pid,
                "status": JobStatus(JobState.RUNNING, **self._out(paths)),
                **paths,
            }
        logger.debug("LocalProvider started job %s: %s", job_id, script_path)
        return job_id

    @staticmethod
    def _out(record: dict[str, Any]) -> dict[str, Any]:
        return {"stdout_path": record["stdout_path"], "stderr_path": record["stderr_path"]}

    def _refresh(self, record: dict[str, Any]) -> JobStatus:
        status: JobStatus = record["status"]
        if status.terminal:
            return status
        rc = record["proc"].poll()
        if rc is None:
            return status
        code = _read_exit_code(record["ec_path"])
        if code is None:
            code = rc if rc >= 0 else 128 - rc  # killed by a signal: report it the way bash would
        if code == 0:
            status = JobStatus(JobState.COMPLETED, exit_code=0, **self._out(record))
        else:
            status = JobStatus(
                JobState.FAILED, message=f"Job exited with code {code}", exit_code=code, **self._out(record)
            )
        record["status"] = status
        return status

    def _reap(self) -> None:
        """Collect finished processes so none is left as a zombie."""
        with self._lock:
            for record in self.resources.values():
                self._refresh(record)

    def status(self, job_ids: list[Any]) -> list[JobStatus]:
        """RUNNING while a job's process lives, then COMPLETED or FAILED with its exit code;
        MISSING for ids this provider never returned."""
        self._reap()
        with self._lock:
            result = []
            for jid in job_ids:
                record = self.resources.get(str(jid))
                if record is None:
                    result.append(JobStatus(JobState.MISSING, message=f"unknown job id {jid!r}"))
                else:
                    result.append(record["status"])
            return result

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Terminate each job's whole process group: SIGTERM, then SIGKILL after a grace period."""
        results: list[bool] = []
        signalled: list[dict[str, Any]] = []
        with self._lock:
            for jid in job_ids:
                record = self.resources.get(str(jid))
                if record is None:
                    results.append(False)
                    continue
                results.append(True)
                if self._refresh(record).terminal:
                    continue
                _killpg(record["pgid"], signal.SIGTERM)
                record["status"] = JobStatus(
                    JobState.CANCELLED, message="Cancelled by the provider", **self._out(record)
                )
                signalled.append(record)

            deadline = time.monotonic() + self.cancel_grace_period
            pending = list(signalled)
            while pending and time.monotonic() < deadline:
                pending = [r for r in pending if r["proc"].poll() is None or _group_alive(r["pgid"])]
                if pending:
                    time.sleep(0.02)
            for record in signalled:
                # Leftover members (or a leader that ignored SIGTERM) get SIGKILL.
                _killpg(record["pgid"], signal.SIGKILL)
            deadline = time.monotonic() + 5
            for record in signalled:
                try:
                    record["proc"].wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
                while _group_alive(record["pgid"]) and time.monotonic() < deadline:
                    time.sleep(0.01)
                if _group_alive(record["pgid"]):
                    logger.warning("Some processes of job %s survived SIGKILL", record["job_id"])
        return results


def _read_exit_code(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    """True while some non-zombie process is in process group ``pgid``."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = None
    if entries is None:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False
