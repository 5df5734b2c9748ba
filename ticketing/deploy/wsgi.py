"""The WSGI application Zappa runs on Lambda (`app_function` in zappa_settings.json).

Zappa sets `SCRIPT_NAME=/<stage>` whenever the Host is an amazonaws.com name, which is right on
the raw execute-api URL (`https://<id>.execute-api.<region>.amazonaws.com/production/...`) but
wrong behind CloudFront: CloudFront also talks to the execute-api host, but its origin path maps
the stage away, so links, redirects and static URLs must not carry `/production`. CloudFront
tells us it is in front by sending the viewer's host in `X-Forwarded-Host` (a CloudFront Function
in infra/cloudformation.yml); with that header present the public root is `/`.
"""

import gc

# Cold start: setting Django up allocates a few hundred thousand objects, none of them garbage;
# the cyclic collector would scan them again and again (about a fifth of the CPU time of a cold
# start, bench/coldstart.py). Collect nothing while setting up, then freeze what setup made so
# that later collections skip it.
gc.disable()
try:
    from ticketing.wsgi import application as django_application
finally:
    gc.freeze()
    gc.enable()


def without_stage_behind_cdn(app):
    def application(environ, start_response):
        if environ.get("HTTP_X_FORWARDED_HOST"):
            environ["SCRIPT_NAME"] = ""
        return app(environ, start_response)

    return application


application = without_stage_behind_cdn(django_application)
