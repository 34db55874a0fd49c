"""``BatchProvider``: what the scheduler providers of this package share.

A batch provider writes a submit script per block under ``script_dir`` (the run's
``submit_scripts`` directory), hands it to the scheduler's submit command, asks the
scheduler about all of its live jobs with one status command per poll, and cancels
with one command. Commands run locally, or on a login node through an SSH channel
(``channel=SSHChannel(...)``), in which case scripts are copied to the channel's
``script_dir`` first.
"""

from __future__ import annotations

import inspect
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from parsl.jobs.states import JobState, JobStatus
from parsl.launchers.wrap import wrap_command
from parsl.providers.cluster_provider import ClusterProvider
from parsl.providers.errors import SubmitException
from parsl.utils import RepresentationMixin

logger = logging.getLogger(__name__)

__all__ = ["SCRIPT_BODY", "BatchProvider", "chunks"]

#: How every job script ends, after the scheduler's directives: the user's ``worker_init``,
#: the job's name for the launchers, and the launcher-wrapped worker command.
SCRIPT_BODY = """
${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""

# What BatchProvider.__init__ passes on to ClusterProvider: every argument of its signature
# but the label (``nodes_per_block`` ... ``launcher``, ``cmd_timeout``, ``channel``).
_CLUSTER_SETTINGS = tuple(
    name for name in inspect.signature(ClusterProvider.__init__).parameters if name not in ("self", "label")
)


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

    A subclass keeps the constructor signature Parsl gives it and starts it with
    ``super().__init__(label, locals())``; it sets ``job_states`` (its scheduler's state
    codes, see ``job_state_table``), ``list_command`` and ``cancel_command``, and
    implements ``submit`` (with ``_script_values`` and ``_submit_job``) and
    ``_read_job_id``. A scheduler whose listing is not one job per line, with the id and
    the state code in ``status_columns``, overrides ``_parse_status`` (or, when it needs
    more than one command, ``_status``). Each job record in
    ``self.resources`` holds ``job_id``, ``status`` (a ``JobStatus``),
    ``job_stdout_path`` and ``job_stderr_path``.
    """

    scheduler_options: str
    worker_init: str
    move_files: bool | None = None
    #: Seconds between two ``status()`` calls by the job status poller (settable per instance).
    default_polling_interval: float = 60
    _own_script_dir: str | None = None
    _remote_dir_ready: bool = False

    def __init__(self, label: str, arguments: Mapping[str, Any]) -> None:
        """Take the settings every scheduler provider shares from ``arguments``.

        ``arguments`` is the subclass constructor's ``locals()``, taken before it binds any
        name of its own (only read here): each provider keeps the parameter order and
        defaults Parsl gives it, and the settings they share (``nodes_per_block`` ...
        ``launcher``, ``cmd_timeout``, ``channel``, ``scheduler_options``, ``worker_init``,
        ``move_files``) are handled here once instead of being passed on one by one.
        """
        super().__init__(label, **{name: arguments[name] for name in _CLUSTER_SETTINGS})
        self.scheduler_options = arguments["scheduler_options"]
        self.worker_init = arguments["worker_init"]
        self.move_files = arguments["move_files"]

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

    def _script_values(
        self, command: str, tasks_per_node: int, files: dict[str, str], **changed: Any
    ) -> dict[str, Any]:
        """The values a submit script template may use; ``changed`` replaces some of them."""
        values = {
            "nodes": self.nodes_per_block,
            "nodes_per_block": self.nodes_per_block,
            "tasks_per_node": tasks_per_node,
            "walltime": self.walltime,
            "scheduler_options": self.scheduler_options,
            "worker_init": self.worker_init,
            "job_stdout_path": files["stdout"],
            "job_stderr_path": files["stderr"],
            "submit_script_dir": self._job_dir(),
            "user_script": self._launch(command, tasks_per_node),
        }
        values.update(changed)
        return values

    # ----------------------------------------------------------------- submit
    def _submit_job(
        self, job_name: str, files: dict[str, str], template: str, values: dict[str, Any], command: str
    ) -> str:
        """Write the job's script, run ``<command> <script>`` and record the job id it printed."""
        path = self._write_script(template, files, job_name, values)
        cmd = f"{command} {path}"
        out, err = self._submit_command(cmd, job_name)
        try:
            job_id = self._read_job_id(out)
        except ValueError as e:
            raise SubmitException(
                job_name,
                f"could not read the job id from the output of {cmd!r}: {e}",
                stdout=out,
                stderr=err,
                retcode=0,
            ) from e
        self._record(job_id, files)
        logger.info("%s submitted job %s (%s)", type(self).__name__, job_id, files["local_script"])
        return job_id

    def _read_job_id(self, out: str) -> str:
        """The job id in the submit command's output; ValueError saying what was expected."""
        raise NotImplementedError

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
        """Record a state the scheduler printed as ``raw``: the message unless the job is
        pending or running, the exit code once it has ended."""
        active = state in (JobState.PENDING, JobState.RUNNING)
        self._update(job_id, state, None if active else raw, exit_code if state.terminal else None)

    def _mark_left_queue(self, jobs: Iterable[str], seen: set[str]) -> None:
        """Jobs the scheduler no longer lists have finished."""
        for jid in jobs:
            if jid not in seen:
                self._update(jid, JobState.COMPLETED, "job left the queue")

    # ----------------------------------------------------------------- status
    #: the scheduler's state codes -> JobState (see ``job_state_table``)
    job_states: ClassVar[Mapping[str, JobState]] = {}
    #: the command listing job states; ``{ids}`` becomes the live job ids, space-separated
    list_command: str = ""
    #: columns of a listing line that hold the job id and its state code
    status_columns: ClassVar[tuple[int, int]] = (0, 4)
    #: text in stderr meaning "those jobs are gone"; None: a failed command is never parsed
    status_gone_marker: ClassVar[str | None] = None

    def _job_state(self, code: str, job_id: str, table: Mapping[str, JobState] | None = None) -> JobState:
        """The JobState of a state code (as printed, or lower-cased); UNKNOWN, with a warning, if unlisted."""
        table = self.job_states if table is None else table
        state = table.get(code)
        if state is None:
            state = table.get(code.lower())
        if state is None:
            logger.warning("%s: unknown job state %r for job %s", type(self).__name__, code, job_id)
            return JobState.UNKNOWN
        return state

    def _parse_status(self, out: str, live: list[str]) -> set[str] | None:
        """Update each live job the listing ``out`` shows; return their ids (None: unreadable)."""
        id_column, state_column = self.status_columns
        seen = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) <= max(id_column, state_column):
                continue
            jid = self._own_id(parts[id_column])
            if jid is None or jid not in live:
                continue
            code = parts[state_column]
            self._report(jid, self._job_state(code, jid), code)
            seen.add(jid)
        return seen

    def _status(self) -> None:
        """One listing command for every live job; unlisted jobs have left the queue."""
        live = self._live_ids()
        if not live:
            return
        cmd = self.list_command.format(ids=" ".join(live))
        answer = self._query(cmd)
        if answer is None:
            return
        rc, out, err = answer
        marker = self.status_gone_marker
        seen = self._parse_status(out, live) if rc == 0 or marker is not None else set()
        if seen is None:
            return
        if rc != 0 and not seen and (marker is None or marker not in err):
            logger.warning("%s failed (rc=%s): %s", cmd.split()[0], rc, err.strip())
            return
        self._mark_left_queue(live, seen)

    def _live_ids(self) -> list[str]:
        return [jid for jid, r in self.resources.items() if not r["status"].terminal]

    def _own_id(self, reported: str) -> str | None:
        """Map an id as the scheduler printed it (perhaps truncated or without host) to ours.

        Besides an exact match, the two may differ after the job number (``1234.server``
        printed as ``1234.serv``, or ``1234`` as ``1234.server``), never in it.
        """
        if reported in self.resources:
            return reported
        number = reported.split(".", 1)[0]
        for jid in self.resources:
            if jid.split(".", 1)[0] == number and (
                jid.startswith(reported) or reported.startswith(jid + ".")
            ):
                return jid
        return None

    # ----------------------------------------------------------------- cancel
    #: the scheduler's cancel command; the job ids are appended, space-separated
    cancel_command: str = ""

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Cancel the jobs with one command; True for each if it succeeded."""
        return self._cancel_with(f"{self.cancel_command} {' '.join(str(j) for j in job_ids)}", job_ids)

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
