"""``AdHocProvider``: a fixed set of hosts reached through channels, one block per host."""

from __future__ import annotations

import logging
import os
import shlex
import tempfile
import threading
import time
from typing import Any

from parsl.jobs.states import JobState, JobStatus
from parsl.launchers.launchers import SimpleLauncher
from parsl.launchers.wrap import wrap_command
from parsl.providers.base import ExecutionProvider
from parsl.providers.errors import ScaleOutFailed, SubmitException
from parsl.utils import RepresentationMixin
from parsl_providers.job_states import recorded_statuses

logger = logging.getLogger(__name__)

__all__ = ["AdHocProvider"]


class AdHocProvider(ExecutionProvider, RepresentationMixin):
    """Blocks run on hosts without a scheduler, one block per channel at a time.

    ``submit`` picks a channel whose host runs no block, copies the block script there
    (``worker_init`` + launcher-wrapped command) and starts it in the background in its
    own session; the job id is ``<host>:<pid>``. ``status`` asks each host once about all
    of its blocks; ``cancel`` kills a block's whole process group.

    Parameters
    ----------
    channels : list of Channel
        One channel per host (usually ``SSHChannel``); ``max_blocks`` and ``init_blocks``
        are the number of channels.
    worker_init : str
        Commands run before the workers start.
    cmd_timeout : int
        Seconds allowed to each remote command.
    parallelism : float
        Share (0 to 1) of pending tasks that should get a slot.
    move_files : bool, optional
        Accepted for older configurations; scripts are always copied through the channel.
    launcher : Launcher
        Wraps the command (default ``SimpleLauncher()``).
    """

    def __init__(
        self,
        channels: list[Any] | None = None,
        worker_init: str = "",
        cmd_timeout: int = 30,
        parallelism: float = 1,
        move_files: bool | None = None,
        launcher: Any = SimpleLauncher(),  # noqa: B008 (shared default, as upstream)
    ):
        if not channels:
            from parsl.errors import ConfigurationError

            raise ConfigurationError(
                "AdHocProvider needs channels=[SSHChannel(hostname=...), ...], one per host"
            )
        self.channels = list(channels)
        self.worker_init = worker_init
        self.cmd_timeout = cmd_timeout
        self.parallelism = parallelism
        self.move_files = move_files
        self.launcher = launcher
        self.nodes_per_block = 1
        self.init_blocks = self.max_blocks = len(self.channels)
        self.min_blocks = 0
        self.script_dir: str | None = None
        self.resources: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._local_dir: str | None = None

    @property
    def label(self) -> str:
        return "ad-hoc"

    @property
    def status_polling_interval(self) -> int:
        return 10

    def _host(self, channel: Any) -> str:
        return getattr(channel, "hostname", None) or "localhost"

    def _remote_dir(self, channel: Any) -> str:
        if not getattr(channel, "script_dir", None):
            channel.script_dir = channel.abspath(".parsl_scripts")
        channel.makedirs(channel.script_dir, exist_ok=True)
        return channel.script_dir

    def _local_script_dir(self) -> str:
        if self.script_dir:
            os.makedirs(self.script_dir, exist_ok=True)
            return self.script_dir
        if self._local_dir is None:
            self._local_dir = tempfile.mkdtemp(prefix="parsl-adhoc-")
        return self._local_dir

    def _free_channel(self) -> Any:
        busy = {id(r["channel"]) for r in self.resources.values() if not r["status"].terminal}
        for channel in self.channels:
            if id(channel) not in busy:
                return channel
        return None

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.adhoc") -> str:
        """Start one block on a host that runs none; return ``<host>:<pid>``."""
        with self._lock:
            channel = self._free_channel()
            if channel is None:
                raise ScaleOutFailed(
                    self.label,
                    f"every one of the {len(self.channels)} hosts already "
                    "runs a block; AdHocProvider runs one block per host",
                )
            job_name = f"{job_name}.{time.time()}"
            local = os.path.join(self._local_script_dir(), job_name + ".sh")
            try:
                remote_dir = self._remote_dir(channel)
            except Exception as e:
                raise SubmitException(
                    job_name, f"could not make the script directory on {self._host(channel)}: {e}"
                ) from e
            launch = wrap_command(self.launcher, command, tasks_per_node, 1, remote_dir)
            with open(local, "w") as f:
                f.write(f"{self.worker_init}\nexport JOBNAME={shlex.quote(job_name)}\n{launch}\n")
            try:
                remote = channel.push_file(local, remote_dir)
            except Exception as e:
                raise SubmitException(
                    job_name, f"could not copy the block script to {self._host(channel)}: {e}"
                ) from e
            q = shlex.quote
            out, err, ec = remote + ".stdout", remote + ".stderr", remote + ".ec"
            # The background job must hold none of the session's pipes, or the command never ends.
            start = (
                f"cd {q(os.path.dirname(remote))} || exit 1; nohup setsid bash -c "
                f"{q(f'bash {q(remote)}; echo $? > {q(ec)}')} > {q(out)} 2> {q(err)} < /dev/null & "
                "echo $!"
            )
            try:
                rc, stdout, stderr = channel.execute_wait(start, self.cmd_timeout)
            except Exception as e:
                raise SubmitException(
                    job_name, f"could not start the block on {self._host(channel)}: {e}"
                ) from e
            pid = (stdout or "").strip().splitlines()[-1:] if rc == 0 else []
            if not pid or not pid[0].isdigit():
                raise SubmitException(
                    job_name,
                    f"starting the block on {self._host(channel)} failed",
                    stdout=stdout,
                    stderr=stderr,
                    retcode=rc,
                )
            job_id = f"{self._host(channel)}:{pid[0]}"
            self.resources[job_id] = {
                "job_id": job_id,
                "channel": channel,
                "pid": int(pid[0]),
                "ec_path": ec,
                "status": JobStatus(JobState.RUNNING),
                "remote_stdout": out,
                "remote_stderr": err,
            }
            logger.info("AdHocProvider started block %s", job_id)
            return job_id

    def status(self, job_ids: list[Any]) -> list[JobStatus]:
        """One remote command per host: RUNNING while the block's process lives, then its exit code."""
        by_channel: dict[int, list[dict[str, Any]]] = {}
        for jid in job_ids:
            record = self.resources.get(jid)
            if record is not None and not record["status"].terminal:
                by_channel.setdefault(id(record["channel"]), []).append(record)
        for records in by_channel.values():
            channel = records[0]["channel"]
            probes = "; ".join(
                f"if kill -0 {r['pid']} 2>/dev/null; then echo {r['pid']} R; "
                f"else echo {r['pid']} E $(cat {shlex.quote(r['ec_path'])} 2>/dev/null); fi"
                for r in records
            )
            try:
                _, out, _ = channel.execute_wait(probes, self.cmd_timeout)
            except Exception as e:
                logger.warning("AdHocProvider: status of %s failed: %s", self._host(channel), e)
                continue
            answers = {p[0]: p[1:] for p in (line.split() for line in (out or "").splitlines()) if p}
            for r in records:
                ans = answers.get(str(r["pid"]))
                if not ans or ans[0] == "R":
                    continue
                code = int(ans[1]) if len(ans) > 1 and ans[1].lstrip("-").isdigit() else None
                if code == 0:
                    r["status"] = JobStatus(JobState.COMPLETED, exit_code=0)
                else:
                    r["status"] = JobStatus(
                        JobState.FAILED, exit_code=code, message=f"block exited with code {code}"
                    )
        return recorded_statuses(self.resources, job_ids)

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Kill each block's process group (TERM, then KILL after 2 s)."""
        results = []
        for jid in job_ids:
            record = self.resources.get(jid)
            if record is None:
                results.append(False)
                continue
            pid = record["pid"]
            cmd = (
                f"kill -TERM -- -{pid} 2>/dev/null; for i in 1 2 3 4 5 6 7 8 9 10; do "
                f"kill -0 -- -{pid} 2>/dev/null || exit 0; sleep 0.2; done; kill -KILL -- -{pid} 2>/dev/null; true"
            )
            try:
                rc, _, _ = record["channel"].execute_wait(cmd, self.cmd_timeout)
            except Exception as e:
                logger.warning("AdHocProvider: cancel of %s failed: %s", jid, e)
                rc = 1
            if rc == 0:
                record["status"] = JobStatus(JobState.CANCELLED, message="cancelled by the provider")
            results.append(rc == 0)
        return results
