"""The fan's side of refunds: asking for one after a postponement, from the order page.

`csrf_exempt` for the reason the checkout's forms are (ticketing/orders/views.py): no cookie
carries any authority here; the order's secret access key in the URL is what is needed.
"""

from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ticketing.fans.languages import request_language
from ticketing.orders import selectors as order_selectors
from ticketing.orders.views import _render_private

from . import services
from .errors import RefundRefused


@csrf_exempt
@require_POST
def request_refund(request, code, access_key):
    order = order_selectors.order_by_access_key(code, access_key)
    language = request_language(request, order.language)
    try:
        with translation.override(language):
            if request.POST.get("confirm") != "yes":  # the page's checkbox (browsers enforce it)
                raise RefundRefused(
                    _("Please tick the box to confirm the refund."), code="not_confirmed"
                )
            services.request_postponement_refund(order)
    except RefundRefused as error:
        context = {"order": order, "error": error.message}
        return _render_private(
            request, "refunds/refused.html", context, language, status=error.status
        )
    return redirect(order)
