"""WSGI entry point: gunicorn locally and in benchmarks, Zappa's handler on Lambda."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketing.settings")

application = get_wsgi_application()
