"""Procedure declarations: a workflow plus what the rest of the product needs to serve it without knowing it.

A municipality runs many procedures; the product is an engine plus *installed procedures*. Each procedure
declares, beside its workflow versions:

- its data **fields** (label, type, catalogue, canonical format, which applicant step collects them);
- its **applicant steps** (the pages an applicant fills before filing) and what each collects;
- its **parameters**' labels, help and section (namespaced: a parameter belongs to one procedure);
- the **departments** it needs (an administrator creates them; a missing one is reported, never ignored);
- **presentation** as data: each transition's style, the states that show the correction box, which party
  each state's term binds, the parts of the request a correction may point at;
- the **documents** it issues (kind, title, template, cadena original, printed rows, legal basis, validity)
  and the pure function that fills each one;
- whether applicants start it from the catalogue, and its eligibility check;
- for procedures with machinery of their own (committee sessions, publication calendars), the module of the
  application that plugs its pages, services and commands in.

Generic code iterates over :data:`workflows.REGISTRY` (built from the one list, :data:`workflows.PROCEDURES`) and
never names a procedure. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from workflows.base import DEPARTMENTS_PARAM, Workflow

FIELD_TYPES = frozenset(
    {"text", "decimal", "integer", "boolean", "code", "codes", "date", "money", "area", "list", "fees"}
)
"""How a field's value is read, checked and printed:

- ``text``: a string as typed (spaces squeezed); ``code``: one code of a catalogue, ``codes``: several;
- ``decimal``/``area``/``money``: a number with a fixed number of ``places`` (areas print with ``m²``, money
  with ``$`` and two decimals); ``integer``; ``boolean`` (Sí/No); ``date`` (ISO 8601, printed in words);
- ``list``: structured items a dedicated form collects (e.g. co-responsible directors);
- ``fees``: an assessment from a published fee table (rows with concept, unit, quantity, rate, amount and legal
  basis), shown as a table with its total; where the workflow computes it, the page previews it before it is
  assessed."""

DEFAULT_PLACES = {"area": 2, "money": 2, "integer": 0}
"""The decimals of a number's canonical form when its field declares no ``places`` (``decimal``: as given)."""


def canonical_number(value: Any, places: int | None) -> str | None:
    """A number in its canonical form: no grouping, a point as separator and exactly ``places`` decimals
    (rounded half up; ``None``: as given, without an exponent). ``1,500.5`` with 2 places → ``1500.50``.
    ``None`` when ``value`` is not a finite number (booleans are not numbers) or has more digits than a
    decimal of 28 carries."""
    if isinstance(value, bool) or value is None:
        return None
    text = value.strip().replace(",", "") if isinstance(value, str) else str(value)
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    if places is not None:
        try:
            number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than a decimal carries (``1e40``): not a usable number
            return None
    elif abs(number.adjusted()) > 28:  # written out without an exponent it would run to thousands of digits
        return None
    return format(number, "f")


def canonical_text(value: Any) -> str:
    """Text (names included) in its canonical form: surrounding white space removed, inner runs of white space
    (line breaks included) collapsed to one space; the letters as typed (accents kept, no change of case)."""
    return " ".join(str(value).split())


def canonical_value(declared: Field, value: Any) -> Any:
    """``value`` of the field ``declared`` in its type's canonical form, the one form that is stored, printed
    (with its unit or in words) and sealed in a cadena original:

    - ``area``, ``money``, ``decimal``, ``integer``: :func:`canonical_number` with the field's ``places``
      (:data:`DEFAULT_PLACES`: areas and money with two decimals, integers with none);
    - ``date``: ISO 8601 (``2026-11-27``);
    - ``text``: :func:`canonical_text`; ``code``: the code as stored;
    - anything else, and a value that is not of its type (which the field's checks refuse with their own
      words), as given."""
    if value is None or value == "":
        return value
    kind = declared.type
    if kind in {"area", "money", "decimal", "integer"}:
        places = declared.places if declared.places is not None else DEFAULT_PLACES.get(kind)
        number = canonical_number(value, places)
        return value if number is None else number
    if kind == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            return value
    if kind == "text" and isinstance(value, str):
        return canonical_text(value) if "\n" not in value else value.strip()
    return value


TRANSITION_STYLES = frozenset({"primary", "secondary", "danger"})
"""How a step's button is drawn on the case page."""

PARTIES = frozenset({"applicant", "authority"})
"""Who a term binds: the applicant (their term lapses against them) or the authority (silence rules apply)."""


@dataclass(frozen=True, slots=True)
class Field:
    """A data field of a procedure's cases.

    ``label`` is marked with ``N_`` and translated on display. ``catalogue`` names the parameters that list
    a code field's allowed values (their union); ``places`` fixes the decimals of a number's canonical form;
    ``step`` is the applicant step that collects it (``None``: staff or the system write it); ``hidden``
    fields are kept but not listed on the case page (internal records such as a draw's digest)."""

    name: str
    label: str
    type: str = "text"
    catalogue: tuple[str, ...] = ()
    places: int | None = None
    step: str | None = None
    hidden: bool = False
    required: bool = False
    max_length: int | None = None
    help: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    """Words for the codes the field (or its items) holds, where they are not a settings catalogue."""
    item_format: str = ""
    """For ``list`` fields of mappings: how one item reads, e.g. ``{specialty}: {name} ({registration})``."""
    pattern: str | None = None
    """For text typed on a case page: the regular expression a value must match in full, and
    ``pattern_message`` (``N_``) the words that say so."""
    pattern_message: str = ""
    system: bool = False
    """Written by the system or by the procedure's own service (e.g. a number it assigns), never typed on
    the case page."""


@dataclass(frozen=True, slots=True)
class Step:
    """A page the applicant fills before filing. ``documents`` marks the step where required documents are
    uploaded (they come from the workflow's requirements); otherwise the step edits its ``fields`` through the
    workflow's ``edit_trigger``."""

    slug: str
    title: str
    fields: tuple[str, ...] = ()
    documents: bool = False
    form: str | None = None
    """Dotted name (``module:Class``) of the procedure's own form for this step, in ``forms/``; ``None``: a
    form is built from the declared fields."""


PARAMETER_KINDS = frozenset(
    {"", "int", "decimal", "money", "codes", "choice", "requirements", "fees", "departments", "rate", "secret", "json"}
)
"""How the settings page edits a parameter: ``""`` (read from its default: ``int``, ``decimal``, ``codes`` or,
for a parameter with choices, ``choice``), the requirements list, the fee table, the office → department
mapping, a percentage (``rate``, kept as a fraction), an amount in pesos ≥ 0 (``money``), a draw seed
(``secret``) or structured ``json``."""


@dataclass(frozen=True, slots=True)
class Parameter:
    """How a workflow parameter reads on the settings page: its label, help and section (each marked with
    ``N_`` and translated on display; a parameter belongs to its procedure, so two procedures may give the
    same key different words), how it is edited (``kind``, see :data:`PARAMETER_KINDS`) and the words for
    the codes it holds (``labels``: a choice's values, the offices of the department mapping)."""

    key: str
    label: str
    help: str = ""
    section: str = ""
    kind: str = ""
    labels: tuple[tuple[str, str], ...] = ()

    def label_of(self, code: str) -> str:
        """The words for ``code`` (a choice's value, an office), or the code itself when none are declared."""
        return dict(self.labels).get(code, code)


@dataclass(frozen=True, slots=True)
class Department:
    """A department the procedure needs, by the code its settings map offices to, with its usual name and,
    optionally, that name in English (an administrator creates it, possibly under other names)."""

    code: str
    name: str
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the request a correction (prevención, observation) may point at, besides its documents."""

    code: str
    label: str


@dataclass(frozen=True)
class Presentation:
    """Presentation as data, so that no page guesses from names.

    - ``styles``: a transition's button style by trigger (unlisted: ``primary``, or ``danger`` for
      ``danger_triggers``);
    - ``correction_states``: states in which the applicant sees the box of what they must correct, read from
      ``correction_field`` (the items) and the comment of the transition that entered the state;
    - ``binds``: which party a state's deadline binds (``applicant`` or ``authority``);
    - ``sections``: the parts of the request a correction may point at."""

    styles: Mapping[str, str] = field(default_factory=dict)
    correction_states: tuple[str, ...] = ()
    correction_field: str | None = None
    binds: Mapping[str, str] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "styles", MappingProxyType(dict(self.styles)))
        object.__setattr__(self, "binds", MappingProxyType(dict(self.binds)))

    def style(self, trigger: str) -> str:
        """The button style of ``trigger`` (``primary`` unless declared)."""
        return self.styles.get(trigger, "primary")


@dataclass(frozen=True)
class DemoStep:
    """One step of a demo case: ``trigger`` fired by the demo login ``actor`` (a handle such as
    ``dictaminador``), with ``data`` and ``comment``. Fields the workflow computes are filled by the system."""

    trigger: str
    actor: str
    data: Mapping[str, Any] | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo login the procedure needs besides the common ones (e.g. a reviewer in its own department):
    ``handle`` names it in the demo steps and makes its e-mail; ``role`` is a role name."""

    handle: str
    name: str
    role: str
    department: str | None = None


@dataclass(frozen=True)
class Demo:
    """The procedure's part of the demo data: its settings, and cases opened with ``data`` by ``applicant``,
    holding ``documents`` (as small PDFs) once they leave the draft, each walked through its steps. A procedure
    with machinery of its own names a ``loader`` (``module:function`` in its package under ``app.procedures``)
    that takes the demo logins' ids by handle instead."""

    settings: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    documents: tuple[str, ...] = ()
    cases: tuple[tuple[DemoStep, ...], ...] = ()
    applicant: str = "solicitante"
    loader: str | None = None
    users: tuple[DemoUser, ...] = ()


DOCUMENT_FORMATS = frozenset({"text", "date", "money", "area"})
"""How a printed row's value is written on a document: as given, a date in words, money in pesos, an area."""

DocumentBuilder = Callable[[Mapping[str, Any]], tuple[Mapping[str, Any], Mapping[str, Any]]]
"""Fills a document from plain data: ``build(context) -> (fields, extra)``.

``context`` is a plain mapping the issuing service prepares (see :class:`Document`); ``fields`` are the
document's own cadena fields (raw values: ISO dates, plain decimals), exactly :attr:`Document.cadena`;
``extra`` is data printed but not sealed (fee breakdowns, narrative paragraphs), read by the template."""


@dataclass(frozen=True, slots=True)
class Row:
    """One certified datum as printed on a document: a cadena field, its printed label (documents are always
    in Spanish) and how its value is written (one of :data:`DOCUMENT_FORMATS`)."""

    field: str
    label: str
    format: str = "text"


@dataclass(frozen=True, slots=True)
class FormerFormat:
    """An earlier version of a document kind's sealed format: documents issued under it carry ``version`` as
    their cadena's first field, sealed ``cadena`` (the kind's own fields, in order) and printed ``rows``, and
    are rebuilt from their print with these, never with the current ones."""

    version: str
    cadena: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Document:
    """A kind of document a procedure issues: a transition naming ``kind`` in ``issues`` renders it, seals it
    and signs it.

    - ``kind``: the registered name (unique across installed procedures), stored on each issued certificate;
    - ``title``: marked with ``N_``; printed in Spanish, translated on the pages that list or verify it;
    - ``template``: the file in ``pdf_templates/`` that lays it out;
    - ``tipo``: the value of the cadena original's ``tipo`` field;
    - ``cadena``: the document's own fields in their fixed order (the common head ``version|tipo|numero|
      folio|fecha_emision|emisor`` and tail ``servidor_publico|cargo|no_certificado|codigo_verificacion``
      surround them);
    - ``rows``: the certified data as printed, in order (a subset of ``cadena``);
    - ``legal_basis``: printed under *Fundamento legal*;
    - ``legal_basis_of``: where the jurisdiction chooses the articles cited (a setting), the pure function of the
      case's settings that gives the text printed under *Fundamento legal* instead of ``legal_basis`` (which
      then says what it gives under the default settings);
    - ``validity``: the workflow parameter holding the days the document is valid (``None``: it does not
      expire); read from the case's settings;
    - ``build``: the pure function that fills it (see :data:`DocumentBuilder`). Its context holds ``data``
      (the case's data), ``params`` (the case's settings), ``folio``, ``applicant`` (the applicant's name),
      ``issued_on`` and ``valid_until`` (ISO dates in Mexico City; ``valid_until`` empty when it does not
      expire), ``previous`` (the case's latest earlier document of each kind: ``{kind: {"fields": …,
      "issued_on": …}}``), ``series_number`` (see ``series``) and ``gathered`` (see ``gatherer``);
    - ``series``: the prefix of the document's own number series (``LC`` → ``LC-2026-000001``); when
      ``number_field`` of the case's data is empty, the next number is drawn and given as ``series_number``;
    - ``gatherer``: for documents that need data from the procedure's own tables, the dotted name of the
      application module that registers, for this kind, the function gathering it as plain data (given as
      ``gathered``); ``None``: the case's data suffices."""

    kind: str
    title: str
    template: str
    tipo: str
    cadena: tuple[str, ...]
    rows: tuple[Row, ...]
    build: DocumentBuilder
    legal_basis: str = ""
    validity: str | None = None
    series: str | None = None
    number_field: str | None = None
    gatherer: str | None = None
    validity_business: bool = False
    """Whether ``validity`` counts business days (the document then lasts as long as a term of that many
    business days notified on its issue day, e.g. a payment order due when the payment term lapses)."""
    act_field: str | None = None
    """The cadena field naming the act a document of this kind records, when a case holds several acts of the
    kind (each resolution of the committee is its own act): a new document then supersedes only an earlier one
    of the same act. ``None``: a case has one act per kind."""
    cadena_version: str = "1.0"
    """The version of this kind's sealed format (the cadena's first field). A published format never changes:
    sealing other fields or printing them under other labels is a new version, and the earlier one is kept
    in ``former_formats`` so that documents issued under it are still rebuilt from what they print."""
    former_formats: tuple[FormerFormat, ...] = ()
    """The kind's earlier sealed formats (see :class:`FormerFormat`)."""
    legal_basis_of: Callable[[Mapping[str, Any]], str] | None = None
    """See ``legal_basis_of`` above: ``None`` prints ``legal_basis`` as declared."""
    revoked_with_case: bool = True
    """Whether a transition that revokes the case's documents (``Transition.revokes``, e.g. revoking a
    licence) revokes this kind too. ``False`` for records that stay true whatever becomes of the
    authorisation, such as a payment order: the fees were assessed and paid all the same."""

    def legal_basis_for(self, params: Mapping[str, Any]) -> str:
        """The legal basis printed on a document of this kind issued under the case's settings ``params``."""
        return self.legal_basis_of(params) if self.legal_basis_of is not None else self.legal_basis

    def format_of(self, version: str | None = None) -> tuple[tuple[str, ...], tuple[Row, ...]]:
        """The sealed fields and printed rows of ``version`` of this kind's format (the current one by default).
        Raises ``KeyError`` for a version the kind never had."""
        if version is None or version == self.cadena_version:
            return self.cadena, self.rows
        for former in self.former_formats:
            if former.version == version:
                return former.cadena, former.rows
        raise KeyError(version)


@dataclass(frozen=True, slots=True)
class Payment:
    """How the procedure's fees are paid: the authority issues a payment order and the treasury, not the
    applicant, confirms that it was paid (at its cashier, from the bank's reconciliation file, or a gateway).

    - ``order``: the kind of document that is the payment order (a declared document; the transition that
      assesses the fees issues it); its cadena holds ``reference_row`` (the reference with its check digits,
      see :mod:`workflows.payments`) and ``amount_row`` (the total in the canonical money form), and its
      validity is the due date;
    - ``confirm_trigger``: the treasury's dedicated transition from ``awaiting`` that records the payment in
      ``reference_field``, ``amount_field``, ``paid_on_field`` and ``operation_field`` (declared fields)."""

    order: str
    confirm_trigger: str
    awaiting: str
    reference_field: str
    amount_field: str
    paid_on_field: str
    operation_field: str
    reference_row: str = "referencia"
    amount_row: str = "importe_total"
    also_awaiting: tuple[str, ...] = ()
    """Further states where the case still awaits the payment of its order (e.g. an access request whose appeal
    term lapsed while its payment term runs); the confirming transition leaves each of them too."""
    late_trigger: str | None = None
    """The treasury's dedicated self-loop transition (from the states where the case may be) that records the
    payment of the current order on a case that no longer awaits it because the authority's silence granted
    it first (afirmativa ficta): the fees remain owed and the order payable; the case stays where it is."""

    @property
    def awaiting_states(self) -> tuple[str, ...]:
        """Every state where the case awaits the payment of its order."""
        return (self.awaiting, *self.also_awaiting)

    @property
    def fields(self) -> tuple[str, str, str, str]:
        """The data fields a confirmation writes."""
        return (self.reference_field, self.amount_field, self.paid_on_field, self.operation_field)


@dataclass(frozen=True, slots=True)
class Delivered:
    """The documents staff attached that a case's applicant may read now: those of ``ids`` whose kind is among
    ``kinds`` (e.g. the documents an access request's response delivered, once its costs are paid, and while a
    classification stands only the versión pública)."""

    ids: frozenset[int] = frozenset()
    kinds: frozenset[str] = frozenset()

    def includes(self, document_id: int, kind: str) -> bool:
        """Whether the applicant may read the document ``document_id`` of ``kind``."""
        return document_id in self.ids and kind in self.kinds


NOTHING_DELIVERED = Delivered()


Eligibility = Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]
"""Every reason a request (its data) does not qualify under the settings (``params``); empty: it qualifies."""


@dataclass(frozen=True)
class Procedure:
    """One installed procedure: its workflow versions and everything generic code needs to serve it."""

    name: str
    workflows: tuple[Workflow, ...]
    fields: tuple[Field, ...] = ()
    steps: tuple[Step, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    departments: tuple[Department, ...] = ()
    presentation: Presentation = field(default_factory=Presentation)
    documents: tuple[Document, ...] = ()
    """The kinds of document the procedure issues (each transition's ``issues`` names one of them)."""
    eligibility: Eligibility | None = None
    """Checked before anything is filed; a procedure with one is offered in the applicants' catalogue."""
    eligibility_fields: tuple[str, ...] = ()
    """The declared fields the eligibility check asks for (and the new draft starts with)."""
    eligibility_form: str | None = None
    """Dotted name (``module:Class``) of the procedure's own eligibility form in ``forms/``; ``None``: a form
    is built from ``eligibility_fields``."""
    first_step: str | None = None
    """The applicant step a new draft opens on (default: the first step)."""
    demo: Demo | None = None
    """What ``flask demo load`` creates for this procedure."""
    applicant_alias: str | None = None
    """Dotted name (``module:function``, in its package under ``app.procedures``) of the function giving the
    name under which staff see the applicant of a case (``function(session, case) -> str | None``), where
    applicants file under a pseudonym; ``None``: the applicant's own name is shown."""
    notice_path: str = "/inicio"
    """Where the link of a notice about one of its cases leads (a path of the site)."""
    tracking_path: str | None = None
    """Where the secret tracking link of a case filed without an account leads (a path of the site, the
    link's token appended): the filing receipt mails it once the address is confirmed. ``None``: the
    procedure issues no tracking links."""
    owns: tuple[str, ...] = ()
    """The procedure's own places outside ``workflows/``, ``forms/`` and ``pdf_templates/`` (files or folders,
    relative to the project root): usually its one package ``app/procedures/<name>``, holding its tables
    (``models.py``, registered from here), services, pages, plug-in and templates. Only there, in its
    declaration and in the list of installed procedures may code name it."""
    edit_trigger: str = "edit"
    """The trigger the applicant's step pages fire to save data."""
    plugin: str | None = None
    """Dotted name of the application module that plugs in this procedure's own machinery (blueprints,
    services, commands); it exposes ``register(app)``. ``None``: the generic pages serve it entirely."""
    payment: Payment | None = None
    """How the procedure's fees are paid (a payment order the treasury confirms); ``None``: no fees."""
    settings_departments: Callable[[Mapping[str, Any]], Iterable[str]] | None = None
    """The department codes the procedure's settings name besides the office mapping (for example the
    responsible department of each format); a pure function of the settings."""
    delivered: Callable[[Mapping[str, Any]], Delivered] | None = None
    """What of the documents staff attach to a case its applicant may read now, from the case data (a pure
    function; every path to the applicant asks it). ``None``: none of them (the applicant reads what they
    uploaded, and the certificates issued to them)."""

    def __post_init__(self) -> None:
        problems = check(self)
        if problems:
            raise ValueError(f"procedure {self.name} is inconsistent: " + "; ".join(problems))

    @property
    def latest(self) -> Workflow:
        """The newest version of the procedure's workflow."""
        return max(self.workflows, key=lambda w: w.version)

    @property
    def title(self) -> str:
        """The procedure's title (of its newest version)."""
        return self.latest.title

    def find_field(self, name: str) -> Field | None:
        """The declared field ``name``, or ``None``."""
        for item in self.fields:
            if item.name == name:
                return item
        return None

    def canonical(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with the value of each declared field in its type's canonical form (see
        :func:`canonical_value`); undeclared keys as given."""
        result = dict(data)
        for name, value in data.items():
            declared = self.find_field(name)
            if declared is not None:
                result[name] = canonical_value(declared, value)
        return result

    def find_step(self, slug: str) -> Step | None:
        """The applicant step ``slug``, or ``None``."""
        for item in self.steps:
            if item.slug == slug:
                return item
        return None

    def find_parameter(self, key: str) -> Parameter | None:
        """The declared parameter ``key``, or ``None``."""
        for item in self.parameters:
            if item.key == key:
                return item
        return None

    def undeclared_parameters(self) -> tuple[str, ...]:
        """The workflow parameters (of any version) with no declaration in :attr:`parameters`: the settings
        page would have no words for them (an installed procedure must have none)."""
        declared = {p.key for p in self.parameters}
        keys = (key for w in self.workflows for key in w.params)
        return tuple(dict.fromkeys(key for key in keys if key not in declared))

    def find_document(self, kind: str) -> Document | None:
        """The declared document ``kind``, or ``None``."""
        for item in self.documents:
            if item.kind == kind:
                return item
        return None

    def department_codes(self) -> tuple[str, ...]:
        """The department codes the procedure needs: those it declares and those its default settings name
        (offices mapped to a department, and :attr:`settings_departments`); each must exist."""
        codes: list[str] = [d.code for d in self.departments]
        for workflow in self.workflows:
            codes.extend(code for code in self.settings_department_codes(workflow.params) if code not in codes)
        return tuple(codes)

    def settings_department_codes(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The department codes the settings ``params`` name, in order and without repeats: the departments
        the offices map to (``""``, any department, is not a code) and those :attr:`settings_departments`
        reads. Malformed settings name no department (their parser refuses them)."""
        codes: list[str] = []
        mapping = params.get(DEPARTMENTS_PARAM)
        if isinstance(mapping, Mapping):
            codes.extend(str(code) for code in mapping.values() if code)
        if self.settings_departments is not None:
            with suppress(TypeError, ValueError, KeyError, AttributeError):
                codes.extend(str(code) for code in self.settings_departments(params) if code)
        return tuple(dict.fromkeys(codes))


def check(procedure: Procedure) -> list[str]:
    """The inconsistencies of ``procedure`` (empty when it is consistent)."""
    problems: list[str] = []
    if not procedure.workflows:
        return ["no workflow"]
    if any(w.name != procedure.name for w in procedure.workflows):
        problems.append("every workflow must carry the procedure's name")
    if len({w.version for w in procedure.workflows}) != len(procedure.workflows):
        problems.append("duplicate workflow versions")
    names = [f.name for f in procedure.fields]
    if len(names) != len(set(names)):
        problems.append("duplicate field names")
    params = {key for w in procedure.workflows for key in w.params}
    slugs = [s.slug for s in procedure.steps]
    if len(slugs) != len(set(slugs)):
        problems.append("duplicate step slugs")
    for item in procedure.fields:
        if item.type not in FIELD_TYPES:
            problems.append(f"field {item.name}: unknown type {item.type!r}")
        if item.step is not None and item.step not in slugs:
            problems.append(f"field {item.name}: unknown step {item.step!r}")
        for param in item.catalogue:
            if param not in params:
                problems.append(f"field {item.name}: catalogue parameter {param!r} missing")
    for step in procedure.steps:
        for name in step.fields:
            declared = procedure.find_field(name)
            if declared is None:
                problems.append(f"step {step.slug}: unknown field {name!r}")
            elif declared.step != step.slug:
                problems.append(f"step {step.slug}: field {name!r} belongs to step {declared.step!r}")
    keys = [p.key for p in procedure.parameters]
    if len(keys) != len(set(keys)):
        problems.append("duplicate parameter keys")
    for parameter in procedure.parameters:
        if parameter.key not in params:
            problems.append(f"parameter {parameter.key!r} is not a workflow parameter")
        if not parameter.label:
            problems.append(f"parameter {parameter.key!r} has no label")
        if parameter.kind not in PARAMETER_KINDS:
            problems.append(f"parameter {parameter.key!r}: unknown kind {parameter.kind!r}")
    declared_codes = [d.code for d in procedure.departments]
    if len(declared_codes) != len(set(declared_codes)):
        problems.append("duplicate department codes")
    for code in procedure.department_codes():
        if code not in declared_codes:
            problems.append(f"department {code!r} used by an office but not declared")
    problems.extend(_presentation_problems(procedure))
    problems.extend(_document_problems(procedure))
    problems.extend(_payment_problems(procedure))
    return problems


def _payment_problems(procedure: Procedure) -> list[str]:
    payment = procedure.payment
    if payment is None:
        return []
    problems: list[str] = []
    order = procedure.find_document(payment.order)
    if order is None:
        problems.append(f"payment order {payment.order!r} is not a declared document")
    elif not {payment.reference_row, payment.amount_row} <= set(order.cadena) or order.validity is None:
        problems.append("the payment order seals its reference and amount and has a validity (its due date)")
    for name in payment.fields:
        if procedure.find_field(name) is None:
            problems.append(f"payment field {name!r} is not declared")
    for workflow in procedure.workflows:
        for awaiting in payment.awaiting_states:
            confirming = workflow.find(payment.confirm_trigger, awaiting)
            if not confirming or not all(t.dedicated and set(payment.fields) <= set(t.fields) for t in confirming):
                problems.append(
                    f"{payment.confirm_trigger!r}: a dedicated transition from {awaiting!r} writing the payment fields"
                )
        if not any(t.issues == payment.order for t in workflow.transitions):
            problems.append(f"no transition issues the payment order {payment.order!r}")
        late = [t for t in workflow.transitions if t.trigger == payment.late_trigger]
        if payment.late_trigger is not None and (
            not late
            or not all(t.dedicated and t.sources == (t.dest,) and set(payment.fields) <= set(t.fields) for t in late)
        ):
            problems.append(
                f"{payment.late_trigger!r}: dedicated transitions that stay in their state writing the payment fields"
            )
    return problems


CADENA_HEAD = ("version", "tipo", "numero", "folio", "fecha_emision", "emisor")
"""The fields every cadena original starts with, before the document's own."""
CADENA_TAIL = ("servidor_publico", "cargo", "no_certificado", "codigo_verificacion")
"""The fields every cadena original ends with, after the document's own."""
CADENA_COMMON = frozenset(CADENA_HEAD + CADENA_TAIL)
"""The cadena fields every document carries; a document's own fields never reuse these names."""


def _document_problems(procedure: Procedure) -> list[str]:
    problems: list[str] = []
    kinds = [d.kind for d in procedure.documents]
    if len(kinds) != len(set(kinds)):
        problems.append("duplicate document kinds")
    params = {key for w in procedure.workflows for key in w.params}
    for document in procedure.documents:
        where = f"document {document.kind}"
        if not document.kind or not document.kind.isidentifier() or len(document.kind) > 32:
            problems.append(f"{where}: a kind is an identifier of at most 32 characters")
        if not document.template.endswith(".html"):
            problems.append(f"{where}: the template must be an HTML file in pdf_templates/")
        if not document.tipo or "|" in document.tipo:
            problems.append(f"{where}: a tipo without '|' is required")
        if len(set(document.cadena)) != len(document.cadena) or not document.cadena:
            problems.append(f"{where}: the cadena needs its own fields, each once")
        if set(document.cadena) & CADENA_COMMON:
            problems.append(f"{where}: the cadena repeats a common field")
        formats = [(document.cadena_version, document.cadena, document.rows)]
        formats += [(f.version, f.cadena, f.rows) for f in document.former_formats]
        if len({version for version, _cadena, _rows in formats}) != len(formats):
            problems.append(f"{where}: each format version once")
        for version, cadena, rows in formats:
            if not version or "|" in version:
                problems.append(f"{where}: a format version without '|' is required")
            for row in rows:
                if row.field not in cadena:
                    problems.append(f"{where} {version}: printed row {row.field!r} is not in the cadena")
                if row.format not in DOCUMENT_FORMATS:
                    problems.append(f"{where} {version}: row {row.field!r} has an unknown format {row.format!r}")
        if document.validity is not None and document.validity not in params:
            problems.append(f"{where}: validity parameter {document.validity!r} missing")
        if (document.series is None) != (document.number_field is None):
            problems.append(f"{where}: a number series needs the field that may replace it, and only then")
        if document.number_field is not None and procedure.find_field(document.number_field) is None:
            problems.append(f"{where}: number field {document.number_field!r} is not a declared field")
    for workflow in procedure.workflows:
        for transition in workflow.transitions:
            if transition.issues and transition.issues not in kinds:
                problems.append(f"{transition.trigger}: issues undeclared document {transition.issues!r}")
    return problems


def _presentation_problems(procedure: Procedure) -> list[str]:
    problems: list[str] = []
    presentation = procedure.presentation
    triggers = {t.trigger for w in procedure.workflows for t in w.transitions}
    states = {s.name for w in procedure.workflows for s in w.states}
    for trigger, style in presentation.styles.items():
        if trigger not in triggers:
            problems.append(f"style for unknown trigger {trigger!r}")
        if style not in TRANSITION_STYLES:
            problems.append(f"{trigger}: unknown style {style!r}")
    for state in presentation.correction_states:
        if state not in states:
            problems.append(f"correction box in unknown state {state!r}")
    if presentation.correction_states and presentation.correction_field is None:
        problems.append("correction states need the field listing the items to correct")
    for state, party in presentation.binds.items():
        if state not in states:
            problems.append(f"term of unknown state {state!r}")
        if party not in PARTIES:
            problems.append(f"{state}: unknown party {party!r}")
    for workflow in procedure.workflows:
        for declared in workflow.states:
            if declared.deadline is not None and declared.name not in presentation.binds:
                problems.append(f"{declared.name}: say which party its term binds")
    for name in procedure.eligibility_fields:
        if procedure.find_field(name) is None:
            problems.append(f"eligibility asks for undeclared field {name!r}")
    if procedure.eligibility is not None and not (procedure.eligibility_fields or procedure.eligibility_form):
        problems.append("an eligibility check needs its fields or its form")
    if procedure.demo is not None:
        for steps in procedure.demo.cases:
            for step in steps:
                if step.trigger not in triggers:
                    problems.append(f"demo step {step.trigger!r} is not a trigger")
    if procedure.steps and procedure.edit_trigger not in triggers:
        problems.append(f"edit trigger {procedure.edit_trigger!r} is not a trigger")
    return problems


class Registry:
    """The installed procedures, by name. Built once from the one list of installed procedures."""

    def __init__(self, procedures: tuple[Procedure, ...]) -> None:
        self._by_name: dict[str, Procedure] = {}
        for procedure in procedures:
            self.install(procedure)

    def install(self, procedure: Procedure) -> None:
        """Add ``procedure`` (before the application is created: the engine builds its machines once). Raises
        ``ValueError`` when its name or folio prefix is taken."""
        if procedure.name in self._by_name:
            raise ValueError(f"procedures installed twice: {[procedure.name]}")
        prefixes = {w.folio_prefix for p in self._by_name.values() for w in p.workflows}
        if any(w.folio_prefix in prefixes for w in procedure.workflows):
            raise ValueError("two procedures share a folio prefix")
        kinds = {d.kind for p in self._by_name.values() for d in p.documents}
        twice = sorted(d.kind for d in procedure.documents if d.kind in kinds)
        if twice:
            raise ValueError(f"document kinds declared by two procedures: {twice}")
        self._by_name[procedure.name] = procedure

    def replace(self, procedure: Procedure) -> Procedure:
        """Put ``procedure`` in the place of the installed one of the same name (a new declaration of it);
        return the one it replaces. Raises ``KeyError`` when none is installed, ``ValueError`` when it clashes
        with another procedure."""
        previous = self._by_name[procedure.name]
        order = list(self._by_name.values())
        del self._by_name[procedure.name]
        try:
            self.install(procedure)
        except ValueError:
            self._by_name[previous.name] = previous
            raise
        finally:
            self._by_name = {p.name: self._by_name.get(p.name, p) for p in order}
        return previous

    def uninstall(self, name: str) -> None:
        """Remove the procedure ``name`` (cases of it can no longer be served); raises ``KeyError``."""
        del self._by_name[name]

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Procedure:
        """The procedure ``name``; raises ``KeyError`` if it is not installed."""
        return self._by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        """The installed procedures' names, in installation order."""
        return tuple(self._by_name)

    def definitions(self) -> tuple[Workflow, ...]:
        """Every (workflow, version) of every installed procedure."""
        return tuple(w for p in self for w in p.workflows)

    def with_eligibility(self) -> tuple[Procedure, ...]:
        """The procedures applicants start from the catalogue (those checked for eligibility)."""
        return tuple(p for p in self if p.eligibility is not None)

    def documents(self) -> tuple[Document, ...]:
        """Every kind of document the installed procedures issue."""
        return tuple(d for p in self for d in p.documents)

    def document(self, kind: str) -> Document:
        """The declared document ``kind``; raises ``KeyError`` if no installed procedure issues it."""
        for procedure in self:
            found = procedure.find_document(kind)
            if found is not None:
                return found
        raise KeyError(kind)
