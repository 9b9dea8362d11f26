from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.security.fingerprints import (
    FingerprintError,
    format_fingerprint,
    matches,
    parse_fingerprint,
    sha256_fingerprint,
)

digests = st.binary(min_size=32, max_size=32)


@given(digests)
def test_the_colon_form_reads_back(digest: bytes) -> None:
    text = format_fingerprint(digest)
    assert len(text) == 95 and text == text.upper() and text.count(":") == 31
    assert parse_fingerprint(text) == digest


@given(digests, st.sampled_from(["{}", "{lower}", "{bare}", "SHA256:{}", "sha256 Fingerprint={}"]))
def test_the_forms_people_paste_are_read(digest: bytes, shape: str) -> None:
    colons = format_fingerprint(digest)
    text = shape.format(colons, lower=colons.lower(), bare=digest.hex())
    assert parse_fingerprint(text) == digest


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "not a SHA-256 fingerprint"),
        ("AB:CD", "not 2"),
        ("ZZ" * 32, "not a SHA-256 fingerprint"),
        ("AB" * 20, "not 20"),
    ],
)
def test_what_is_not_a_fingerprint_is_refused_with_a_reason(text: str, complaint: str) -> None:
    with pytest.raises(FingerprintError, match=complaint):
        parse_fingerprint(text)


def test_matching_is_by_sha256_of_the_der_bytes() -> None:
    der = b"pretend DER certificate"
    assert sha256_fingerprint(der) == hashlib.sha256(der).digest()
    assert matches(der, hashlib.sha256(der).digest())
    assert not matches(der, hashlib.sha256(b"another").digest())
