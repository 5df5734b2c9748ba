"""Prices and moments as a fan reads them in their language, from CLDR through Babel: the same
data the widget's `Intl` formats with, so "39,50 €" and "Di., 8. Dez. 2026, 20:00" read alike
on the widget, the fan pages and in the emails. Moments are shown in the venue's time zone.

The language is the active one (`translation.override` around a page or an email); its CLDR
locale is the widget's: `en` reads as British English ("Tue, 8 Dec 2026, 20:00", "€39.50").
"""

import datetime as dt
import functools
import zoneinfo
from decimal import Decimal

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import format_currency
from django.utils import translation

# The widget's DEFAULT_LOCALES: a bare language's CLDR locale.
CLDR_LOCALES = {"en": "en_GB", "de": "de", "fr": "fr", "es": "es"}


@functools.cache
def _cldr_locale(language: str) -> Locale:
    return Locale.parse(CLDR_LOCALES.get(language.split("-")[0], "en_GB"))


def cldr_locale(language: str | None = None) -> Locale:
    """The Babel locale of `language`, the active language by default."""
    return _cldr_locale(language or translation.get_language() or "en")


def price(amount: Decimal, currency: str, language: str | None = None) -> str:
    """`39,50 €` (de), `€39.50` (en), `6.500 ¥` (de, yen have no minor unit)."""
    return format_currency(amount, currency, locale=cldr_locale(language))


def _in_zone(moment: dt.datetime, zone) -> dt.datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(zone) if isinstance(zone, str) else zone)


def date(moment: dt.datetime, zone, language: str | None = None) -> str:
    """`Di., 8. Dez. 2026`: weekday, day, short month and year."""
    return format_skeleton("yMMMEd", _in_zone(moment, zone), locale=cldr_locale(language))


def time(moment: dt.datetime, zone, language: str | None = None) -> str:
    """`20:00`; `8:00 PM` where the locale counts hours so."""
    return format_time(_in_zone(moment, zone), "short", locale=cldr_locale(language))


def datetime(moment: dt.datetime, zone, language: str | None = None) -> str:
    """`Di., 8. Dez. 2026, 20:00` in the venue's zone, as the widget's Intl writes it."""
    locale = cldr_locale(language)
    pattern = locale.datetime_formats["medium"]
    return pattern.format(time(moment, zone, language), date(moment, zone, language))


def day_and_month(moment: dt.datetime, zone, language: str | None = None) -> str:
    """`8. Dez.`, `8 Dec`: for compact lists."""
    return format_skeleton("MMMd", _in_zone(moment, zone), locale=cldr_locale(language))
