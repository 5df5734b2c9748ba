"""The beacon endpoint, `POST /t` and `GET /t.gif`, with the local sink (no AWS)."""

import json

import pytest

from ticketing.tracking import hits as beacon_hits
from ticketing.tracking.models import RejectedHitCounter

from .tracking_helpers import (
    CHROME,
    GOOGLEBOT,
    counts,
    hit,
    post_hits,
    reset_tracking_sink,  # noqa: F401 (fixture)
    use_sink,
)

pytestmark = pytest.mark.usefixtures("reset_tracking_sink")


@pytest.fixture
def local_sink(settings, db):
    return use_sink(settings, "local")


def test_valid_beacon_is_204_with_cors_and_no_cookie(client, local_sink, promoter_a):
    event = promoter_a["events"][0]
    response = post_hits(client, [hit(), hit("click", event=event.pk)])

    assert response.status_code == 204
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert counts(artist=promoter_a["artist"]) == {
        ("view", None, None, False): 1,
        ("click", event.pk, None, False): 1,
    }


def test_events_envelope_and_json_content_type(client, local_sink, promoter_a):
    body = json.dumps({"events": [hit(affiliate=promoter_a["affiliate"].public_key)]})
    response = client.post("/t", body, content_type="application/json", HTTP_USER_AGENT=CHROME)

    assert response.status_code == 204
    assert counts() == {("view", None, promoter_a["affiliate"].pk, False): 1}


def test_preflight_allows_a_json_post_from_any_origin(client):
    response = client.options(
        "/t", HTTP_ORIGIN="https://fans.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )  # fmt: skip
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"].lower()
    assert "Set-Cookie" not in response


def test_logged_in_user_gets_no_cookie_or_vary_either(client, local_sink, promoter_a, manager_a):
    client.force_login(manager_a)
    response = post_hits(client, [hit()])
    assert response.status_code == 204
    assert "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")


BAD_BODIES = [
    (b"", "not JSON"),
    (b"not json", "not JSON"),
    (b"\xff\xfe\x00", "not JSON"),
    (b"[1, 2", "not JSON"),
    (b"{}", "array"),
    (b'{"events": 3}', "array"),
    (b'"view"', "array"),
    (b"null", "array"),
    (b"[[]]", "hit 0: expected an object"),
    (b"[null]", "expected an object"),
    (json.dumps([{**hit(), "type": "purchase"}]).encode(), "type must be"),
    (json.dumps([{**hit(), "type": None}]).encode(), "type must be"),
    (json.dumps([{k: v for k, v in hit().items() if k != "id"}]).encode(), "id must be"),
    (json.dumps([{**hit(), "id": 12}]).encode(), "id must be"),
    (json.dumps([{**hit(), "id": "x" * 65}]).encode(), "id must be"),
    (json.dumps([{**hit(), "artist": 7}]).encode(), "artist must be"),
    (json.dumps([{**hit(), "artist": "<script>"}]).encode(), "artist must be"),
    (json.dumps([{**hit(), "event": "12"}]).encode(), "event must be"),
    (json.dumps([{**hit(), "event": True}]).encode(), "event must be"),
    (json.dumps([{**hit(), "event": -3}]).encode(), "event must be"),
    (json.dumps([{**hit(), "event": 1.5}]).encode(), "event must be"),
    (json.dumps([hit("click")]).encode(), "a click needs its event"),
    (json.dumps([{**hit(), "affiliate": ["k"]}]).encode(), "affiliate must be"),
    (json.dumps([{**hit(), "affiliate": "k" * 40}]).encode(), "affiliate must be"),
    (json.dumps([{**hit(), "ts": "yesterday"}]).encode(), "ts must be"),
    (json.dumps([{**hit(), "ts": False}]).encode(), "ts must be"),
    (json.dumps([{**hit(), "ts": 1e300}]).encode(), "ts must be"),
    (json.dumps([hit(), {**hit(), "type": "VIEW"}]).encode(), "hit 1: type must be"),
    (b"[" * 8000 + b"]" * 8000, "not JSON"),  # deeper than the parser recurses
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_bodies_are_400_with_a_message_and_nothing_is_kept(client, local_sink, body, message):
    response = client.post("/t", body, content_type="text/plain", HTTP_USER_AGENT=CHROME)

    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert local_sink.stats.submitted == 0


def test_more_than_50_hits_is_413(client, local_sink):
    response = post_hits(client, [hit() for _ in range(51)])
    assert response.status_code == 413
    assert "50 hits" in response.json()["error"]
    assert local_sink.stats.submitted == 0


def test_50_hits_is_fine(client, local_sink, promoter_a):
    assert post_hits(client, [hit() for _ in range(50)]).status_code == 204
    assert counts() == {("view", None, None, False): 50}


def test_body_over_16_kb_is_413(client, local_sink):
    padded = [hit(note="x" * 5000) for _ in range(4)]  # unknown fields are ignored, bytes are not
    response = post_hits(client, padded)
    assert response.status_code == 413
    assert "16384 bytes" in response.json()["error"]


def test_declared_length_over_16_kb_is_413_before_reading(rf, local_sink):
    from ticketing.tracking.views import beacon

    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

    request = rf.post("/t", b"[]", content_type="text/plain")
    request.META["CONTENT_LENGTH"] = str(16 * 1024 + 1)
    request._stream = Unreadable()
    assert beacon(request).status_code == 413


def test_get_on_the_beacon_is_405(client):
    response = client.get("/t")
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"


def test_bots_are_counted_apart(client, local_sink, promoter_a):
    post_hits(client, [hit(), hit()], user_agent=CHROME)
    post_hits(client, [hit()], user_agent=GOOGLEBOT)
    post_hits(client, [hit()], user_agent="")

    assert counts() == {("view", None, None, False): 2, ("view", None, None, True): 2}


def test_unknown_artist_event_and_affiliate_are_dropped_and_counted_as_rejected(
    client, local_sink, promoter_a, promoter_b
):
    other_event = promoter_b["events"][0]
    response = post_hits(
        client,
        [
            hit(artist="nobody"),
            hit("click", event=999_999),
            hit("click", event=other_event.pk),  # another artist's event
            hit(affiliate="no-such-key"),
            hit(affiliate=promoter_b["affiliate"].public_key),  # another promoter's affiliate
            hit(),
        ],
    )

    assert response.status_code == 204  # the endpoint checks shape, not existence
    assert counts() == {("view", None, None, False): 1}
    rejected = dict(RejectedHitCounter.objects.values_list("reason", "count"))
    assert rejected == {"unknown_artist": 1, "unknown_event": 2, "unknown_affiliate": 2}


def test_same_hit_id_twice_counts_once(client, local_sink, promoter_a):
    repeated = hit()
    post_hits(client, [repeated, repeated])
    post_hits(client, [repeated])
    assert counts() == {("view", None, None, False): 1}


def test_pixel_counts_one_hit(client, local_sink, promoter_a):
    event = promoter_a["events"][0]
    response = client.get(
        "/t.gif",
        {"id": "pixel-1", "type": "click", "artist": "alpha-artist", "event": event.pk},
        HTTP_USER_AGENT=CHROME,
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response
    assert counts() == {("click", event.pk, None, False): 1}


@pytest.mark.parametrize(
    "query",
    [{}, {"id": "p", "type": "buy", "artist": "a"}, {"id": "p", "type": "view", "artist": "a",
                                                     "event": "x"}],
)  # fmt: skip
def test_bad_pixel_is_400(client, local_sink, query):
    response = client.get("/t.gif", query)
    assert response.status_code == 400
    assert response.json()["error"]


# --- Enrichment (what the server adds to a hit) -------------------------------------------------


def test_enrichment_has_host_country_bot_and_a_visitor_hash_but_no_ip(rf, settings):
    request = rf.post(
        "/t", "[]", content_type="text/plain", HTTP_USER_AGENT=CHROME,
        HTTP_REFERER="https://Fans.Example:8443/tour?x=1", HTTP_CLOUDFRONT_VIEWER_COUNTRY="de",
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="203.0.113.9:51234", REMOTE_ADDR="10.0.0.1",
    )  # fmt: skip
    context = beacon_hits.request_context(request)

    assert context["host"] == "fans.example"
    assert context["country"] == "DE"
    assert context["bot"] is False
    assert len(context["visitor"]) == 16
    record = beacon_hits.encode_beacon([hit()], context)
    assert b"203.0.113" not in record and b"10.0.0.1" not in record

    same = beacon_hits.request_context(request)["visitor"]
    settings.SECRET_KEY = "another-secret-key"
    beacon_hits._daily_salt.cache_clear()
    assert same == context["visitor"]  # stable within the day for the same visitor
    assert beacon_hits.request_context(request)["visitor"] != context["visitor"]
    beacon_hits._daily_salt.cache_clear()


def test_visitor_hash_is_the_cdn_viewer_address_and_ignores_a_forged_forwarded_for(rf):
    def visitor(**meta):
        request = rf.post("/t", "[]", content_type="text/plain", HTTP_USER_AGENT=CHROME, **meta)
        return beacon_hits.request_context(request)["visitor"]

    viewer = {"HTTP_CLOUDFRONT_VIEWER_ADDRESS": "203.0.113.9:51234", "REMOTE_ADDR": "10.0.0.1"}
    fan = visitor(**viewer)
    # One client sending a new X-Forwarded-For with every beacon is still one visitor...
    forged = {visitor(**viewer, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.9")
              for n in range(5)}  # fmt: skip
    assert forged == {fan}
    # ... and cannot pass for another viewer either; the port of the connection does not count.
    assert visitor(HTTP_CLOUDFRONT_VIEWER_ADDRESS="203.0.113.9:40000") == fan
    assert visitor(HTTP_CLOUDFRONT_VIEWER_ADDRESS="203.0.113.10:51234") != fan
    assert visitor(HTTP_CLOUDFRONT_VIEWER_ADDRESS="2001:db8::1:51234") == visitor(
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="2001:db8::1:443"
    )
    # Without the CDN (locally), the socket's address; a forwarded header changes nothing.
    local = visitor(REMOTE_ADDR="127.0.0.1")
    assert visitor(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7") == local


def test_global_privacy_control_means_no_visitor_hash(rf):
    request = rf.post("/t", "[]", content_type="text/plain", HTTP_SEC_GPC="1")
    assert "visitor" not in beacon_hits.request_context(request)


def test_origin_wins_over_referrer_and_junk_is_ignored(rf):
    request = rf.post(
        "/t", "[]", content_type="text/plain", HTTP_ORIGIN="https://site.example",
        HTTP_REFERER="https://other.example/", HTTP_CLOUDFRONT_VIEWER_COUNTRY="Germany",
    )  # fmt: skip
    context = beacon_hits.request_context(request)
    assert context["host"] == "site.example"
    assert "country" not in context
