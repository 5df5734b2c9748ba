"""The function's entry point on Lambda (`lambda_handler` in zappa_settings.json).

API Gateway's HTTP events (pages, the widget API, the beacon, the checkout API) go straight to
Django through apig-wsgi, so a new container in an on-sale burst pays for Django and the
application only. Every other event (the hold expiry schedule, keep-warm, the tracking
consumer's Kinesis batches, `zappa manage` and `zappa invoke`) goes to Zappa's own handler,
imported when the first such event arrives: it imports boto3, werkzeug and asyncio before
anything else, which no HTTP request needs.
"""

import importlib
import logging
import os
import time

import zappa_settings  # written into the package root by `zappa package`: the stage's settings

# As Zappa's handler does: the stage's `environment_variables` live in the package, not in the
# function's configuration.
os.environ.update(zappa_settings.ENVIRONMENT_VARIABLES)
os.environ["DJANGO_SETTINGS_MODULE"] = zappa_settings.DJANGO_SETTINGS

from apig_wsgi import make_lambda_handler

from ticketing.deploy.wsgi import application

# Zappa's text types: API Gateway takes every media type as binary (`binary_support`), so any
# other body (the tracking pixel) leaves base64-encoded.
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml",
              "image/svg+xml")  # fmt: skip

logger = logging.getLogger("ticketing.access")
serve_http = make_lambda_handler(
    application,
    binary_support=zappa_settings.BINARY_SUPPORT,
    non_binary_content_type_prefixes=TEXT_TYPES,
)


def lambda_handler(event, context):
    if is_http(event):
        started = time.perf_counter()
        response = serve_http(event, context)
        # The access log line Zappa's handler wrote, for `zappa tail` and CloudWatch searches.
        logger.info(
            "%s %s %s %.1f ms",
            event["httpMethod"],
            event["path"],
            response["statusCode"],
            (time.perf_counter() - started) * 1000,
        )
        return response
    return zappa_handler()(event, context)


def is_http(event) -> bool:
    """An API Gateway REST API request (payload format 1.0), the only HTTP source we deploy."""
    return isinstance(event, dict) and "httpMethod" in event and "requestContext" in event


def zappa_handler():
    return importlib.import_module("handler").lambda_handler  # Zappa's, in the package root
