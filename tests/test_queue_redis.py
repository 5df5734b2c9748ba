"""The waiting room on the production cache: a real Redis (redis-server on 127.0.0.1) through
Django's RedisCache, as `REDIS_URL` configures it. Arrival numbers from many threads at
once are unique and gapless, which is what the draw and FIFO rest on."""

import datetime as dt
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache import cache

from ticketing.queue import counters, selectors

from .queue_helpers import ask_pass, event_with_room, join
from .servers import free_port

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="needs redis-server")
QUEUE_REDIS_PORTS = range(8260, 8270)  # this suite's own range on the shared machine


@pytest.fixture
def redis_cache(settings, tmp_path):
    port = free_port(QUEUE_REDIS_PORTS)
    server = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    settings.QUEUE_POW_DIFFICULTY = 8
    yield client
    server.terminate()
    server.wait(10)


@pytest.mark.django_db
def test_arrival_numbers_from_many_threads_are_unique_and_gapless(redis_cache):
    _, _, room = event_with_room("redis", on_sale_in=dt.timedelta(minutes=5))
    with ThreadPoolExecutor(16) as pool:
        numbers = list(pool.map(lambda _: counters.take_number(room, counters.PRE), range(400)))
    assert sorted(numbers) == list(range(1, 401))
    assert counters.count(room, counters.PRE) == 400
    assert list(redis_cache.scan_iter(match=":1:queue:*"))  # really in Redis


@pytest.mark.django_db
def test_join_draw_and_pass_through_redis(redis_cache):
    event, _, _ = event_with_room(
        "redis", on_sale_in=-dt.timedelta(seconds=1), rate_per_minute=600_000
    )
    assert cache.get(f"queue:room:{event.pk}") is None
    joined = join(event.pk).json()
    assert joined["kind"] == "fifo" and joined["position"] == 0
    time.sleep(0.01)
    response = ask_pass(event.pk, joined["ticket"])
    assert response.status_code == 200, response.json()
    assert selectors.room(event.pk).drawn_at is not None
    assert redis_cache.get(f":1:queue:{event.pk}:{selectors.room(event.pk).epoch}:fifo") == b"1"
