"""``parsl.monitoring.radios``: Parsl's radio classes, with real UDP, filesystem and queue radios."""

from __future__ import annotations

import logging
import pickle
import queue
import socket
import subprocess
import sys

import pytest

from parsl.monitoring.radios.base import (
    MonitoringRadioReceiver,
    MonitoringRadioSender,
    RadioConfig,
    record_radio,
)
from parsl.monitoring.radios.filesystem import FilesystemRadio
from parsl.monitoring.radios.htex import HTEXRadio
from parsl.monitoring.radios.multiprocessing import MultiprocessingQueueRadio
from parsl.monitoring.radios.udp import UDPRadio
from parsl.multiprocessing import SpawnQueue

GET = 30  # seconds to wait for a message that was sent


def test_interfaces_are_abstract():
    for cls in (RadioConfig, MonitoringRadioSender, MonitoringRadioReceiver):
        with pytest.raises(TypeError):
            cls()


@pytest.mark.parametrize(
    "radio",
    [HTEXRadio(), FilesystemRadio(), MultiprocessingQueueRadio(), UDPRadio(address="127.0.0.1")],
    ids=type,
)
def test_radios_are_radio_configs_and_pickle(radio):
    assert isinstance(radio, RadioConfig)
    assert type(pickle.loads(pickle.dumps(radio))) is type(radio)


def test_multiprocessing_queue_radio_round_trip(tmp_path):
    msgs = SpawnQueue()
    radio = MultiprocessingQueueRadio()
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=msgs)
    radio.create_sender().send(("resource", {"cpu": 1}))
    assert msgs.get(timeout=GET) == ("resource", {"cpu": 1})
    receiver.shutdown()


def test_filesystem_radio_round_trip_in_order(tmp_path):
    msgs: queue.Queue = queue.Queue()
    radio = FilesystemRadio()
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=msgs)
    sender = pickle.loads(pickle.dumps(radio)).create_sender()  # as a worker would get it
    for i in range(5):
        sender.send(("task", i))
    assert [msgs.get(timeout=GET) for _ in range(5)] == [("task", i) for i in range(5)]
    receiver.shutdown()  # a message is put on the queue before its file is removed: wait for that
    assert not receiver.thread.is_alive()
    assert not list((tmp_path / "monitor-fs-radio" / "new").iterdir())  # delivered files are deleted


def test_filesystem_radio_delivers_what_was_written_before_shutdown(tmp_path):
    msgs: queue.Queue = queue.Queue()
    radio = FilesystemRadio()
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=msgs)
    radio.create_sender().send("last words")
    receiver.shutdown()
    assert msgs.get_nowait() == "last words"


@pytest.fixture
def udp(tmp_path):
    msgs: queue.Queue = queue.Queue()
    radio = UDPRadio(address="127.0.0.1", atexit_timeout=0)
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=msgs)
    yield radio, receiver, msgs
    receiver.shutdown()
    assert not receiver.thread.is_alive()


def test_udp_radio_round_trip(udp):
    radio, receiver, msgs = udp
    assert len(radio.hmac_key) == 64  # sha512's digest size
    assert radio.port == receiver.port > 0
    radio.create_sender().send(("resource", {"psutil_process_pid": 12}))
    assert msgs.get(timeout=GET) == ("resource", {"psutil_process_pid": 12})


def test_udp_radio_from_another_process(udp, tmp_path):
    radio, _, msgs = udp
    config = tmp_path / "radio.pickle"
    config.write_bytes(pickle.dumps(radio))
    code = (
        "import pickle, sys; r = pickle.load(open(sys.argv[1], 'rb')); "
        "r.create_sender().send(('from', 'worker'))"
    )
    subprocess.run([sys.executable, "-c", code, str(config)], check=True, timeout=120)
    assert msgs.get(timeout=GET) == ("from", "worker")


def test_udp_radio_drops_datagrams_with_a_wrong_hmac(udp, caplog):
    radio, _, msgs = udp
    good = radio.create_sender()
    forged = pickle.loads(pickle.dumps(radio))
    forged.hmac_key = radio.hmac_key + b"x"
    other_digest = pickle.loads(pickle.dumps(radio))
    other_digest.hmac_digest = "sha3_224"
    with caplog.at_level(logging.ERROR, logger="parsl.monitoring.radios.udp"):
        forged.create_sender().send("forged")
        other_digest.create_sender().send("other digest")
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.sendto(b"", ("127.0.0.1", radio.port))  # too short to hold an HMAC
        raw.sendto(b"short", ("127.0.0.1", radio.port))
        raw.close()
        good.send("genuine")
        # datagrams on loopback arrive in order: the first thing queued is the genuine one
        assert msgs.get(timeout=GET) == "genuine"
    assert msgs.empty()
    assert sum("HMAC does not match" in r.getMessage() for r in caplog.records) == 4


def test_udp_radio_rejects_unknown_digest():
    with pytest.raises(ValueError, match="hmac_digest='nope'"):
        UDPRadio(address="127.0.0.1", hmac_digest="nope")


def test_udp_radio_needs_an_address():
    with pytest.raises(TypeError):
        UDPRadio()  # address is required, as in Parsl


def test_sender_before_receiver_is_a_clear_error():
    for radio in (UDPRadio(address="127.0.0.1"), FilesystemRadio(), MultiprocessingQueueRadio()):
        with pytest.raises(RuntimeError, match="create_receiver"):
            radio.create_sender()


def test_htex_radio_is_recorded_and_harmless(tmp_path):
    radio = HTEXRadio()
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=queue.Queue())
    radio.create_sender().send(("anything", {}))
    receiver.shutdown()


def test_record_radio_logs_at_debug_and_refuses_non_radios(caplog):
    radio = UDPRadio(address="127.0.0.1")
    with caplog.at_level(logging.DEBUG, logger="parsl.monitoring.radios.base"):
        assert record_radio("ThreadPoolExecutor", radio) is radio
        assert record_radio("ThreadPoolExecutor", None) is None
    [rec] = caplog.records
    assert rec.levelno == logging.DEBUG and "not started" in rec.getMessage()
    with pytest.raises(TypeError, match=r"remote_monitoring_radio='udp'.*RadioConfig"):
        record_radio("ThreadPoolExecutor", "udp")


def test_thread_pool_executor_records_a_radio(caplog):
    from parsl.executors.threads import ThreadPoolExecutor

    radio = UDPRadio(address="localhost", atexit_timeout=0)
    with caplog.at_level(logging.DEBUG, logger="parsl.monitoring.radios.base"):
        ex = ThreadPoolExecutor(remote_monitoring_radio=radio)
    assert ex.remote_monitoring_radio is radio
    assert "ThreadPoolExecutor 'threads'" in caplog.text and "not started" in caplog.text
    # Parsl's default radio for thread pools
    assert isinstance(ThreadPoolExecutor().remote_monitoring_radio, MultiprocessingQueueRadio)
