"""The Redis cache answers a miss, not an error, while Redis is unreachable."""

import os
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import caches

from portal.cache import ResilientRedisCache, count_hit


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


def test_counter_counts_every_hit_as_the_first_while_redis_is_unreachable(
    unreachable: ResilientRedisCache,
) -> None:
    assert [count_hit("hits", 60, cache=unreachable) for _ in range(3)] == [1, 1, 1]


def test_counter_counts_hits_in_the_configured_cache() -> None:
    # Redis when REDIS_URL is set (one pipelined round trip), the local cache otherwise.
    assert [count_hit("hits", 60) for _ in range(3)] == [1, 2, 3]
    assert count_hit("other-hits", 60) == 1


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a Redis server (REDIS_URL)")
def test_counter_on_redis_expires_after_its_window() -> None:
    cache = caches["default"]
    assert isinstance(cache, ResilientRedisCache)
    count_hit("expiring-hits", 60)
    full_key = cache.make_and_validate_key("expiring-hits")
    ttl = cache._cache.get_client(full_key).ttl(full_key)
    assert 0 < ttl <= 61


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a Redis server (REDIS_URL)")
def test_one_redis_client_serves_every_call_from_every_thread() -> None:
    cache = caches["default"]
    assert isinstance(cache, ResilientRedisCache)
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    with ThreadPoolExecutor(max_workers=4) as threads:
        list(threads.map(lambda i: cache.set(f"shared-{i}", i), range(40)))
        assert list(threads.map(lambda i: cache.get(f"shared-{i}"), range(40))) == list(range(40))
