"""Access-to-information requests: filing, the requester's steps, and the steps of the unit, the areas, the
committee and the guarantor. Choices (formats, areas, grounds, sessions) come from the view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from forms import WholeNumber, options, squeeze, strip
from forms.cases import MultiCheckboxField
from forms.verification import folio_field

Choices = Sequence[tuple[str, Any]]


class _Versioned(FlaskForm):
    """Every step on a request carries the version the person saw (a concurrent change is then refused)."""

    version = HiddenField(validators=[InputRequired()])

    def seen_version(self) -> int:
        """The version the form was built on (0 when tampered with, which the service refuses as stale)."""
        try:
            return int(self.version.data or 0)
        except ValueError:
            return 0


class FilingForm(FlaskForm):
    """A new request: a pseudonym and an e-mail suffice; no identity document is asked for."""

    pseudonym = StringField(_l("Nombre o seudónimo"), filters=[squeeze], validators=[DataRequired(), Length(max=120)])
    email = StringField(
        _l("Correo electrónico para recibir notificaciones"),
        filters=[strip],
        validators=[
            Optional(),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Escriba un correo electrónico válido.")),
            Length(max=254),
        ],
    )
    information_requested = TextAreaField(
        _l("Información que solicita"), filters=[strip], validators=[DataRequired(), Length(max=5000)]
    )
    delivery_format = RadioField(_l("Modalidad de entrega"), validators=[InputRequired()])
    filing_key = HiddenField()
    """This form's own key (fresh each time it is shown): sent twice, it files one request."""
    submit = SubmitField(_l("Presentar la solicitud"))

    def __init__(self, formats: Choices, *, email_required: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delivery_format.choices = options(formats)
        self.email_required = email_required

    def validate(self, extra_validators: Any = None) -> bool:
        """The e-mail is required unless the requester files under their account."""
        ok = bool(super().validate(extra_validators))
        if self.email_required and not self.email.data:
            self.email.errors = [*self.email.errors, _l("Escriba un correo electrónico para recibir notificaciones.")]
            return False
        return ok


class TrackForm(FlaskForm):
    """Follow a request by its folio."""

    class Meta:
        csrf = False

    folio = folio_field(_l("Escriba el folio de la solicitud."))


class ClarificationForm(_Versioned):
    """The requester's answer to the prevención."""

    clarification = TextAreaField(_l("Aclaración"), filters=[strip], validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(_l("Atender la prevención"))


class AppealClarificationForm(_Versioned):
    """The appellant's answer to the guarantor's prevención: what the appeal lacked."""

    appeal_clarification = TextAreaField(
        _l("Lo que completa de su recurso"), filters=[strip], validators=[DataRequired(), Length(max=5000)]
    )
    submit = SubmitField(_l("Atender la prevención del órgano garante"))


class RequesterPleadingsForm(_Versioned):
    """The appellant's pleadings in the admitted appeal: what suits their right, the evidence they offer (described,
    and optionally a PDF) and their alegatos (LGTAIP 2015 art. 150, fr. II and III)."""

    requester_pleadings = TextAreaField(
        _l("Sus alegatos y las pruebas que ofrece"), filters=[strip], validators=[DataRequired(), Length(max=5000)]
    )
    file = FileField(_l("Pruebas (archivo PDF, opcional)"), id="requester-pleadings-file")
    submit = SubmitField(_l("Presentar mis alegatos"))


class ComplianceRemarksForm(_Versioned):
    """The appellant's remarks on the body's compliance report (LGTAIP 2015 art. 197): what suits their right and,
    if the compliance does not match the resolution, the specific causes."""

    compliance_remarks = TextAreaField(
        _l("Su manifestación sobre el informe de cumplimiento"),
        filters=[strip],
        validators=[DataRequired(), Length(max=5000)],
    )
    submit = SubmitField(_l("Enviar mi manifestación"))


class UnitPleadingsForm(_Versioned):
    """The transparency unit's pleadings in the admitted appeal, and a PDF with the evidence it offers (optional)."""

    unit_pleadings = TextAreaField(
        _l("Alegatos de la Unidad de Transparencia"),
        filters=[strip],
        validators=[DataRequired(), Length(max=5000)],
        id="unit-pleadings",
    )
    file = FileField(_l("Pruebas (archivo PDF, opcional)"), id="unit-pleadings-file")
    submit = SubmitField(_l("Presentar los alegatos"), id="unit-pleadings-submit")


class AppealForm(_Versioned):
    """The recurso de revisión: its grounds and, optionally, a statement."""

    appeal_grounds = MultiCheckboxField(_l("Causas del recurso"), validators=[DataRequired()])
    appeal_statement = TextAreaField(_l("Razones (opcional)"), filters=[strip], validators=[Length(max=5000)])
    submit = SubmitField(_l("Interponer el recurso de revisión"))

    def __init__(self, grounds: Choices, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.appeal_grounds.choices = options(grounds)


class TurnForm(_Versioned):
    """The areas a request is turned to."""

    departments = MultiCheckboxField(_l("Áreas"), validators=[DataRequired()])
    submit = SubmitField(_l("Turnar a las áreas"))

    def __init__(self, areas: Choices, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.departments.choices = options(areas)


class CommentForm(_Versioned):
    """A step of the unit or the guarantor with its reasoned comment (prevención, incompetence…)."""

    comment = TextAreaField(_l("Fundamento y motivación"), filters=[strip], validators=[Length(max=5000)])
    competent_body = StringField(_l("Sujeto obligado competente"), filters=[squeeze], validators=[Length(max=200)])
    compliance_report = TextAreaField(_l("Informe de cumplimiento"), filters=[strip], validators=[Length(max=5000)])
    submit = SubmitField(_l("Enviar"))


class PublicSourceForm(_Versioned):
    """Information already public: where (a URL or a place) and how the requester can consult it."""

    public_source = TextAreaField(
        _l("Fuente, lugar y forma de consultar la información"),
        filters=[strip],
        validators=[DataRequired(), Length(max=5000)],
        id="public-source",
    )
    submit = SubmitField(_l("Indicar la fuente"), id="public-source-submit")


class DeliverForm(_Versioned):
    """The response delivered to the requester, and the documents chosen one by one to go with it."""

    response_summary = TextAreaField(_l("Respuesta"), filters=[strip], validators=[DataRequired(), Length(max=5000)])
    documents = MultiCheckboxField(_l("Documentos que se entregan"), coerce=int)
    page_count = WholeNumber(
        _l("Número de hojas reproducidas"), default=0, validators=[Optional(), NumberRange(min=0, max=1000000)]
    )
    media_count = WholeNumber(
        _l("Número de medios (USB, disco)"), default=0, validators=[Optional(), NumberRange(min=0, max=10000)]
    )
    shipped = BooleanField(_l("Se envía al domicilio del solicitante (costo de envío)"))
    waived = BooleanField(_l("Exentar el costo por las circunstancias socioeconómicas del solicitante"))
    waiver_reason = TextAreaField(_l("Motivo de la exención"), filters=[strip], validators=[Length(max=2000)])
    consultation_on = DateField(_l("Fecha de la consulta directa"), validators=[Optional()])
    consultation_time = TimeField(_l("Hora de la consulta directa"), validators=[Optional()])
    consultation_place = StringField(
        _l("Lugar de la consulta directa"), filters=[squeeze], validators=[Length(max=500)]
    )
    submit = SubmitField(_l("Entregar la respuesta"))

    def __init__(self, documents: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.documents.choices = options(documents)


class SessionChoiceForm(_Versioned):
    """Take a matter to a session of the committee (with the reasons, for an extension)."""

    session_id = SelectField(_l("Sesión del Comité"), coerce=int, validators=[InputRequired()])
    reasons = TextAreaField(_l("Razones"), filters=[strip], validators=[Length(max=5000)])
    submit = SubmitField(_l("Someter al Comité"))

    def __init__(self, sessions: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session_id.choices = options(sessions)


class AreaAnswerForm(_Versioned):
    """An area's answer to the turn."""

    kind = RadioField(
        _l("Respuesta del área"),
        choices=options(
            [
                ("available", _l("Disponible (pública)")),
                ("reserved", _l("Reservada")),
                ("confidential", _l("Confidencial")),
                ("inexistent", _l("Inexistente")),
            ]
        ),
        validators=[InputRequired()],
    )
    partial = BooleanField(_l("Clasificación parcial (se entregará versión pública)"))
    legal_basis = StringField(
        _l("Fundamento legal de la clasificación"), filters=[squeeze], validators=[Length(max=500)]
    )
    harm_test = TextAreaField(_l("Prueba de daño (reserva)"), filters=[strip], validators=[Length(max=5000)])
    reservation_years = WholeNumber(_l("Periodo de reserva (años)"), validators=[Optional(), NumberRange(min=1, max=5)])
    answer_text = TextAreaField(_l("Respuesta"), filters=[strip], validators=[Length(max=5000)])
    redactions = TextAreaField(
        _l("Justificación de lo testado (versión pública)"), filters=[strip], validators=[Length(max=5000)]
    )
    submit = SubmitField(_l("Responder el turno"))


class AreaDocumentForm(FlaskForm):
    """A PDF an area attaches: its answer or the versión pública."""

    kind = SelectField(
        _l("Documento"),
        choices=options([("respuesta_area", _l("Respuesta del área")), ("version_publica", _l("Versión pública"))]),
    )
    file = FileField(_l("Archivo PDF"), validators=[FileRequired(_l("Elija un archivo PDF."))])
    submit = SubmitField(_l("Adjuntar"))


F = TypeVar("F", bound=FlaskForm)


def ids_apart(form_class: type[F], suffix: str) -> type[F]:
    """``form_class`` with every field's element id ending in ``-suffix`` and its names unchanged, so that the
    same form repeated on one page (an area's answer, once per department of the person) repeats no id."""
    fields = {}
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if isinstance(unbound, UnboundField) and name not in {"csrf_token", "version"}:
            kwargs = {**unbound.kwargs, "id": f"{name}-{suffix}"}
            fields[name] = UnboundField(unbound.field_class, *unbound.args, name=unbound.name, **kwargs)
    return type(f"{form_class.__name__}For{suffix.title()}", (form_class,), fields)


class SessionForm(FlaskForm):
    """A new session of the committee."""

    number = StringField(_l("Número de sesión"), filters=[squeeze], validators=[DataRequired(), Length(max=60)])
    held_on = DateField(_l("Fecha"), validators=[InputRequired(message=_l("Indique la fecha de la sesión."))])
    submit = SubmitField(_l("Convocar sesión"))


class DecisionForm(FlaskForm):
    """The committee's resolution on an agenda item."""

    decision = RadioField(_l("Sentido"), validators=[InputRequired()])
    resolution_text = TextAreaField(
        _l("Texto de la resolución"), filters=[strip], validators=[DataRequired(), Length(max=5000)]
    )
    submit = SubmitField(_l("Resolver"))

    member_ids: tuple[int, ...] = ()

    def __init__(self, decisions: Choices, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decision.choices = options(decisions)

    def votes(self) -> dict[int, str]:
        """The votes of the members present (member id → vote); absent members are left out."""
        votes = {m: str(self[f"vote_{m}"].data) for m in self.member_ids}
        return {m: v for m, v in votes.items() if v != "absent"}

    def vote_fields(self) -> list[Any]:
        """The per-member vote fields, in the members' order."""
        return [self[f"vote_{m}"] for m in self.member_ids]


VOTE_CHOICES = (
    ("absent", _l("Ausente")),
    ("favor", _l("A favor")),
    ("against", _l("En contra")),
    ("abstain", _l("Abstención")),
)
"""How each member of the committee stands on an item: absent, or present and voting."""


def decision_form(decisions: Choices, members: Sequence[tuple[int, str]], **kwargs: Any) -> DecisionForm:
    """The committee's resolution on an item with one vote per member of the committee (``members``: id and
    name); pass ``prefix`` to keep the ids of several items' forms on one page apart."""

    class _WithVotes(DecisionForm):
        pass

    for member_id, name in members:
        setattr(
            _WithVotes,
            f"vote_{member_id}",
            SelectField(name, choices=options(VOTE_CHOICES), default="absent", validators=[InputRequired()]),
        )
    form = _WithVotes(decisions, **kwargs)
    form.member_ids = tuple(member_id for member_id, _name in members)
    return form


class AppealResolutionForm(_Versioned):
    """The guarantor's resolution of an appeal."""

    appeal_decision = RadioField(
        _l("Sentido de la resolución"),
        choices=options(
            [
                ("confirm", _l("Confirma la respuesta")),
                ("modify", _l("Modifica la respuesta")),
                ("revoke", _l("Revoca la respuesta")),
                ("dismiss", _l("Desecha o sobresee el recurso")),
            ]
        ),
        validators=[InputRequired()],
    )
    appeal_resolution = TextAreaField(
        _l("Texto de la resolución"), filters=[strip], validators=[DataRequired(), Length(max=5000)]
    )
    submit = SubmitField(_l("Resolver el recurso"))
