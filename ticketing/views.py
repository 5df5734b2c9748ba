from django.http import JsonResponse


def healthz(request):
    """Liveness for load balancers and keep-warm pings; also the benchmarks' floor (a bare view)."""
    return JsonResponse({"ok": True})
