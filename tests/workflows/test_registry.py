"""The registry of installed procedures: every declaration is complete, so that generic pages never guess."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workflows import DEFINITIONS, ELIGIBILITY, PROCEDURES, REGISTRY
from workflows.base import SYSTEM_ROLE, Workflow
from workflows.procedure import Field, Presentation, Procedure, Registry, Step, check


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.name)
def test_every_field_a_person_writes_is_declared_with_a_label(procedure: Procedure) -> None:
    """A field missing from the declaration would simply not be shown on the case page."""
    for workflow in procedure.workflows:
        written = {f for t in workflow.transitions if SYSTEM_ROLE not in t.roles for f in t.fields}
        written |= set(workflow.opening_fields)
        if procedure.steps:  # the applicant's own data is declared where steps collect it
            missing = sorted(name for name in written if procedure.find_field(name) is None)
            assert missing == [], f"{procedure.name}: undeclared fields {missing}"
    for declared in procedure.fields:
        assert declared.label.strip(), declared.name


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.name)
def test_every_term_says_whom_it_binds(procedure: Procedure) -> None:
    for workflow in procedure.workflows:
        for state in workflow.states:
            if state.deadline is not None:
                assert procedure.presentation.binds[state.name] in {"applicant", "authority"}


def test_the_registry_is_the_one_source_of_workflows_and_the_catalogue() -> None:
    assert tuple(w for p in PROCEDURES for w in p.workflows) == DEFINITIONS
    assert set(ELIGIBILITY) == {p.name for p in PROCEDURES if p.eligibility is not None}
    assert REGISTRY.names == tuple(p.name for p in PROCEDURES)


def test_inconsistent_declarations_are_refused_with_reasons() -> None:
    vecs = REGISTRY.get("vecs")
    with pytest.raises(ValueError, match="unknown step"):
        replace(vecs, fields=(*vecs.fields, Field("extra", "Extra", step="nowhere")))
    with pytest.raises(ValueError, match="unknown type"):
        replace(vecs, fields=(Field("extra", "Extra", "colour"),))
    with pytest.raises(ValueError, match="unknown field"):
        replace(vecs, steps=(*vecs.steps, Step("otro", "Otro", ("nada",))))
    with pytest.raises(ValueError, match="say which party"):
        replace(vecs, presentation=Presentation())
    with pytest.raises(ValueError, match="unknown style"):
        replace(vecs, presentation=replace(vecs.presentation, styles={"deny": "loud"}))
    with pytest.raises(ValueError, match="correction box in unknown state"):
        replace(vecs, presentation=replace(vecs.presentation, correction_states=("limbo",)))
    with pytest.raises(ValueError, match="installed twice"):
        Registry((vecs, vecs))
    assert check(vecs) == []


def test_a_department_an_office_maps_to_must_be_declared() -> None:
    vecs = REGISTRY.get("vecs")
    workflow = vecs.latest
    params = dict(workflow.params)
    params["departments"] = {**params["departments"], "intake": "catastro"}
    remapped = replace(workflow, params=params)
    with pytest.raises(ValueError, match="'catastro' used by an office but not declared"):
        replace(vecs, workflows=(remapped,))


def test_who_a_term_binds_is_read_from_the_declaration() -> None:
    """The reminder of a term goes to the party the declaration names, not to one guessed from the exits."""
    from app.services.deadlines import acting_party

    vecs = REGISTRY.get("vecs")
    assert acting_party(vecs.latest, "prevention") == "applicant"
    authority = replace(
        vecs, presentation=replace(vecs.presentation, binds={**vecs.presentation.binds, "prevention": "authority"})
    )
    REGISTRY.uninstall("vecs")
    REGISTRY.install(authority)
    try:
        assert acting_party(vecs.latest, "prevention") == "assignee"
    finally:
        REGISTRY.uninstall("vecs")
        REGISTRY.install(vecs)
    assert REGISTRY.names == tuple(p.name for p in PROCEDURES) or set(REGISTRY.names) == {p.name for p in PROCEDURES}


@pytest.mark.parametrize("workflow", DEFINITIONS, ids=lambda w: f"{w.name}-v{w.version}")
def test_a_definitions_look_ups_give_what_a_scan_of_its_lists_gives(workflow: Workflow) -> None:
    """States and transitions are looked up by name (kept per definition): the same answers, in definition
    order, as reading the declared lists from the start."""
    names = [state.name for state in workflow.states] + ["no_such_state"]
    triggers = [*sorted({t.trigger for t in workflow.transitions}), "no_such_trigger"]
    for name in names:
        scanned = [state for state in workflow.states if state.name == name]
        if scanned:
            assert workflow.state(name) is scanned[0]
        else:
            with pytest.raises(KeyError, match=name):
                workflow.state(name)
        assert workflow.transitions_from(name) == tuple(t for t in workflow.transitions if name in t.sources)
        for trigger in triggers:
            expected = tuple(t for t in workflow.transitions if t.trigger == trigger and name in t.sources)
            assert workflow.find(trigger, name) == expected
    assert workflow.triggers == frozenset(triggers[:-1])
