"""The Content-Security-Policy of every HTML page, through django-csp.

The policy is `settings.CONTENT_SECURITY_POLICY`: scripts, styles, images and fonts from this
site (and the static files host), fetches to this site only, no plugins, no framing, no
inline script or style anywhere. Every script and style of the fan pages, the widget demo,
Swagger UI and the back office is a static file, so no page needs a nonce and the policy is the
same for every page.

This middleware is django-csp's, with two changes for the hot paths:

- it builds the header once, not for every response (django-csp builds the enforced and the
  report-only policy per response, and makes a lazy nonce per request): no nonce is offered, so
  `request.csp_nonce` does not exist;
- responses that render no page get no header: those that are not HTML (the widget API and its
  loader, the tracking pixel, the checkout API) and those with no body (the beacon's 204, the
  redirects after a form, such as Buy's), whatever their Content-Type says. They pay a check of
  their status and a look-up of their Content-Type.

A view may still change its policy with django-csp's decorators (`csp_update`, `csp_replace`,
`csp_exempt`); django-csp then builds that response's header as usual.
"""

from functools import cached_property

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings

_SET_BY_A_DECORATOR = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def process_request(self, request):
        return None  # no nonce: nothing inline needs one

    def process_response(self, request, response):
        if HEADER in response or not _renders_a_page(response):
            return response
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # Django's technical pages are inline styles and scripts
        if any(hasattr(response, name) for name in _SET_BY_A_DECORATOR):
            return super().process_response(request, response)
        response[HEADER] = self.policy
        return response

    @cached_property
    def policy(self) -> str:
        return build_policy()


def _renders_a_page(response) -> bool:
    status = response.status_code
    return (
        status != 204
        and not 300 <= status < 400
        and response.get("Content-Type", "").startswith("text/html")
    )
