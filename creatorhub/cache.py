"""The Redis cache backend (CACHES in settings): Django's, with an `incr` that is one atomic step.

Django's Redis `incr` asks EXISTS, then INCRBY: two round trips on every rate-limited request (the
counters of creatorhub.ratelimits), and a key that expires between the two comes back from INCRBY with
no expiry, a counter that never resets. Here one Lua script checks and increments in Redis itself.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class RedisCacheClient(DjangoRedisCacheClient):
    _incr_existing = None  # the script, sent once per server and then called by its hash (EVALSHA)

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        if self._incr_existing is None:
            self._incr_existing = client.register_script(INCR_EXISTING)
        value = self._incr_existing(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
