"""The Redis cache answers a miss, not an error, while Redis is unreachable."""

import socket

import pytest

from portal.cache import ResilientRedisCache


@pytest.fixture
def unreachable() -> ResilientRedisCache:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return ResilientRedisCache(
        f"redis://127.0.0.1:{port}/0", {"OPTIONS": {"socket_connect_timeout": 0.2}}
    )


def test_read_is_a_miss(unreachable: ResilientRedisCache) -> None:
    assert unreachable.get("throttle", "fallback") == "fallback"
    assert unreachable.get_many(["a", "b"]) == {}
    assert unreachable.has_key("a") is False


def test_write_is_skipped(unreachable: ResilientRedisCache) -> None:
    unreachable.set("a", 1)
    assert unreachable.add("a", 1) is False
    assert unreachable.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert unreachable.delete("a") is False
