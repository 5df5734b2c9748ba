"""Compile the fan pages' translations (locale/<lang>/LC_MESSAGES/django.po) into the .mo files
Django reads, with Babel: no GNU gettext needed. The .mo files are committed, so a checkout, the
test run and the Lambda package have them without this step; run it after editing a .po (a test
fails while a .mo is behind its .po).

Extracting new strings into the .po files is Django's own `makemessages` (it needs GNU gettext):

    DEBUG=1 python manage.py makemessages -l de -l fr -l es --no-location --no-obsolete \\
        -i ".venv/*" -i "build/*" -i "staticfiles/*" -i "tests/*" -i "bench/*" -i "infra/*"
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogs() -> list[Path]:
    return sorted(
        path for root in settings.LOCALE_PATHS for path in Path(root).glob("*/LC_MESSAGES/*.po")
    )


def read(po_path: Path):
    with po_path.open("rb") as po_file:
        return read_po(po_file, locale=po_path.parent.parent.name)


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo files with Babel."

    def handle(self, *args, **options):
        for po_path in catalogs():
            catalog = read(po_path)
            untranslated = [m.id for m in catalog if m.id and not m.string]
            if untranslated:
                raise CommandError(f"{po_path}: untranslated: {untranslated[:5]}")
            with po_path.with_suffix(".mo").open("wb") as mo_file:
                write_mo(mo_file, catalog, use_fuzzy=False)
            self.stdout.write(f"{po_path.with_suffix('.mo')}: {len(catalog) - 1} messages")
