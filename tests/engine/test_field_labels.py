"""Refusals name a procedure's fields by their declared label (a msgid translated on display), so that every
page and the API show words, never an internal key."""

from __future__ import annotations

from datetime import date

import pytest

from app.engine import Actor, CaseView, GuardRefused, InvalidData, get_engine
from app.models import Role
from workflows import REGISTRY


def _rendered(exc: GuardRefused | InvalidData) -> list[str]:
    return [reason.render(lambda text: text) for reason in exc.reasons]


def test_a_missing_field_is_named_by_its_label() -> None:
    engine = get_engine()
    requester = Actor(1, frozenset({Role.APPLICANT.value}))
    view = CaseView("access_request", 1, "prevention", 3, applicant_id=1)
    with pytest.raises(GuardRefused) as refused:
        engine.decide(view, "answer_prevention", requester, today=date(2026, 3, 2), data={"clarification": ""})
    label = REGISTRY.get("access_request").find_field("clarification")
    assert label is not None
    assert _rendered(refused.value) == [f"Falta el dato obligatorio «{label.label}»."]
    assert refused.value.reasons[0].params == {"field": "clarification"}  # the key stays for programs


def test_data_a_step_does_not_take_are_named_by_their_labels() -> None:
    engine = get_engine()
    requester = Actor(1, frozenset({Role.APPLICANT.value}))
    view = CaseView("access_request", 1, "prevention", 3, applicant_id=1)
    with pytest.raises(InvalidData) as refused:
        engine.decide(view, "answer_prevention", requester, today=date(2026, 3, 2), data={"payment_reference": "X"})
    text = " ".join(_rendered(refused.value))
    assert "payment_reference" not in text
    declared = REGISTRY.get("access_request").find_field("payment_reference")
    assert declared is not None
    assert declared.label in text


def test_several_refused_fields_are_each_translated() -> None:
    """Several unexpected fields: each label goes through the catalogue on its own (joined with commas), so the
    English page does not show Spanish labels joined into one untranslatable string."""
    engine = get_engine()
    requester = Actor(1, frozenset({Role.APPLICANT.value}))
    view = CaseView("access_request", 1, "prevention", 3, applicant_id=1)
    with pytest.raises(InvalidData) as refused:
        engine.decide(
            view,
            "answer_prevention",
            requester,
            today=date(2026, 3, 2),
            data={"payment_reference": "X", "payment_operation": "Y"},
        )
    procedure = REGISTRY.get("access_request")
    labels = [procedure.find_field(name) for name in ("payment_operation", "payment_reference")]
    english = {field.label: f"<{field.label}>" for field in labels if field is not None}
    text = refused.value.reasons[0].render(lambda msgid: english.get(msgid, msgid))
    assert text.endswith(f"{', '.join(english.values())}.")
