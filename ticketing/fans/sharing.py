"""Share links: plain links to each service's own share page, no third-party script or pixel on
our pages. The URL shared is the event's without a language, so each reader gets their own."""

from urllib.parse import quote, urlencode

from django.utils.translation import gettext as _


def links(url: str, title: str) -> list[tuple[str, str]]:
    """(label, href) for email, WhatsApp, Facebook, X and Telegram, in the active language."""
    text = f"{title} {url}"
    return [
        (_("Email"), f"mailto:?subject={quote(title)}&body={quote(text)}"),
        ("WhatsApp", f"https://wa.me/?{urlencode({'text': text})}"),
        ("Facebook", f"https://www.facebook.com/sharer/sharer.php?{urlencode({'u': url})}"),
        ("X", f"https://x.com/intent/post?{urlencode({'url': url, 'text': title})}"),
        ("Telegram", f"https://t.me/share/url?{urlencode({'url': url, 'text': title})}"),
    ]
