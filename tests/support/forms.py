"""Reading the forms of a page as a browser would: the hidden inputs of the form posting to an address."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser


class _Hidden(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._inside = values.get("action") == self.action
        elif tag == "input" and self._inside and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def hidden_fields(page: str, action: str) -> dict[str, str]:
    """The hidden inputs (CSRF token, expected version, idempotency key…) of the form posting to ``action``;
    empty when the page has no such form."""
    parser = _Hidden(action)
    parser.feed(page)
    return parser.fields


def flash_messages(page: str) -> list[str]:
    """The flashed messages shown on a page."""
    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page)]
