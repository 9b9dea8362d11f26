"""The SSH door's nickname rule, without sockets: claims by key, accounts by password."""

from __future__ import annotations

from soketler.doors.ssh.identity import Login, NickGuard

AYSE_KEY = "SHA256:ayse"
OTHER_KEY = "SHA256:other"


def test_a_claimed_nickname_is_refused_to_other_keys_and_to_passwords() -> None:
    guard = NickGuard({"ayse": AYSE_KEY})
    assert guard.problem(Login("ayse", AYSE_KEY), "ayse") is None
    assert guard.problem(Login("ayse", AYSE_KEY), "AYSE") is None  # names ignore case
    refused = guard.problem(Login("x", OTHER_KEY), "Ayse")
    assert refused is not None and "another SSH key" in refused
    assert guard.problem(Login("x", account="bob"), "ayse") is not None


def test_an_account_nickname_needs_its_password_or_a_key_claimed_before() -> None:
    guard = NickGuard({"cem": AYSE_KEY}, {"bob", "cem"})
    assert guard.problem(Login("bob", account="bob"), "bob") is None
    refused = guard.problem(Login("bob", OTHER_KEY), "bob")
    assert refused is not None and "password" in refused
    assert guard.problem(Login("x", account="dan"), "bob") is not None
    # A key that held the nickname before the account was made keeps it.
    assert guard.problem(Login("cem", AYSE_KEY), "cem") is None
    assert guard.problem(Login("cem", account="cem"), "cem") is None


def test_free_nicknames_are_free_and_a_key_login_claims_only_valid_free_ones() -> None:
    guard = NickGuard({"ayse": AYSE_KEY}, {"bob"})
    login = Login("cem", OTHER_KEY)
    assert guard.problem(login, "cem") is None
    assert guard.may_claim(login, "cem")
    assert not guard.may_claim(login, "ayse")  # held
    assert not guard.may_claim(login, "bob")  # an account's
    assert not guard.may_claim(login, "9lives")  # not a nickname
    assert not guard.may_claim(Login("cem", account="cem"), "cem")  # no key
