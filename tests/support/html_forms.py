"""A page's links and forms as a browser would submit them, for the tests that crawl the site and post.

Every named control a form would send is kept with the values the page offered: a select's options, a
hidden or checkbox input's value, a text input's or textarea's text (``['']`` when empty). File inputs are
listed apart; buttons are not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    """One ``<form>`` of a page."""

    page: str
    action: str
    """The ``action`` attribute as written (the page's own path when absent)."""
    method: str
    multipart: bool
    fields: dict[str, list[str]] = field(default_factory=dict)
    """name → the values the page offered (options, the value of a hidden or checkbox input, or [''])."""
    hidden: set[str] = field(default_factory=set)
    """Which of ``fields`` are hidden inputs (a CSRF token, an expected version…)."""
    files: list[str] = field(default_factory=list)
    persona: str = ""
    """Who found the form, for a crawl made as several users."""


class PageParser(HTMLParser):
    """Collects the links (``href`` starting with ``/``, as written) and the forms of one page."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            self._form.fields[self._textarea][-1] += data

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and values.get("href", "").startswith("/"):
            self.links.append(values["href"])
        elif tag == "form":
            method = values.get("method", "get").lower()
            action = values.get("action") or self.page
            self._form = Form(self.page, action, method, "multipart" in values.get("enctype", ""))
        elif self._form is not None and "name" in values:
            name = values["name"]
            if tag == "input":
                kind = values.get("type")
                if kind == "file":
                    self._form.files.append(name)
                elif kind not in ("submit", "button", "image", "reset"):
                    self._form.fields.setdefault(name, []).append(values.get("value", ""))
                    if kind == "hidden":
                        self._form.hidden.add(name)
            elif tag == "textarea":
                self._form.fields.setdefault(name, []).append("")
                self._textarea = name
            elif tag == "select":
                self._select = name
                self._form.fields.setdefault(name, [])
        elif tag == "option" and self._form is not None and self._select is not None:
            self._form.fields[self._select].append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_page(body: str, page: str) -> PageParser:
    """The links and forms of ``body``, the HTML served at ``page``."""
    parser = PageParser(page)
    parser.feed(body)
    return parser
