"""``command_client.run(...)`` on our HTEX answers Parsl's interchange commands, from many
threads at once."""

from __future__ import annotations

import threading

import parsl
from parsl import python_app


@python_app
def block_of_worker():
    import os

    return os.environ["PARSL_WORKER_BLOCK_ID"]


def test_command_client_answers_parsls_commands(htex_dfk):
    htex = htex_dfk.executors["htex"]
    assert block_of_worker().result(timeout=60) == "0"
    cc = htex.command_client
    managers = cc.run("MANAGERS")
    assert [d["block_id"] for d in managers] == ["0"]
    assert cc.run("CONNECTED_BLOCKS") == ["0"] == htex.connected_blocks()
    packages = cc.run("MANAGERS_PACKAGES", timeout_s=10)
    assert set(packages) == {managers[0]["manager"]}
    assert "pyzmq" in {k.lower() for k in packages[managers[0]["manager"]]}
    # parslcore provides the parsl import package: reported under Parsl's name too
    assert packages[managers[0]["manager"]]["parsl"] == parsl.__version__
    assert isinstance(cc.run("WORKER_BINDS"), int) and cc.run("WORKER_BINDS") > 0
    assert cc.run("NO_SUCH_COMMAND") is None
    cc.close()


def test_command_client_is_safe_from_many_threads(htex_dfk):
    htex = htex_dfk.executors["htex"]
    wait = block_of_worker().result(timeout=60)  # block 0 has connected
    assert wait == "0"
    cc = htex.command_client
    finished: list[bool] = []

    def blast():
        for _ in range(20):
            assert cc.run("CONNECTED_BLOCKS") == ["0"]
            assert isinstance(cc.run("WORKER_BINDS"), int)
        finished.append(True)

    threads = [threading.Thread(target=blast) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(finished) == 16


def test_parsl_reported_as_parslcore_unless_installed(tmp_path):
    from parsl_executor_htex.packages import installed_packages

    core = tmp_path / "core"
    (core / "parslcore-1.0.dist-info").mkdir(parents=True)
    (core / "parslcore-1.0.dist-info" / "METADATA").write_text("Name: parslcore\nVersion: 1.0\n")
    assert installed_packages([str(core)]) == {"parslcore": "1.0", "parsl": "1.0"}
    (core / "parsl-0.5.dist-info").mkdir()
    (core / "parsl-0.5.dist-info" / "METADATA").write_text("Name: parsl\nVersion: 0.5\n")
    assert installed_packages([str(core)])["parsl"] == "0.5"
