"""429 answers: the `Retry-After` header every refusal of the limits carries, and the admin's
lockout page (django-axes' AXES_LOCKOUT_CALLABLE)."""

import math

from axes.helpers import get_cool_off
from django.shortcuts import render


def with_retry_after(response, error):
    """`response` with `Retry-After` when `error` is a refusal of the limits (else unchanged)."""
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def admin_lockout(request, response=None, credentials=None):
    """Too many failed logins to the back office from this address for this user name."""
    cool_off = get_cool_off(request)
    seconds = max(1, math.ceil(cool_off.total_seconds())) if cool_off else 3600
    minutes = math.ceil(seconds / 60)
    page = render(request, "limits/admin_lockout.html", {"minutes": minutes}, status=429)
    page["Retry-After"] = str(seconds)
    return page
