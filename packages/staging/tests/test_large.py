"""Scale: a 1 GiB download streamed with flat memory, and 10,000 small files in one workflow.

Both are slow tests; each prints its figures (run pytest with ``-s`` to see them).
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import textwrap
import time

import pytest

from parsl.app.app import python_app
from parsl.data_provider.files import File
from parsl.executors.threads import ThreadPoolExecutor

pytestmark = pytest.mark.slow

GIB = 1 << 30
#: the block http_test_server.py repeats for /stream/ (same seed)
BLOCK = random.Random(1234).randbytes(1 << 20)

WORKFLOW = textwrap.dedent("""
    import hashlib, json, os, resource, sys, time
    import parsl
    from parsl.app.app import python_app
    from parsl.config import Config
    from parsl.data_provider.files import File
    from parsl.executors.threads import ThreadPoolExecutor

    @python_app
    def digest(inputs=()):
        h = hashlib.sha256()
        size = 0
        with open(inputs[0].filepath, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
        os.unlink(inputs[0].filepath)
        return size, h.hexdigest()

    def peak_rss_kib():
        # VmHWM: the high-water mark of this program's own memory. (ru_maxrss is not: after
        # a vfork+exec it starts at the parent's size, e.g. a big pytest process.)
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    url, run_dir = sys.argv[1], sys.argv[2]
    before = peak_rss_kib()
    with parsl.load(Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=run_dir)):
        t0 = time.monotonic()
        size, sha = digest(inputs=[File(url)]).result()
        seconds = time.monotonic() - t0
    peak = peak_rss_kib()
    print(json.dumps({"size": size, "sha256": sha, "seconds": seconds,
                      "peak_rss_kib": peak, "rss_before_kib": before}))
""")


def test_one_gib_over_http_streams_with_flat_memory(http_server, tmp_path):
    """Download + hash of 1 GiB inside a real workflow, in a fresh process whose peak RSS we read."""
    expected = hashlib.sha256()
    for _ in range(GIB // len(BLOCK)):
        expected.update(BLOCK)
    script = tmp_path / "big.py"
    script.write_text(WORKFLOW)
    out = subprocess.run(
        [sys.executable, str(script), f"{http_server}/stream/{GIB}/big.bin", str(tmp_path / "runinfo")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["size"] == GIB
    assert figures["sha256"] == expected.hexdigest()
    peak_mib = figures["peak_rss_kib"] / 1024
    print(
        f"\n1 GiB over HTTP: staged and hashed in {figures['seconds']:.1f} s "
        f"({GIB / figures['seconds'] / 1e6:.0f} MB/s); workflow process peak RSS {peak_mib:.0f} MiB "
        f"(at start {figures['rss_before_kib'] / 1024:.0f} MiB)"
    )
    assert peak_mib < 200, f"peak RSS {peak_mib:.0f} MiB: the download is not streamed"


def test_ten_thousand_small_files_through_a_workflow(load, http_server):
    n = 10_000
    load(executors=[ThreadPoolExecutor(label="threads", max_threads=8)])

    @python_app
    def first_line(inputs=()):
        with open(inputs[0].filepath) as f:
            return f.readline()

    t0 = time.monotonic()
    futs = [first_line(inputs=[File(f"{http_server}/gen/f{i}.txt")]) for i in range(n)]
    submitted = time.monotonic() - t0
    results = [f.result(timeout=600) for f in futs]
    seconds = time.monotonic() - t0
    assert results == [f"content of f{i}.txt\n" for i in range(n)]
    print(
        f"\n{n} files over HTTP (separate staging tasks, 8 threads): {seconds:.1f} s in all, "
        f"{submitted:.1f} s to submit, {n / seconds:.0f} files/s"
    )
