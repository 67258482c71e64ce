"""The Redis a process starts for itself, and its restart (the chaos run's)."""

from __future__ import annotations

import redis

from dialer.redis_embedded import EmbeddedRedis


def test_a_restart_comes_back_empty_on_the_same_socket() -> None:
    with EmbeddedRedis() as server:
        url = server.url
        client = redis.Redis.from_url(url)
        client.set("queued", "work")
        server.restart()
        assert server.url == url
        fresh = redis.Redis.from_url(url)
        assert fresh.ping() and fresh.get("queued") is None
