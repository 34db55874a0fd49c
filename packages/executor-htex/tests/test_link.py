"""``link.FramedLink``: the interchange <-> local pool link, over a real unix socket pair."""

from __future__ import annotations

import socket

import pytest
import zmq

from parsl_executor_htex.link import FramedLink, LinkClosed


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


def test_messages_larger_than_the_socket_buffer_arrive_whole_without_blocking():
    s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    poller = zmq.Poller()
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
