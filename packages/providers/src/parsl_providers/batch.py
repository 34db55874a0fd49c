"""``BatchProvider``: what the scheduler providers of this package share.

A batch provider writes a submit script per block under ``script_dir`` (the run's
``submit_scripts`` directory), hands it to the scheduler's submit command, asks the
scheduler about all of its live jobs with one status command per poll, and cancels
with one command. Commands run locally, or on a login node through an SSH channel
(``channel=SSHChannel(...)``), in which case scripts are copied to the channel's
``script_dir`` first.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Any

from parsl.jobs.states import JobState, JobStatus
from parsl.launchers.wrap import wrap_command
from parsl.providers.cluster_provider import ClusterProvider
from parsl.providers.errors import SubmitException
from parsl.utils import RepresentationMixin

logger = logging.getLogger(__name__)

__all__ = ["BatchProvider", "chunks"]


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Yield lists of at most ``size`` items."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class BatchProvider(ClusterProvider, RepresentationMixin):
    """Base of the scheduler providers: script files, scheduler commands, job records.

    Subclasses set ``self.worker_init``, ``self.scheduler_options`` and ``self.move_files``
    and implement ``submit``, ``_status`` and ``cancel`` with the helpers below. Each job
    record in ``self.resources`` holds ``job_id``, ``status`` (a ``JobStatus``),
    ``job_stdout_path`` and ``job_stderr_path``.
    """

    move_files: bool | None = None
    #: Seconds between two ``status()`` calls by the job status poller (settable per instance).
    default_polling_interval: float = 60
    _own_script_dir: str | None = None
    _remote_dir_ready: bool = False

    @property
    def status_polling_interval(self) -> float:
        return self.__dict__.get("_polling_interval", self.default_polling_interval)

    @status_polling_interval.setter
    def status_polling_interval(self, seconds: float) -> None:
        self._polling_interval = seconds

    # ------------------------------------------------------------------ files
    def _local_script_dir(self) -> str:
        if self.script_dir:
            os.makedirs(self.script_dir, exist_ok=True)
            return self.script_dir
        if self._own_script_dir is None:
            self._own_script_dir = tempfile.mkdtemp(prefix=f"parsl-{self.label}-")
        return self._own_script_dir

    def _moves_files(self) -> bool:
        """True when scripts must be copied to the scheduler's side through the channel."""
        if self.channel is None:
            return False
        if self.move_files is not None:
            return bool(self.move_files)
        from parsl.channels.local.local import LocalChannel

        return not isinstance(self.channel, LocalChannel)

    def _job_dir(self) -> str:
        """Directory, on the scheduler's side, holding job scripts and job output."""
        local = self._local_script_dir()
        if not self._moves_files():
            return local
        channel = self.channel
        if not self._remote_dir_ready:
            if not getattr(channel, "script_dir", None):
                channel.script_dir = channel.abspath(os.path.join(".parsl_scripts", _run_name(local)))
            channel.makedirs(channel.script_dir, exist_ok=True)
            self._remote_dir_ready = True
        return channel.script_dir

    def _job_files(self, job_name: str, suffix: str = "") -> dict[str, str]:
        """Local script path, and scheduler-side script, stdout and stderr paths of a job."""
        local = os.path.abspath(os.path.join(self._local_script_dir(), job_name + suffix))
        remote_dir = self._job_dir()
        remote = os.path.join(remote_dir, job_name + suffix)
        return {
            "local_script": local,
            "script": remote,
            "stdout": remote + ".stdout",
            "stderr": remote + ".stderr",
        }

    def _stage(self, local_path: str) -> str:
        """Make ``local_path`` visible to the scheduler; return the path to give it."""
        if not self._moves_files():
            return local_path
        return self.channel.push_file(local_path, self._job_dir())

    def _write_script(
        self, template: str, files: dict[str, str], job_name: str, configs: dict[str, Any]
    ) -> str:
        """Fill ``template``, write it locally, stage it; return the scheduler-side path."""
        self._write_submit_script(template, files["local_script"], job_name, configs)
        os.chmod(files["local_script"], 0o755)
        return self._stage(files["local_script"])

    def _launch(self, command: str, tasks_per_node: int) -> str:
        """The launcher-wrapped worker command, preceded by the variables launchers use."""
        job_dir = self._job_dir()
        wrapped = wrap_command(self.launcher, command, tasks_per_node, self.nodes_per_block, job_dir)
        return f"export PARSL_SCRIPT_DIR={_sh_quote(job_dir)}\n{wrapped}"

    # --------------------------------------------------------------- commands
    def _submit_command(self, cmd: str, job_name: str) -> tuple[str, str]:
        """Run a submit command; raise ``SubmitException`` (with its stderr) unless it succeeds."""
        logger.debug("%s: %s", self.label, cmd)
        try:
            rc, out, err = self.execute_wait(cmd)
        except subprocess.TimeoutExpired as e:
            raise SubmitException(
                job_name, f"{cmd!r} did not finish within {self.cmd_timeout} s (cmd_timeout)"
            ) from e
        except Exception as e:
            raise SubmitException(job_name, f"{cmd!r} could not be run: {e}") from e
        out, err = out or "", err or ""
        if rc != 0:
            logger.error("%s submit failed: %r rc=%s stderr=%s", self.label, cmd, rc, err.strip())
            raise SubmitException(
                job_name,
                f"{cmd!r} failed with exit code {rc}: {err.strip()}",
                stdout=out,
                stderr=err,
                retcode=rc,
            )
        return out, err

    def _query(self, cmd: str) -> tuple[int, str, str] | None:
        """Run a status or cancel command; None (and a warning) if it could not run in time."""
        logger.debug("%s: %s", self.label, cmd)
        try:
            rc, out, err = self.execute_wait(cmd)
        except subprocess.TimeoutExpired:
            logger.warning(
                "%s: %r did not finish within %s s; job states not updated", self.label, cmd, self.cmd_timeout
            )
            return None
        except Exception as e:
            logger.warning("%s: %r could not be run: %s", self.label, cmd, e)
            return None
        return rc, out or "", err or ""

    # ---------------------------------------------------------------- records
    def _record(self, job_id: str, files: dict[str, str], **extra: Any) -> None:
        local = not self._moves_files()
        self.resources[job_id] = {
            "job_id": job_id,
            "submitted": time.monotonic(),
            "job_stdout_path": files["stdout"] if local else None,
            "job_stderr_path": files["stderr"] if local else None,
            "status": JobStatus(JobState.PENDING),
            **extra,
        }
        self._update(job_id, JobState.PENDING)

    def _update(
        self, job_id: str, state: JobState, message: str | None = None, exit_code: int | None = None
    ) -> None:
        record = self.resources[job_id]
        record["status"] = JobStatus(
            state,
            message=message,
            exit_code=exit_code,
            stdout_path=record.get("job_stdout_path"),
            stderr_path=record.get("job_stderr_path"),
        )

    def _report(self, job_id: str, state: JobState, raw: str, exit_code: int | None = None) -> None:
        """Record a state the scheduler printed as ``raw`` (kept as the message once it ends)."""
        active = state in (JobState.PENDING, JobState.RUNNING)
        self._update(job_id, state, None if active else raw, None if active else exit_code)

    def _mark_left_queue(self, jobs: Iterable[str], seen: set[str]) -> None:
        """Jobs the scheduler no longer lists have finished."""
        for jid in jobs:
            if jid not in seen:
                self._update(jid, JobState.COMPLETED, "job left the queue")

    # A queue-listing scheduler supplies the command and the parser; _status does the rest.
    #: text in stderr meaning "those jobs are gone"; None: a failed command is never parsed
    status_gone_marker: str | None = None

    def _status_command(self, live: list[str]) -> str:
        raise NotImplementedError

    def _parse_status(self, out: str, live: list[str]) -> set[str]:
        """Update each job the listing ``out`` shows; return their ids."""
        raise NotImplementedError

    def _status(self) -> None:
        """One listing command for every live job; unlisted jobs have left the queue."""
        live = self._live_ids()
        if not live:
            return
        answer = self._query(self._status_command(live))
        if answer is None:
            return
        rc, out, err = answer
        marker = self.status_gone_marker
        seen = self._parse_status(out, live) if rc == 0 or marker is not None else set()
        if rc != 0 and not seen and (marker is None or marker not in err):
            logger.warning("%s failed (rc=%s): %s", self._status_command(live).split()[0], rc, err.strip())
            return
        self._mark_left_queue(live, seen)

    def _live_ids(self) -> list[str]:
        return [jid for jid, r in self.resources.items() if not r["status"].terminal]

    def _own_id(self, reported: str) -> str | None:
        """Map an id as the scheduler printed it (perhaps truncated or without host) to ours."""
        if reported in self.resources:
            return reported
        for jid in self.resources:
            if jid.startswith(reported) or reported.startswith(jid + "."):
                return jid
        return None

    def _cancel_with(self, cmd: str, job_ids: list[Any]) -> list[bool]:
        """Run one cancel command for ``job_ids``; mark them CANCELLED if it worked."""
        if not job_ids:
            return []
        done = self._query(cmd)
        ok = done is not None and done[0] == 0
        if not ok:
            logger.warning(
                "%s: cancel failed: %r -> %s",
                self.label,
                cmd,
                "timeout" if done is None else f"rc={done[0]} {done[2].strip()}",
            )
        for jid in job_ids:
            if ok and str(jid) in self.resources:
                self._update(str(jid), JobState.CANCELLED, "cancelled by the provider")
        return [ok] * len(job_ids)


def _run_name(local_dir: str) -> str:
    """A short name for the run a local script directory belongs to (e.g. ``003``)."""
    parts = [p for p in os.path.abspath(local_dir).split(os.sep) if p]
    if len(parts) >= 2 and parts[-1] == "submit_scripts":
        return parts[-2]
    return parts[-1] if parts else "scripts"


def _sh_quote(text: str | os.PathLike[str]) -> str:
    import shlex

    return shlex.quote(os.fspath(text))  # script_dir may be a pathlib.Path
