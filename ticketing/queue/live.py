"""The waiting room in the promoter's live sales view (/admin/events/event/<id>/live/): the
queue's figures beside the inventory, and the admission rate control next to them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import selectors, services
from .models import WaitingRoom


def figures(event) -> dict:
    """The queue's part of the live view's JSON (`queue`); `state` "off" without a room."""
    found = selectors.live_figures(event)
    eta = found.get("sell_out_eta_minutes")
    return {**found, "sell_out_eta": "–" if eta is None else f"{eta:g} min"}


@require_POST
def rate_view(request, object_id, *, model_admin):
    """POST `auto=1`, or `rate=<fans per minute>`: changes the admission rate from now on."""
    event = model_admin.get_object(request, object_id)  # another promoter's event: 404
    if event is None or not model_admin.has_change_permission(request, event):
        raise PermissionDenied
    try:
        if request.POST.get("auto"):
            services.set_rate(event.pk, auto=True)
            messages.success(request, "Admission rate: auto (follows the seats left).")
        else:
            rate = int(request.POST.get("rate", ""))
            services.set_rate(event.pk, rate_per_minute=rate)
            messages.success(request, f"Admission rate: {rate} fans per minute.")
    except ValueError:
        messages.error(request, "The rate is a whole number of fans per minute, 0 to 1,000,000.")
    except WaitingRoom.DoesNotExist:
        messages.error(request, "This event has no waiting room.")
    return redirect(reverse("admin:events_event_live", args=[event.pk]))
