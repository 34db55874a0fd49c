"""``link.FramedLink`` (the interchange <-> local pool link, over a real unix socket pair) and
``link.FdPoller`` (the poll loop both ends run), with real pipes and ZeroMQ sockets."""

from __future__ import annotations

import os
import socket
import time

import pytest
import zmq

from parsl_executor_htex.link import FdPoller, FramedLink, LinkClosed


def _pump(a: FramedLink, b: FramedLink, poller: zmq.Poller, want: int) -> list:
    """Poll until ``b`` has received ``want`` messages; return them."""
    got: list = []
    for _ in range(10_000):
        for fd, ev in poller.poll(1000):
            for link in (a, b):
                if fd == link.fd:
                    msgs = link.on_event(ev)
                    if link is b:
                        got.extend(msgs)
        if len(got) >= want:
            return got
    raise AssertionError(f"only {len(got)} of {want} messages arrived")


@pytest.mark.parametrize("poller_class", [zmq.Poller, FdPoller])
def test_messages_larger_than_the_socket_buffer_arrive_whole_without_blocking(poller_class):
    s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    poller = poller_class()
    a, b = FramedLink(s1, poller), FramedLink(s2, poller)
    big = bytes(range(256)) * 40_000  # 10 MB: far more than the socket takes at once
    a.send([b"first", big])
    a.send([b"second"])
    assert a.writer.pending and a.out_polled, "what did not fit must wait for POLLOUT"
    got = _pump(a, b, poller, 2)
    assert [bytes(msg) for msg, _ in got] == [b"first", b"second"]
    assert bytes(got[0][1][0]) == big and got[1][1] is None
    assert not a.writer.pending and not a.out_polled
    a.close()
    b.close()


def test_a_closed_peer_is_reported_and_later_sends_are_dropped():
    s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    poller = zmq.Poller()
    a, b = FramedLink(s1, poller), FramedLink(s2, poller)
    a.close()
    a.close()  # idempotent
    a.send([b"after close"])  # dropped, never written to a reused descriptor
    (fd, ev), *_ = poller.poll(1000)
    assert fd == b.fd
    with pytest.raises(LinkClosed):
        b.on_event(ev)
    b.send([b"to nobody"])  # the peer is gone: dropped, no exception
    assert not b.writer.pending
    assert b.finish(0.1)
    b.close()


# ------------------------------------------------------------------- FdPoller
def test_fd_poller_reports_pipes_in_zmq_flags_and_forgets_unregistered_ones():
    r, w = os.pipe()
    poller = FdPoller()
    poller.register(r, zmq.POLLIN)
    poller.register(w, zmq.POLLOUT)
    assert poller.poll(0) == [(w, zmq.POLLOUT)]
    os.write(w, b"x")
    assert sorted(poller.poll(0)) == sorted([(r, zmq.POLLIN), (w, zmq.POLLOUT)])
    poller.unregister(w)
    assert poller.poll(0) == [(r, zmq.POLLIN)]
    with pytest.raises(KeyError):
        poller.unregister(w)
    os.close(w)  # the writer gone: reported as readable, so the owner reads the end of file
    assert poller.poll(0) == [(r, zmq.POLLIN)]
    os.close(r)


def test_fd_poller_wakes_for_a_zeromq_message_and_sees_one_a_send_hid(tmp_path):
    ctx = zmq.Context()
    try:
        router = ctx.socket(zmq.ROUTER)
        router.bind(f"ipc://{tmp_path}/r")
        dealer = ctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.IDENTITY, b"d")
        dealer.connect(f"ipc://{tmp_path}/r")
        poller = FdPoller()
        poller.register(router, zmq.POLLIN)
        assert poller.poll(0) == []
        dealer.send(b"hello")
        assert poller.poll(5000) == [(router, zmq.POLLIN)]  # woke from its wait
        assert router.recv_multipart() == [b"d", b"hello"]
        while router.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            router.recv_multipart()
        assert poller.poll(50) == []
        # a message arrives, then a send on the socket processes its signal before we poll:
        # its fd stays quiet, and only touch() makes the poller look
        dealer.send(b"again")
        time.sleep(0.2)
        router.send_multipart([b"d", b"reply"])
        poller.touch(router)
        assert poller.poll(5000) == [(router, zmq.POLLIN)]
        assert router.recv_multipart() == [b"d", b"again"]
        assert dealer.recv() == b"reply"
        poller.unregister(router)
        dealer.send(b"unwatched")
        assert poller.poll(50) == []
        with pytest.raises(ValueError, match="POLLIN only"):
            poller.register(router, zmq.POLLIN | zmq.POLLOUT)
    finally:
        ctx.destroy(linger=0)
