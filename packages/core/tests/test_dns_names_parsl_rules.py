"""``parsl.utils.sanitize_dns_*_rfc1123`` follow Parsl's rules: runs of invalid characters and
hyphens become one hyphen, a label is cut to 63 characters before its ends are trimmed, and a
non-empty part of a subdomain that keeps nothing valid is an error (KubernetesProvider then
falls back to ``parsl.kube``)."""

from __future__ import annotations

import pytest

from parsl.utils import sanitize_dns_label_rfc1123, sanitize_dns_subdomain_rfc1123


@pytest.mark.parametrize(
    "raw, label",
    [
        ("Z9_$ a ", "z9-a"),
        ("a--b", "a-b"),
        ("-" + "a" * 70, "a" * 62),  # cut to 63 first ("-" + 62 a), then the "-" trimmed
        ("My_Workers", "my-workers"),
    ],
)
def test_label(raw, label):
    assert sanitize_dns_label_rfc1123(raw) == label


@pytest.mark.parametrize(
    "raw, subdomain",
    [
        ("..My..Host.-x-.", "my.host.x"),
        (".__9$$Z", "9-z"),
        ("test.job.name", "test.job.name"),
    ],
)
def test_subdomain(raw, subdomain):
    assert sanitize_dns_subdomain_rfc1123(raw) == subdomain


@pytest.mark.parametrize("raw", ["a.-.a", "x.$$$", "", ".", "$$$"])
def test_a_part_with_nothing_valid_is_an_error(raw):
    with pytest.raises(ValueError, match="is empty for input"):
        sanitize_dns_subdomain_rfc1123(raw)
