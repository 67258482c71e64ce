"""Signatures as docs/api.md documents them: its snippet verifies ours, and nothing else."""

from __future__ import annotations

import time

from dialer.webhooks.signing import new_secret, signature
from tests.webhooks.receiver import readme_verify

BODY = b'{"type":"notification.final","notification":{"id":1}}'


def test_the_readme_snippet_verifies_a_signature_and_refuses_anything_changed() -> None:
    verify = readme_verify()
    secret = new_secret()
    now = int(time.time())
    header = signature(secret, now, BODY)
    assert verify(secret, header, BODY)
    assert not verify(secret, header, BODY.replace(b"1", b"2"))
    assert not verify(new_secret(), header, BODY)
    # Replayed after ten minutes, with its signature intact.
    old = signature(secret, now - 600, BODY)
    assert not verify(secret, old, BODY)
    # Signed for another moment than it claims.
    assert not verify(secret, header.replace(f"t={now}", f"t={now - 1}"), BODY)
