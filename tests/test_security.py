from __future__ import annotations

from dialer.security import (
    callback_token,
    generate_api_key,
    hash_api_key,
    split_api_key,
    verify_callback_token,
)


def test_api_keys_are_random_and_only_their_digest_is_kept() -> None:
    first, second = generate_api_key(), generate_api_key()
    assert first.plaintext != second.plaintext
    assert first.key_hash == hash_api_key(first.plaintext)
    assert first.plaintext not in first.key_hash
    assert split_api_key(first.plaintext) == first.prefix


def test_malformed_keys_have_no_prefix() -> None:
    for text in ("", "dk_", "dk_short_x", "xx_0123456789ab_secret", "no-underscores"):
        assert split_api_key(text) is None


def test_callback_tokens_are_bound_to_secret_provider_and_attempt() -> None:
    token = callback_token("s" * 32, "xoxzo", 7)
    assert verify_callback_token("s" * 32, "xoxzo", 7, token)
    assert not verify_callback_token("s" * 32, "xoxzo", 8, token)
    assert not verify_callback_token("s" * 32, "voxology", 7, token)
    assert not verify_callback_token("t" * 32, "xoxzo", 7, token)
    assert not verify_callback_token("s" * 32, "xoxzo", 7, token[:-1] + "0")
