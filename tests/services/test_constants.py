"""Values written into statements as constants (``app.database.constant``): only plain ones from the code or the
procedures' declarations, so that a statement's text never carries anything a request could put there."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.database import constant, is_constant
from app.models import Case, TimerStatus


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()])
def test_plain_values_are_written_into_the_statement(dialect: Any) -> None:
    statement = select(Case.id).where(
        Case.workflow == constant("access_request"),
        Case.workflow_version == constant(2),
        Case.department_code == constant("obras_publicas"),
    )
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    assert "cases.workflow = 'access_request'" in sql
    assert "cases.workflow_version = 2" in sql
    assert "cases.department_code = 'obras_publicas'" in sql
    assert not compiled.params  # nothing bound


def test_an_enumerations_value_is_its_constant() -> None:
    sql = str(select(Case.id).where(is_constant(Case.state, TimerStatus.PENDING)).compile())
    assert "cases.state = 'pending'" in sql


@pytest.mark.parametrize("value", ["it's", "a\\b", "x'; DROP TABLE cases; --", "línea\nnueva", 'com"illas'])
def test_a_value_that_is_not_plain_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a plain constant"):
        constant(value)


@pytest.mark.parametrize("value", [True, 1.5, None, b"bytes"])
def test_a_value_of_another_type_is_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="not a plain constant"):
        constant(value)
