from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from soketler.security.accounts import PasswordChecker
from soketler.security.operators import (
    OperatorConfigError,
    Operators,
    OperCheck,
    operators_from_config,
)
from soketler.security.passwords import ScryptCost, hash_password

CHEAP = ScryptCost(log_n=10)


@pytest.fixture
async def operators() -> AsyncIterator[Operators]:
    config = {
        "alice": {"password": hash_password("alice's secret", CHEAP)},
        "bob": {"password": hash_password("bob's secret", CHEAP), "hosts": ["10.0.0.0/8", "::1"]},
    }
    checker = PasswordChecker()
    yield Operators(operators_from_config(config), checker)
    checker.close()


async def test_check(operators: Operators) -> None:
    assert len(operators) == 2
    assert await operators.check("alice", "alice's secret", "192.0.2.1") is OperCheck.OK
    assert await operators.check("ALICE", "alice's secret", "192.0.2.1") is OperCheck.OK
    assert await operators.check("alice", "bob's secret", "192.0.2.1") is OperCheck.WRONG_PASSWORD
    assert (
        await operators.check("mallory", "alice's secret", "10.0.0.1") is OperCheck.WRONG_PASSWORD
    )
    assert await operators.check("bob", "bob's secret", "10.20.30.40") is OperCheck.OK
    assert await operators.check("bob", "bob's secret", "::1") is OperCheck.OK
    assert await operators.check("bob", "bob's secret", "192.0.2.1") is OperCheck.WRONG_HOST
    # The host is only judged for the right password.
    assert await operators.check("bob", "guess", "192.0.2.1") is OperCheck.WRONG_PASSWORD


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"password": "hunter2"}, "must be a hash made by `soketler user hash`"),
        ({}, "no password"),
        ("hunter2", "expected a table"),
        ({"password": hash_password("x" * 8, CHEAP), "hosts": "10.0.0.0/8"}, "hosts is a list"),
        ({"password": hash_password("x" * 8, CHEAP), "hosts": ["10.0.0.1/8"]}, "did you mean"),
    ],
)
def test_config_entries_that_cannot_be_used(entry: object, complaint: str) -> None:
    with pytest.raises(OperatorConfigError) as refused:
        operators_from_config({"carol": entry})
    assert str(refused.value).startswith("operator carol: ")
    assert complaint in str(refused.value)
