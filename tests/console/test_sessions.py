"""The console's session cookie and CSRF tokens: only ours, unexpired, unaltered, are taken."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dialer.console.sessions import (
    LIFETIME_S,
    SignedIn,
    csrf_token,
    login_token,
    seal,
    unseal,
    valid_csrf,
    valid_login_token,
)

SECRET = "a-secret-for-these-tests-only-0123456789"
NOW = 1_800_000_000
SESSION = SignedIn(key_id=7, nonce="abc", issued_at=NOW)


def test_a_sealed_session_unseals_until_it_expires() -> None:
    cookie = seal(SECRET, SESSION)
    assert unseal(SECRET, cookie, NOW + 60) == SESSION
    assert unseal(SECRET, cookie, NOW + LIFETIME_S) is None
    assert unseal(SECRET, cookie, NOW - 60) is None  # issued in the future
    assert unseal("another-secret-of-the-same-length-0123456", cookie, NOW) is None


def test_a_changed_payload_or_signature_is_refused() -> None:
    payload, signature = seal(SECRET, SESSION).split(".")
    other = seal(SECRET, SignedIn(key_id=8, nonce="abc", issued_at=NOW)).split(".")[0]
    assert unseal(SECRET, f"{other}.{signature}", NOW) is None
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert unseal(SECRET, f"{payload}.{flipped}", NOW) is None


@given(st.text(max_size=400))
def test_any_cookie_value_is_refused_or_read_never_raises(cookie: str) -> None:
    assert unseal(SECRET, cookie, NOW) is None


@given(st.text(max_size=200))
def test_any_presented_token_but_the_right_one_is_refused(presented: str) -> None:
    right = csrf_token(SECRET, SESSION)
    assert valid_csrf(SECRET, SESSION, presented) is (presented == right)
    login = login_token(SECRET, "nonce")
    assert valid_login_token(SECRET, "nonce", presented) is (presented == login)


def test_the_csrf_token_belongs_to_one_session() -> None:
    other = SignedIn(key_id=7, nonce="xyz", issued_at=NOW)
    assert not valid_csrf(SECRET, other, csrf_token(SECRET, SESSION))
