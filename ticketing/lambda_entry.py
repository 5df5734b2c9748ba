"""For modules whose functions Lambda calls directly (Kinesis, schedules): Zappa's handler has set
Django up by the time it calls them, but a bare Lambda runtime (or a plain `python` process)
importing them first has not. Such a module runs, before its Django imports:

    if not apps.ready:
        setup_django()
"""

import os


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketing.settings")
    import django

    django.setup()
