"""The parts of HTEX's public contract that engines rely on and that need no running processes:
Parsl's default commands, the ``process_worker_pool.py`` fallback, ``outstanding`` in both
spellings, ``submit_payload``'s argument checks, telemetry as Parsl's tagged messages, and the
installed-packages scan behind ``connected_managers_packages()``."""

from __future__ import annotations

import datetime
import os
import queue
import shlex
import subprocess
import sys

import pytest

from parsl.monitoring.message_type import MessageType as OldPathMessageType
from parsl.monitoring.types import MessageType
from parsl_executor_htex import HighThroughputExecutor
from parsl_executor_htex import executor as executor_module
from parsl_executor_htex.packages import installed_packages
from parsl_executor_htex.process_worker_pool import tcp_url, unbracket
from parsl_executor_htex.tagged import tag_messages


def test_message_type_has_parsls_members_and_values_at_both_paths():
    assert {m.name: m.value for m in MessageType} == {
        "TASK_INFO": 0,
        "RESOURCE_INFO": 1,
        "WORKFLOW_INFO": 2,
        "NODE_INFO": 3,
        "BLOCK_INFO": 4,
        "WORKER_TASK_INFO": 5,
    }
    assert OldPathMessageType is MessageType


def test_default_commands_are_parsls_and_given_ones_are_kept():
    ex = HighThroughputExecutor()
    assert ex.launch_cmd == executor_module.DEFAULT_LAUNCH_CMD
    assert ex.launch_cmd.startswith("process_worker_pool.py {debug} {max_workers_per_node} -a {addresses}")
    assert ex.interchange_launch_cmd == ["interchange.py"]
    assert ex._interchange_command() == [sys.executable, "-m", "parsl_executor_htex.interchange"]
    mine = HighThroughputExecutor(launch_cmd="my_pool {block_id}", interchange_launch_cmd=["my-ix", "--x"])
    assert mine.launch_cmd == "my_pool {block_id}"
    assert mine._interchange_command() == ["my-ix", "--x"]


def test_process_worker_pool_script_runs_through_this_interpreter_whatever_path_holds(tmp_path, monkeypatch):
    cmd = "process_worker_pool.py --debug -a 127.0.0.1"
    ours = f"{shlex.quote(sys.executable)} -m parsl_executor_htex.process_worker_pool --debug -a 127.0.0.1"
    monkeypatch.setenv("PATH", str(tmp_path))  # nowhere to be found
    assert executor_module._pool_command(cmd) == ours
    script = tmp_path / "process_worker_pool.py"  # somebody else's script first on PATH
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert executor_module._pool_command(cmd) == ours
    monkeypatch.setenv("PATH", os.path.dirname(os.path.abspath(sys.executable)))
    assert executor_module._pool_command(cmd) == ours
    # other leading words: the command is the user's, left as written
    assert (
        executor_module._pool_command("srun process_worker_pool.py -a x")
        == "srun process_worker_pool.py -a x"
    )


def test_module_paths_of_parsl_run_our_entry_points():
    for module in (
        "parsl.executors.high_throughput.process_worker_pool",
        "parsl.executors.high_throughput.interchange",
    ):
        out = subprocess.run(
            [sys.executable, "-m", module, "--help"] if "pool" in module else [sys.executable, "-m", module],
            input=b"",
            capture_output=True,
            timeout=60,
        )
        if "pool" in module:
            assert out.returncode == 0 and b"--block_id" in out.stdout
        else:  # no configuration on stdin: our interchange says so
            assert out.returncode != 0 and b"no configuration on stdin" in out.stderr


def test_a_bad_launch_cmd_template_is_named_before_anything_starts(tmp_path):
    ex = HighThroughputExecutor(launch_cmd="process_worker_pool.py --x=${HOME} {block_id}")
    ex.run_dir = str(tmp_path)
    with pytest.raises(ValueError, match=r"launch_cmd=.*not a valid template.*written twice"):
        ex.start()
    assert ex._ix_proc is None


def test_outstanding_is_an_int_and_a_method():
    ex = HighThroughputExecutor()
    assert ex.outstanding == 0 and ex.outstanding() == 0
    assert ex.outstanding + 1 == 1 and isinstance(ex.outstanding(), int)
    assert ex._task_counter == 0


@pytest.mark.parametrize(
    "context, buffer, error, match",
    [
        ("not a dict", b"x", TypeError, "context must be a dict"),
        ({"task_executor": {"f": "no_dots"}}, b"x", ValueError, "dotted import path"),
        ({"task_executor": "pkg.mod.fn"}, b"x", ValueError, "must be a dict"),
        ({"resource_spec": {"cores": 2}}, b"x", Exception, "priority"),
    ],
)
def test_submit_payload_names_a_bad_argument(context, buffer, error, match):
    with pytest.raises(error, match=match):
        HighThroughputExecutor().submit_payload(context, buffer)


def test_remote_monitoring_radio_is_accepted_and_kept():
    radio = object()
    assert HighThroughputExecutor(remote_monitoring_radio=radio).remote_monitoring_radio is radio


def test_telemetry_becomes_parsls_tagged_messages():
    now = 1_700_000_000.0
    batch = [
        {"type": "block", "block_id": "0", "job_id": "42", "status": "RUNNING", "timestamp": now},
        {
            "type": "node",
            "event": "dispatched",
            "uid": "p1",
            "block_id": "0",
            "tasks": [3, 4],
            "timestamp": now,
            "last_heartbeat": now - 1,
        },
        {"type": "task_running", "task_id": 3, "try_id": 0, "timestamp": now},
        {"type": "task_running_ended", "task_id": 3, "try_id": 0, "timestamp": now},
        {"type": "resource", "task_id": 3, "psutil_process_pid": 7, "timestamp": now},
        {"type": "probe"},
        {"type": "block", "block_id": "1", "job_id": "43", "status": "PENDING", "timestamp": now},
    ]
    tagged = tag_messages(batch, "run-1", "htex")
    kinds = [k for k, _ in tagged]
    assert kinds == [
        MessageType.NODE_INFO,
        MessageType.WORKER_TASK_INFO,
        MessageType.WORKER_TASK_INFO,
        MessageType.RESOURCE_INFO,
        MessageType.BLOCK_INFO,
    ]
    node = tagged[0][1]
    assert node["block_id"] == "0" and node["tasks"] == [3, 4] and node["run_id"] == "run-1"
    assert node["timestamp"] == datetime.datetime.fromtimestamp(now) and "type" not in node
    assert [(b["first_msg"], b["last_msg"]) for _, b in tagged[1:3]] == [(True, False), (False, True)]
    blocks = tagged[4][1]
    assert [(b["block_id"], b["status"], b["executor_label"]) for b in blocks] == [
        ("0", "RUNNING", "htex"),
        ("1", "PENDING", "htex"),
    ]


def test_a_queue_gets_tagged_messages_and_a_callable_gets_the_batch():
    ex = HighThroughputExecutor(label="q")
    ex.run_id = "r"
    ex.monitoring_messages = queue.Queue()
    ex.send_monitoring_messages([{"type": "node", "block_id": "2", "tasks": [1], "timestamp": 1.0}])
    kind, body = ex.monitoring_messages.get_nowait()
    assert kind is MessageType.NODE_INFO and body["block_id"] == "2" and body["run_id"] == "r"
    got = []
    ex.monitoring_messages = got.append
    ex.send_monitoring_messages([{"type": "node", "block_id": "2"}])
    assert got == [[{"type": "node", "block_id": "2"}]]


def test_installed_packages_reads_names_and_versions(tmp_path):
    dist = tmp_path / "demo_pkg-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.3\n\nLong text\n")
    egg = tmp_path / "old.egg-info"
    egg.write_text("Metadata-Version: 1.0\nName: old\nVersion: 0.1\n")
    later = tmp_path / "later"
    later.mkdir()
    (later / "demo_pkg-9.dist-info").mkdir()
    (later / "demo_pkg-9.dist-info" / "METADATA").write_text("Name: demo-pkg\nVersion: 9\n")
    assert installed_packages([str(tmp_path), str(later), str(tmp_path / "missing")]) == {
        "demo-pkg": "1.2.3",
        "old": "0.1",
    }
    import importlib.metadata

    assert installed_packages()["pyzmq"] == importlib.metadata.version("pyzmq")


def test_ipv6_urls_are_bracketed():
    assert tcp_url("::1", 5) == "tcp://[::1]:5" and tcp_url("[fd00::2]", 5) == "tcp://[fd00::2]:5"
    assert tcp_url("10.0.0.1", 5) == "tcp://10.0.0.1:5" and tcp_url("node1", 5) == "tcp://node1:5"
    assert unbracket("[::1]") == "::1" and unbracket("::1") == "::1"
    assert executor_module._tcp_url("::1", 9) == "tcp://[::1]:9"


def test_a_packed_task_run_becomes_two_tagged_worker_task_messages():
    from parsl.monitoring.packed import pack_task_run

    now = 1_700_000_000.0
    batch = [pack_task_run(3, 1, now, now + 2, "node-7", "4")]
    tagged = tag_messages(batch, "run-1", "htex")
    assert [k for k, _ in tagged] == [MessageType.WORKER_TASK_INFO, MessageType.WORKER_TASK_INFO]
    first, last = (body for _, body in tagged)
    assert (first["first_msg"], first["last_msg"], last["first_msg"], last["last_msg"]) == (
        True,
        False,
        False,
        True,
    )
    assert (first["task_id"], first["try_id"], first["hostname"], first["block_id"]) == (3, 1, "node-7", "4")
    assert first["timestamp"] == datetime.datetime.fromtimestamp(now)
    assert last["timestamp"] == datetime.datetime.fromtimestamp(now + 2)
    assert first["run_id"] == last["run_id"] == "run-1"
