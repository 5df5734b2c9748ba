"""The scanner page (/checkin/), its service worker, and pairing a phone by staff login.

The page is a shell with no data of anyone's in it (the service worker caches it for offline
use); what it shows comes from the API with the device's token. Staff who are logged in pair
their phone in one tap: `staff_pair` makes a device of their promoter and hands the page its
pairing code, so the API only ever deals with device tokens.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ticketing.events.models import Membership, Promoter

from . import services


def _staff_promoters(request):
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return Promoter.objects.none()
    if user.is_superuser:
        return Promoter.objects.all()
    return Promoter.objects.filter(
        pk__in=Membership.objects.filter(user=user).values("promoter_id")
    )


@require_GET
def scanner(request):
    promoters = list(_staff_promoters(request).order_by("name"))
    context = {
        "api_root": reverse("checkin-api:pair").removesuffix("pair"),
        "staff_pair_url": reverse("checkin:staff-pair") if promoters else "",
        "staff_promoters": promoters,
        "login_url": f"{reverse('admin:login')}?next={reverse('checkin:scanner')}",
    }
    return render(request, "checkin/scanner.html", context)


@require_POST
def staff_pair(request):
    """Make a device for the logged-in staff member's promoter (the one posted, when they have
    several) and send the page to pair with its code."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("checkin:scanner"), reverse("admin:login"))
    promoters = _staff_promoters(request)
    chosen = request.POST.get("promoter")
    if chosen:
        promoters = promoters.filter(pk=chosen) if chosen.isdigit() else promoters.none()
    promoters = list(promoters[:2])
    if len(promoters) != 1:
        return HttpResponseBadRequest(
            "Choose one of your promoters to scan for."
            if promoters
            else "You scan for no promoter."
        )
    name = (request.POST.get("name") or "").strip()[
        :100
    ] or f"{request.user.get_username()}'s phone"
    device = services.create_device(promoters[0], name, created_by=request.user)
    return HttpResponseRedirect(f"{reverse('checkin:scanner')}#pair={device.pairing_code}")


@require_GET
def service_worker(request):
    response = HttpResponse(
        render_to_string("checkin/sw.js", request=None), content_type="text/javascript"
    )
    response["Cache-Control"] = "no-cache"  # a new page version reaches phones at once
    return response
