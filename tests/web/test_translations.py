"""The English catalogue: complete, current with the sources, compiled, and used at display time."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask
from flask_babel import force_locale

from app.engine import GuardRefused, IllegalTrigger, InvalidData, Msg
from app.models import Role
from app.services.cases import fire
from app.services.users import RoleGrant, create_user
from app.web.labels import message_text, translated
from tests.support.factories import make_user, vecs_case
from workflows import DEFINITIONS

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO_EN = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
COMPILE_HINT = ".venv/bin/pybabel compile -d app/translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _msgids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    """Every msgid of ``catalog``: a string, or (singular, plural) for ``ngettext`` entries."""
    return {message.id if isinstance(message.id, str) else tuple(message.id) for message in catalog if message.id}


def _forms(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def test_every_english_message_is_translated_and_keeps_its_placeholders() -> None:
    catalog = _read(PO_EN, "en")
    assert _msgids(catalog), "the English catalogue is empty"
    assert not catalog.obsolete, f"obsolete entries: {sorted(catalog.obsolete)}"
    for message in catalog:
        if not message.id:
            continue
        singular = _forms(message.id)[0]
        translations = _forms(message.string)
        assert "fuzzy" not in message.flags, f"fuzzy translation of {message.id!r}"
        assert len(translations) == (1 if isinstance(message.id, str) else catalog.num_plurals), message.id
        for translation in translations:
            assert translation, f"no English for {message.id!r}"
            assert set(PLACEHOLDER.findall(singular)) == set(PLACEHOLDER.findall(translation)), message.id


def test_the_template_and_the_english_catalogue_match_the_sources(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg", "-o", str(fresh), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    extracted = _msgids(_read(fresh))
    hint = "re-extract with babel.cfg, then pybabel update -i app/translations/messages.pot -d app/translations"
    assert _msgids(_read(POT)) == extracted, hint
    english = _msgids(_read(PO_EN, "en"))
    assert extracted - english == set(), f"untranslated: {sorted(extracted - english)}; {hint}"
    assert english - extracted == set(), f"no longer in the sources: {sorted(english - extracted)}; {hint}"


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    compiled = Translations.load(str(TRANSLATIONS), ["en"])
    assert isinstance(compiled, Translations), f"no compiled English catalogue; run {COMPILE_HINT}"
    for message in _read(PO_EN, "en"):
        if not message.id:
            continue
        if isinstance(message.id, str):
            found: tuple[str, ...] = (compiled.gettext(message.id),)
        else:
            singular, plural = message.id[0], message.id[1]
            found = (compiled.ngettext(singular, plural, 1), compiled.ngettext(singular, plural, 2))
        assert found == _forms(message.string), f"stale .mo for {message.id!r}; run {COMPILE_HINT}"


def _workflow_texts() -> Iterator[str]:
    for workflow in DEFINITIONS:
        yield workflow.title
        if workflow.description:
            yield workflow.description
        for state in workflow.states:
            yield state.description
            if state.deadline is not None:
                yield state.deadline.description
            target = getattr(state, "target", None)  # service targets, where the workflow declares them
            if target is not None:
                yield target.description
        for transition in workflow.transitions:
            yield transition.description


def test_every_workflow_text_is_marked_for_translation(app: Flask) -> None:
    """A state or transition description written without ``N_`` would never reach the catalogue."""
    texts = sorted(set(_workflow_texts()))
    assert texts
    with app.test_request_context(), force_locale("en"):
        untranslated = [text for text in texts if translated(text) == text]
    assert untranslated == []


def test_a_service_message_is_translated_with_its_parameters(app: Flask) -> None:
    with pytest.raises(InvalidData) as refused:
        create_user("corta@example.test", "Corta", "corta", [RoleGrant(Role.APPLICANT)])
    message = refused.value.message
    assert message.params == {"n": "12"}
    with app.test_request_context():
        with force_locale("es_MX"):
            assert message_text(message) == "La contraseña debe tener al menos 12 caracteres."
        with force_locale("en"):
            assert message_text(message) == "The password must be at least 12 characters long."


def test_a_guard_refusal_is_translated_at_display_time(app: Flask) -> None:
    applicant = make_user(Role.APPLICANT)
    case = vecs_case(applicant, data={"built_area_m2": "2000"})
    with pytest.raises(GuardRefused) as refused:
        fire(case.case_id, "submit", applicant, expected_version=case.version)
    with app.test_request_context(), force_locale("en"):
        texts = [message_text(reason) for reason in refused.value.reasons]
    assert texts == [
        "The built area exceeds the maximum for the simplified window; "
        "apply for the ordinary construction license instead."
    ]


def test_a_message_without_parameters_is_not_formatted(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        assert message_text(Msg("El expediente no existe.")) == "The case does not exist."
        assert message_text(Msg("Texto sin traducción: 100%")) == "Texto sin traducción: 100%"


def test_engine_messages_show_descriptions_not_codes(app: Flask) -> None:
    applicant = make_user(Role.APPLICANT)
    case = vecs_case(applicant)
    with pytest.raises(IllegalTrigger) as refused:
        fire(case.case_id, "approve_licence", applicant, expected_version=case.version)
    message = refused.value.message
    assert message.params == {"trigger": "approve_licence", "state": "draft"}  # codes stay for programs
    with app.test_request_context():
        with force_locale("es_MX"):
            spanish = message_text(message)
        with force_locale("en"):
            english = message_text(message)
            action = translated("Aprobar y emitir la licencia")
    assert "approve_licence" not in spanish + english
    assert "draft" not in spanish
    assert "Aprobar y emitir la licencia" in spanish
    assert action in english
    assert english != spanish
