"""Two origin processes (two Lambda containers, two gunicorn workers) serving the widget API agree
on its ETag for the same data, so a CDN revalidating with If-None-Match gets a 304 whichever of
them answers."""

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.seeded import seeded_database
from tests.test_settings import PRODUCTION_ENV, ROOT


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    with seeded_database("widget_origins", tmp_path_factory.mktemp("origins-db")) as database:
        yield database


class Origin:
    """gunicorn, one worker, production settings, on a port the system picks."""

    def __init__(self, database_url):
        env = {**PRODUCTION_ENV, "DATABASE_URL": database_url, "SECURE_SSL_REDIRECT": "false",
               "PATH": "/usr/bin:/bin"}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "ticketing.wsgi", "--workers", "1",
             "--bind", "127.0.0.1:0", "--log-level", "info"],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        for line in self.process.stderr:
            if found := re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line):
                self.url = found.group(1)
                break
            assert time.monotonic() < deadline, "gunicorn did not start"
        else:
            raise AssertionError(f"gunicorn exited with {self.process.wait()}")

    def get(self, path, headers=None):
        # As a CDN asks: every origin gets the public host name.
        headers = {"Host": PRODUCTION_ENV["ALLOWED_HOSTS"], **(headers or {})}
        request = urllib.request.Request(self.url + path, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:  # 304 comes as an "error" from urllib
            return error.code, error.headers, error.read()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def origins(database):
    started = [Origin(database["url"]), Origin(database["url"])]
    yield started
    for origin in started:
        origin.stop()


def test_every_origin_gives_the_same_etag_and_a_304_for_the_same_data(origins, database):
    path = f"/widget/v1/artists/{database['event']['artist_slug']}/events?limit=5"
    first, second = origins
    status_a, headers_a, body_a = first.get(path)
    time.sleep(0.05)  # built at another moment, in another process
    status_b, headers_b, body_b = second.get(path)

    assert status_a == status_b == 200
    assert headers_a["ETag"] == headers_b["ETag"]
    data_a, data_b = json.loads(body_a), json.loads(body_b)
    assert data_a["events"] and len(data_a["events"]) == 5
    # The same list; each process says when it built it (not part of what the ETag covers).
    assert data_a.pop("generated_at") <= data_b.pop("generated_at")
    assert data_a == data_b

    # A CDN revalidating what one origin gave it gets a 304 from either, with the same ETag.
    for origin in (second, first, second):
        status, headers, body = origin.get(path, {"If-None-Match": headers_a["ETag"]})
        assert (status, body) == (304, b"")
        assert headers["ETag"] == headers_a["ETag"]
