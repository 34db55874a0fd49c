"""Core's zip: staging, end to end: stage out into archives, stage in from them (threads and HTEX)."""

from __future__ import annotations

import re
import zipfile

import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.data_provider.files import File


@python_app
def write(text, outputs=()):
    with open(outputs[0].filepath, "w") as f:
        f.write(text)
    return outputs[0].filepath


@python_app
def read(inputs=()):
    with open(inputs[0].filepath) as f:
        return f.read()


@bash_app
def count_chars(inputs=(), outputs=()):
    return f"wc -c < {inputs[0]} | tr -d ' ' > {outputs[0]}"


def _roundtrip(tmp_path, n):
    archive = tmp_path / "box.zip"
    outs = [write(f"member {i}\n", outputs=[File(f"zip:{archive}/dir/m{i}.txt")]) for i in range(n)]
    for f in outs:
        f.outputs[0].result(timeout=60)
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == sorted(f"dir/m{i}.txt" for i in range(n))
        assert z.read("dir/m0.txt") == b"member 0\n"
    # stage in from the archive, through the output DataFutures and through fresh Files
    back = [read(inputs=[f.outputs[0]]).result(timeout=60) for f in outs]
    assert back == [f"member {i}\n" for i in range(n)]
    assert read(inputs=[File(f"zip:{archive}/dir/m1.txt")]).result(timeout=60) == "member 1\n"
    # a bash app reading from one archive and writing into another
    counted = count_chars(
        inputs=[File(f"zip:{archive}/dir/m2.txt")], outputs=[File(f"zip:{tmp_path}/counts.zip/m2.count")]
    )
    counted.outputs[0].result(timeout=60)
    with zipfile.ZipFile(tmp_path / "counts.zip") as z:
        assert z.read("m2.count").strip() == b"9"


def test_zip_stage_out_and_in_with_threads(load, tmp_path):
    load()
    _roundtrip(tmp_path, 8)


@pytest.mark.slow
def test_zip_stage_out_and_in_with_htex(htex_config, tmp_path):
    with parsl.load(htex_config()):
        _roundtrip(tmp_path, 6)


def test_missing_member_fails_the_reading_task(load, tmp_path):
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("present.txt", "here")
    load()
    assert read(inputs=[File(f"zip:{archive}/present.txt")]).result(timeout=30) == "here"
    with pytest.raises(KeyError, match=re.escape("absent.txt")):
        read(inputs=[File(f"zip:{archive}/absent.txt")]).result(timeout=30)
