"""Procedure declarations: a workflow plus what the rest of the product needs to serve it without knowing it.

A municipality runs many procedures; the product is an engine plus *installed procedures*. Each procedure
declares, beside its workflow versions:

- its data **fields** (label, type, catalogue, canonical format, which applicant step collects them);
- its **applicant steps** (the pages an applicant fills before filing) and what each collects;
- its **parameters**' labels, help and section (namespaced: a parameter belongs to one procedure);
- the **departments** it needs (an administrator creates them; a missing one is reported, never ignored);
- **presentation** as data: each transition's style, the states that show the correction box, which party
  each state's term binds, the parts of the request a correction may point at;
- whether applicants start it from the catalogue, and its eligibility check;
- for procedures with machinery of their own (committee sessions, publication calendars), the module of the
  application that plugs its pages, services and commands in.

Generic code iterates over :data:`workflows.PROCEDURES` and never names a procedure. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workflows.base import DEPARTMENTS_PARAM, Workflow

FIELD_TYPES = frozenset({"text", "decimal", "integer", "boolean", "code", "codes", "date", "money", "area", "list"})
"""How a field's value is read, checked and printed:

- ``text``: a string as typed (spaces squeezed); ``code``: one code of a catalogue, ``codes``: several;
- ``decimal``/``area``/``money``: a number with a fixed number of ``places`` (areas print with ``m²``, money
  with ``$`` and two decimals); ``integer``; ``boolean`` (Sí/No); ``date`` (ISO 8601, printed in words);
- ``list``: structured items a dedicated form collects (e.g. co-responsible directors)."""

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


@dataclass(frozen=True, slots=True)
class Step:
    """A page the applicant fills before filing. ``documents`` marks the step where required documents are
    uploaded (they come from the workflow's requirements); otherwise the step edits its ``fields`` through the
    workflow's ``edit_trigger``."""

    slug: str
    title: str
    fields: tuple[str, ...] = ()
    documents: bool = False


PARAMETER_KINDS = frozenset(
    {"", "int", "decimal", "codes", "choice", "requirements", "fees", "departments", "rate", "secret", "json"}
)
"""How the settings page edits a parameter: ``""`` (read from its default: ``int``, ``decimal``, ``codes`` or,
for a parameter with choices, ``choice``), the requirements list, the fee table, the office → department
mapping, a percentage (``rate``, kept as a fraction), a draw seed (``secret``) or structured ``json``."""


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
    """A department the procedure needs, by the code its settings map offices to, with its usual name
    (an administrator creates it, possibly under another name)."""

    code: str
    name: str


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
    eligibility: Eligibility | None = None
    """Checked before anything is filed; a procedure with one is offered in the applicants' catalogue."""
    edit_trigger: str = "edit"
    """The trigger the applicant's step pages fire to save data."""
    plugin: str | None = None
    """Dotted name of the application module that plugs in this procedure's own machinery (blueprints,
    services, commands); it exposes ``register(app)``. ``None``: the generic pages serve it entirely."""
    settings_departments: Callable[[Mapping[str, Any]], Iterable[str]] | None = None
    """The department codes the procedure's settings name besides the office mapping (for example the
    responsible department of each format); a pure function of the settings."""

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

    def find_section(self, code: str) -> Section | None:
        """The correction section ``code``, or ``None``."""
        for item in self.presentation.sections:
            if item.code == code:
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
    if procedure.steps and procedure.edit_trigger not in triggers:
        problems.append(f"edit trigger {procedure.edit_trigger!r} is not a trigger")
    return problems


class Registry:
    """The installed procedures, by name. Built once from the one list of installed procedures."""

    def __init__(self, procedures: tuple[Procedure, ...]) -> None:
        names = [p.name for p in procedures]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"procedures installed twice: {duplicates}")
        prefixes = [w.folio_prefix for p in procedures for w in (p.latest,)]
        if len(prefixes) != len(set(prefixes)):
            raise ValueError("two procedures share a folio prefix")
        self._by_name: dict[str, Procedure] = {p.name: p for p in procedures}

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
