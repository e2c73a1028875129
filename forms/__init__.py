"""WTForms classes, one module per feature. Forms get what they need through their constructor."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in the stubs yet


def strip(value: Any) -> Any:
    """WTForms filter: text without leading or trailing blanks (other values unchanged)."""
    return value.strip() if isinstance(value, str) else value


def squeeze(value: Any) -> Any:
    """WTForms filter: text with every run of blanks made one space and none at the ends."""
    return " ".join(value.split()) if isinstance(value, str) else value


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Choices for a select or radio field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
