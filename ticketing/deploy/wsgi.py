"""The WSGI application on Lambda: served by `ticketing.deploy.handler` (API Gateway events,
through apig-wsgi), and Zappa's `app_function`, which its handler imports for the other events.

The stage in public paths: on the raw execute-api URL
(`https://<id>.execute-api.<region>.amazonaws.com/production/...`) the stage is the first path
segment, so links, redirects and static URLs must carry it (`SCRIPT_NAME=/production`). Behind
CloudFront they must not: CloudFront also talks to the execute-api host, but its origin path maps
the stage away. CloudFront tells us it is in front by sending the viewer's host in
`X-Forwarded-Host` (a CloudFront Function in infra/cloudformation.yml); with that header present
the public root is `/`.
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


def with_public_script_name(app):
    def application(environ, start_response):
        if environ.get("HTTP_X_FORWARDED_HOST"):
            environ["SCRIPT_NAME"] = ""
        elif environ.get("HTTP_HOST", "").endswith(".amazonaws.com"):
            # apig-wsgi leaves SCRIPT_NAME empty (Zappa's handler sets it the same way).
            stage = environ.get("apig_wsgi.request_context", {}).get("stage")
            if stage:
                environ["SCRIPT_NAME"] = f"/{stage}"
        return app(environ, start_response)

    return application


application = with_public_script_name(django_application)
