"""The Redis cache's `incr` (creatorhub.cache): one atomic step that keeps the key's expiry and refuses
a key that is not there, as Django's cache API says. On a redis-server of the test's own."""

import pytest
import redis

from creatorhub.cache import RedisCache


@pytest.fixture
def cache(redis_server):
    return RedisCache(redis_server.url, {})


@pytest.fixture
def raw(redis_server):
    """The same Redis, seen directly: the key the cache made, its value and its time to live."""
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


def test_incr_counts_up_and_keeps_the_keys_expiry(cache, raw):
    cache.add("hits", 1, timeout=60)
    assert cache.incr("hits") == 2
    assert cache.incr("hits", 5) == 7
    assert cache.get("hits") == 7
    assert 0 < raw.ttl(cache.make_key("hits")) <= 60


def test_incr_of_a_missing_key_is_a_value_error_and_creates_nothing(cache, raw):
    with pytest.raises(ValueError, match="not found"):
        cache.incr("gone")
    assert raw.exists(cache.make_key("gone")) == 0


def test_incr_works_again_after_redis_forgot_its_scripts(cache, raw):
    cache.add("again", 1, timeout=60)
    assert cache.incr("again") == 2
    raw.script_flush()
    assert cache.incr("again") == 3
