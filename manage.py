#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

With no environment at all (a newcomer's `./manage.py migrate`), it runs with the local
development settings, as ./scripts/dev does, and says so on stderr. A run that names its
environment (DJANGO_ENV, DEBUG or SECRET_KEY) gets exactly what it names: production operators
run `DJANGO_ENV=production SECRET_KEY=... DATABASE_URL=... ./manage.py migrate`, which refuses
to start without SECRET_KEY like every other production process.
"""

import os
import sys

ENVIRONMENT_NAMED_BY = ("DJANGO_ENV", "DEBUG", "SECRET_KEY")


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketing.settings")
    if not any(os.environ.get(name) for name in ENVIRONMENT_NAMED_BY):
        os.environ["DJANGO_ENV"] = "development"  # inherited by runserver's reloader: said once
        print(
            "manage.py: no DJANGO_ENV, DEBUG or SECRET_KEY set, so using the local development "
            "settings (DJANGO_ENV=development); for production set DJANGO_ENV=production.",
            file=sys.stderr,
        )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
