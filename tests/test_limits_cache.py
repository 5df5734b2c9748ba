"""The rate limiter (ticketing/limits/ratelimit.py) counts exactly under concurrency, in process
memory (local runs) and in a real Redis server (production: REDIS_URL, shared by all Lambda
containers)."""

import shutil
import subprocess
import threading
import time

import pytest
import redis
from django.core.cache import cache

from ticketing.limits import ratelimit

from .servers import free_port

REDIS_PORTS = range(8480, 8490)  # this file's own range on the shared machine


@pytest.fixture
def redis_cache(settings):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("needs redis-server (apt-get install redis-server)")
    port = free_port(REDIS_PORTS)
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    yield client
    cache.close()
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["locmem", "redis"])
def backend(request, settings):
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    settings.RATE_LIMITS = {"holds": (10, 60)}
    cache.clear()
    return request.param


def hit_concurrently(key: str, times: int, now: float) -> list[ratelimit.Decision]:
    barrier = threading.Barrier(times)
    decisions = [None] * times

    def run(index):
        barrier.wait(timeout=10)
        decisions[index] = ratelimit.hit("holds", key, now=now)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return decisions


def test_forty_requests_at_once_get_exactly_the_limit(backend):
    now = 1_800_000_030.25  # 30.25 s into a minute's window
    decisions = hit_concurrently("fan", 40, now)
    assert sum(d.allowed for d in decisions) == 10
    assert {d.retry_after for d in decisions} == {30}  # when the window ends, rounded up
    assert ratelimit.hit("holds", "other-fan", now=now).allowed  # clients count apart
    assert ratelimit.hit("holds", "fan", now=now + 30).allowed  # a new window


def test_counts_expire_with_their_window(redis_cache, settings):
    settings.RATE_LIMITS = {"holds": (1, 60)}
    ratelimit.hit("holds", "fan", now=time.time())
    (key,) = redis_cache.keys("*ratelimit:holds:fan:*")
    assert 60 < redis_cache.ttl(key) <= 65  # nothing is kept past its window (and a margin)


def test_a_scope_not_configured_is_not_limited(settings):
    settings.RATE_LIMITS = {}
    assert all(ratelimit.hit("holds", "fan").allowed for _ in range(100))
