"""A case as lists show it: plain values of the columns a list reads, not an ORM object."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from app.models import Case


class ListedCase(NamedTuple):
    """A case as the lists (work queues, a person's own cases) show it: its folio, definition, state, people
    and dates as plain values. Not an ORM object: a list of two hundred cases would spend more building and
    tracking those than reading the rows; its data and settings (JSON) stay in the database. A caller that
    needs more reads the case itself."""

    id: int
    folio: str
    workflow: str
    workflow_version: int
    state: str
    version: int
    applicant_id: int
    assignee_id: int | None
    department_code: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


LISTED_COLUMNS = tuple(getattr(Case, name) for name in ListedCase._fields)
"""What a list selects of each case: the columns of :class:`ListedCase`, in its order."""
