"""Walking a list read a page at a time (keyset pagination), as its pages' links are followed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def walked(page: Callable[[Any], tuple[Sequence[Any], Any]], limit: int, pages: int = 20) -> list[Any]:
    """Every item of the list, page after page: ``page(after)`` gives a page's items and where the next page
    starts (``None`` after the last), ``after`` being ``None`` for the first. Each page holds at most ``limit``
    items; the pages must end within ``pages``."""
    items: list[Any] = []
    after = None
    for _ in range(pages):
        shown, after = page(after)
        assert len(shown) <= limit, shown
        items += shown
        if after is None:
            return items
    raise AssertionError(f"the pages did not end within {pages}")
