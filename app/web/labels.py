"""Translated labels for roles, workflows and states, and translated engine messages, available in every template.

Workflow texts (marked with ``N_``) and engine messages (:class:`~app.engine.Msg`) are Spanish msgids; they
are translated here, at display time, in the language of the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_babel import get_locale, lazy_gettext

from app.engine import Msg
from app.models import Case, Role
from app.services.cases import describe
from app.services.certificates import document_title as declared_title
from app.services.listing import ListedCase
from app.web.translation import gettext, kept_for_locale, reader_language
from workflows.base import SYSTEM_ROLE, is_english, item_in_language

ROLE_LABELS = {
    Role.APPLICANT: lazy_gettext("Solicitante"),
    Role.INTAKE_CLERK: lazy_gettext("Ventanilla"),
    Role.REVIEWER: lazy_gettext("Dictaminador"),
    Role.INSPECTOR: lazy_gettext("Inspector"),
    Role.TRANSPARENCY_UNIT: lazy_gettext("Unidad de Transparencia"),
    Role.AREA: lazy_gettext("Área responsable"),
    Role.COMMITTEE_MEMBER: lazy_gettext("Comité de Transparencia"),
    Role.GUARANTOR: lazy_gettext("Órgano garante"),
    Role.AUDITOR: lazy_gettext("Auditor"),
    Role.ADMIN: lazy_gettext("Administrador"),
    Role.TREASURY: lazy_gettext("Tesorería"),
}


def role_label(role: Role) -> str:
    """The translated name of ``role`` (kept per language: a case page names a role on every history line)."""
    return kept_for_locale(("role", role), lambda: str(ROLE_LABELS.get(role, role.value)))


def actor_role_label(name: str) -> str:
    """The translated name of a role as log entries record it: a :class:`Role`'s value, or ``system`` for what
    the application does by itself (terms, draws, commands); a name neither of these as it is."""
    if name == SYSTEM_ROLE:
        return str(gettext("Sistema"))
    try:
        return role_label(Role(name))
    except ValueError:
        return name


def translated(msgid: str) -> str:
    """The translation of a workflow text (a state, deadline or transition description, a guard's reason)."""
    return str(gettext(msgid))


def message_text(message: Msg) -> str:
    """The translation of an engine or service message (see :meth:`Msg.render`), with the English values an
    administrator entered for an English reader."""
    return message.render(lambda text: str(gettext(text)), english=is_english(reader_language()))


def workflow_title(case: Case | ListedCase) -> str:
    """The translated title of the case's workflow."""
    return str(gettext(describe(case).workflow_title))


def state_label(case: Case | ListedCase) -> str:
    """The translated description of the case's current state."""
    return str(gettext(describe(case).state_description))


def document_title(kind: str) -> str:
    """The translated title of a document kind, as its procedure declares it (the kind itself if none does)."""
    return str(gettext(declared_title(kind)))


def setting_text(item: Mapping[str, Any], key: str) -> str:
    """``item[key]``, a value an administrator entered in a setting's item (a fee's ``concept``), in the page's
    language: its English value (``<key>_en``) on an English page when one was given, else the Spanish one."""
    return item_in_language(item, key, reader_language())


def register_labels(app: Flask) -> None:
    """Expose the label helpers to templates."""

    @app.context_processor
    def _labels() -> dict[str, Any]:
        return {
            "current_locale": get_locale,
            "role_label": role_label,
            "workflow_title": workflow_title,
            "state_label": state_label,
            "translated": translated,
            "message_text": message_text,
            "document_title": document_title,
            "setting_text": setting_text,
        }
