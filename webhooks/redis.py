"""One Redis client per process, for hot paths that need more than Django's cache API.

Django's Redis cache builds a client object per call and its `incr` costs two round trips
(EXISTS, then INCRBY); a receiver's rate-limit counter is one pipelined round trip here. None
in the embedded default, which has no Redis: callers fall back to the cache.
"""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis | None:
    # redis-py's pool notices a fork (gunicorn, Celery prefork) and reconnects in the child.
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None
