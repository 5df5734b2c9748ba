"""The tracking beacon. Plain Django views that never read the session, the user or the CSRF
token, so no response carries Set-Cookie or Vary: Cookie, and never touch the database."""

import base64

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import hits
from .sinks import get_sink

# The smallest transparent GIF (1x1).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


@csrf_exempt
def beacon(request):
    """`POST /t`: a JSON array of hits (or {"events": [...]}) -> 204, hits handed to the sink."""
    if request.method == "OPTIONS":  # preflight of a fetch() with an application/json body
        return _with_cors(HttpResponse(status=204))
    if request.method != "POST":
        return _with_cors(_error(405, "use POST", Allow="POST, OPTIONS"))
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > hits.MAX_BODY_BYTES:  # refused before reading a byte of it
        return _with_cors(_error(413, f"a beacon carries at most {hits.MAX_BODY_BYTES} bytes"))
    try:
        batch = hits.parse_body(request.read(hits.MAX_BODY_BYTES + 1))
    except hits.BadBeacon as error:
        return _with_cors(_error(error.status, str(error)))
    if batch:
        get_sink().submit(hits.encode_beacon(batch, hits.request_context(request)))
    return _with_cors(HttpResponse(status=204))


def pixel(request):
    """`GET /t.gif?id=...&type=...&artist=...`: one hit where beacons are blocked."""
    if request.method not in ("GET", "HEAD"):
        return _error(405, "use GET", Allow="GET, HEAD")
    try:
        batch = hits.parse_query(request.GET)
    except hits.BadBeacon as error:
        return _with_cors(_error(error.status, str(error)))
    get_sink().submit(hits.encode_beacon(batch, hits.request_context(request)))
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return _with_cors(response)


def _error(status: int, message: str, **headers) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers)


def _with_cors(response):
    for name, value in CORS.items():
        response[name] = value
    return response
