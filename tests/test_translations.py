"""The translations Django reads (the committed .mo files) are those of the .po files, whole."""

import pytest
from babel.messages.mofile import read_mo

from ticketing.fans.management.commands.compile_translations import catalogs, read


def entries(catalog) -> dict:
    def key(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("po_path", catalogs(), ids=lambda path: path.parent.parent.name)
def test_compiled_catalog_matches_its_po_and_translates_everything(po_path):
    source = read(po_path)
    untranslated = [m.id for m in source if m.id and not all(
        m.string if isinstance(m.string, tuple) else [m.string]
    )]  # fmt: skip
    assert untranslated == []
    assert not any(m.fuzzy for m in source if m.id)
    with po_path.with_suffix(".mo").open("rb") as mo_file:
        compiled = read_mo(mo_file)
    assert entries(compiled) == entries(source), (
        "run `python manage.py compile_translations` after editing a .po file"
    )


def test_every_language_of_the_site_has_a_catalog(settings):
    languages = {path.parent.parent.name for path in catalogs()}
    assert languages == {code for code, _ in settings.LANGUAGES} - {"en"}
