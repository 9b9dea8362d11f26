from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soketler.security.passwords import (
    MAX_PASSWORD_CHARS,
    PasswordFormatError,
    PasswordRefused,
    ScryptCost,
    check_new_password,
    hash_password,
    is_password_hash,
    needs_rehash,
    parse_hash,
    verify_password,
)

CHEAP = ScryptCost(log_n=10, r=8, p=1)  # 1 MiB, a few milliseconds: enough to test the logic


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=64), st.text(max_size=64))
def test_a_hash_accepts_its_password_and_no_other(password: str, other: str) -> None:
    encoded = hash_password(password, CHEAP)
    assert verify_password(password, encoded)
    assert verify_password(other, encoded) == (other == password)


def test_the_stored_form_carries_its_cost_and_a_fresh_salt() -> None:
    first, second = hash_password("same password", CHEAP), hash_password("same password", CHEAP)
    assert first.startswith("$scrypt$ln=10,r=8,p=1$")
    assert first != second  # a salt per password: equal passwords do not look equal
    assert parse_hash(first).salt != parse_hash(second).salt
    assert len(parse_hash(first).salt) == 16 and len(parse_hash(first).digest) == 32
    assert is_password_hash(first) and not is_password_hash("hunter2")


def test_the_default_cost_is_memory_hard() -> None:
    assert ScryptCost().memory >= 32 << 20
    assert parse_hash(hash_password("x" * 8)).cost == ScryptCost()


def test_composed_and_decomposed_unicode_are_one_password() -> None:
    encoded = hash_password("şifre-ş", CHEAP)
    assert verify_password("s\u0327ifre-s\u0327", encoded)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "hunter2",
        "$scrypt$ln=10,r=8,p=1$c2FsdA$",
        "$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43,  # 2^30 blocks: 128 GiB
        "$scrypt$ln=10,r=99,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43,
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0$QUJD",  # a hash of the wrong length
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    ],
)
def test_a_damaged_or_foreign_hash_is_an_error_not_a_wrong_password(encoded: str) -> None:
    with pytest.raises(PasswordFormatError):
        verify_password("anything", encoded)


def test_raising_the_cost_marks_old_hashes_for_rehashing() -> None:
    old = hash_password("password", CHEAP)
    assert needs_rehash(old, ScryptCost(log_n=11))
    assert needs_rehash(old, ScryptCost(log_n=10, r=16))
    assert needs_rehash(old, ScryptCost(log_n=10, p=2))
    assert not needs_rehash(old, CHEAP)
    assert not needs_rehash(hash_password("password", ScryptCost(log_n=11)), CHEAP)


def test_new_passwords_have_a_sensible_length() -> None:
    check_new_password("eight ch")
    with pytest.raises(PasswordRefused, match="at least 8"):
        check_new_password("seven c")
    with pytest.raises(PasswordRefused, match="at most"):
        check_new_password("x" * (MAX_PASSWORD_CHARS + 1))
    # An absurdly long guess is refused, still after the work a real check costs.
    assert not verify_password("x" * (MAX_PASSWORD_CHARS + 1), hash_password("x" * 8, CHEAP))
