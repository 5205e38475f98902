"""A Redis cache that a Redis outage cannot turn into errors.

Everything the portal caches can be recomputed (rate-limit counters, rendered records),
so while Redis is unreachable a read is a miss and a write is skipped, with a warning in
the log, instead of a 500 for every request that touches the cache. Rate limits are then
not enforced until Redis is back: the API keeps answering, which matters more (an arrest
notice submitted during the outage is still accepted).
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

Result = TypeVar("Result")
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _tolerant(
    fallback: Callable[..., Any],
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    def decorate(method: Callable[..., Result]) -> Callable[..., Result]:
        @wraps(method)
        def call(self: RedisCache, *args: Any, **kwargs: Any) -> Result:
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as error:
                logger.warning("cache unavailable, %s skipped: %s", method.__name__, error)
                return fallback(*args, **kwargs)  # type: ignore[no-any-return]

        return call

    return decorate


def _default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _empty(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {}


def _unset(data: Any, *args: Any, **kwargs: Any) -> list[Any]:
    return list(data)


def _delta(key: Any, delta: int = 1, *args: Any, **kwargs: Any) -> int:
    return delta


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django builds a new ``redis.Redis`` for every cache call, about 0.1 ms each (its
    table of some 170 response callbacks), and an API request makes several. A client
    is safe to share between threads (its pool hands each command a connection), so one
    per pool is kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    get = _tolerant(_default)(RedisCache.get)
    get_many = _tolerant(_empty)(RedisCache.get_many)
    has_key = _tolerant(_false)(RedisCache.has_key)
    set = _tolerant(_nothing)(RedisCache.set)
    add = _tolerant(_false)(RedisCache.add)
    touch = _tolerant(_false)(RedisCache.touch)
    set_many = _tolerant(_unset)(RedisCache.set_many)
    delete = _tolerant(_false)(RedisCache.delete)
    delete_many = _tolerant(_nothing)(RedisCache.delete_many)
    incr = _tolerant(_delta)(RedisCache.incr)
    clear = _tolerant(_false)(RedisCache.clear)


def count_hit(key: str, window_seconds: int, cache: Any = None) -> int:
    """Add one to the counter ``key`` and answer its new value; the counter disappears a
    little after ``window_seconds``. On Redis this is one round trip (``INCR`` and
    ``EXPIRE`` pipelined) whatever the count, where a list of request times grows with
    the rate. While Redis is unreachable every hit counts as the first. ``cache`` is the
    default cache unless given."""
    cache = caches["default"] if cache is None else cache
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        try:
            client = cache._cache.get_client(full_key, write=True)
            pipeline = client.pipeline(transaction=False)
            pipeline.incr(full_key)
            pipeline.expire(full_key, window_seconds + 1)
            count, _ = pipeline.execute()
        except UNAVAILABLE as error:
            logger.warning("cache unavailable, counter %s not kept: %s", key, error)
            return 1
        return int(count)
    cache.add(key, 0, window_seconds + 1)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.set(key, 1, window_seconds + 1)
        return 1
