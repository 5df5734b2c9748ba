"""Submitting a Django admin change form as a browser would: what the page shows goes back."""

from html.parser import HTMLParser


class _FormValues(HTMLParser):
    """The successful controls of a page's forms, by name: text and hidden inputs, checked boxes,
    selected options (the first one when none is), textareas. Submit buttons and the inlines'
    empty-form templates (`__prefix__`) are left out."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self._set(name, attrs.get("value", "on" if kind in ("checkbox", "radio") else ""))
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self._set(self._select, value)
        elif tag == "textarea" and name:
            self._textarea = name
            self._set(name, "")

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] = self.values.get(self._textarea, "") + data

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if self._select not in self.values and self._first_option is not None:
                self._set(self._select, self._first_option)
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def _set(self, name, value):
        if "__prefix__" not in name:
            self.values[name] = value


def form_values(response) -> dict[str, str]:
    """What submitting the admin page in `response` unchanged would post."""
    parser = _FormValues()
    parser.feed(response.content.decode())
    return parser.values


def inline_prefix(values: dict[str, str], inline: str, pk: int) -> str:
    """The field prefix (`ticket_types-1-`) of the inline form editing the object `pk`."""
    for name, value in values.items():
        if name.startswith(f"{inline}-") and name.endswith("-id") and value == str(pk):
            return name.removesuffix("id")
    raise KeyError(f"no {inline} form for {pk}")
