"""What the procedures declare for the settings page and the departments check (pure: no application)."""

from __future__ import annotations

import dataclasses

import pytest

from workflows import REGISTRY, access_request, obligation_publication, vecs
from workflows.base import DEPARTMENTS_PARAM
from workflows.procedure import PARAMETER_KINDS, Department, Parameter, Procedure


@pytest.mark.parametrize("procedure", list(REGISTRY), ids=lambda p: p.name)
def test_every_parameter_of_an_installed_procedure_has_its_words(procedure: Procedure) -> None:
    assert procedure.undeclared_parameters() == ()
    for parameter in procedure.parameters:
        assert parameter.label.strip(), parameter.key
        assert parameter.section.strip(), parameter.key
        assert parameter.kind in PARAMETER_KINDS
    for workflow in procedure.workflows:
        for key, values in workflow.param_choices.items():
            declared = procedure.find_parameter(key)
            assert declared is not None
            assert {code for code, _ in declared.labels} >= set(values), f"{key}: a choice without words"
        offices = workflow.params.get(DEPARTMENTS_PARAM) or {}
        declared = procedure.find_parameter(DEPARTMENTS_PARAM)
        for office in offices:
            assert declared is not None
            assert declared.label_of(office) != office, f"office {office} without words"


def test_a_parameter_without_words_is_reported() -> None:
    workflow = obligation_publication.PUBLICATION_V1
    grown = dataclasses.replace(workflow, params={**workflow.params, "plazo_nuevo_dias": 5})
    procedure = dataclasses.replace(obligation_publication.PROCEDURE, workflows=(grown,))
    assert procedure.undeclared_parameters() == ("plazo_nuevo_dias",)


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ((Parameter("no_existe", "Algo", section="S"),), "parameter 'no_existe' is not a workflow parameter"),
        ((Parameter("response_days", "", section="S"),), "parameter 'response_days' has no label"),
        ((Parameter("response_days", "Plazo", kind="slider"),), "unknown kind 'slider'"),
        ((Parameter("response_days", "A"), Parameter("response_days", "B")), "duplicate parameter keys"),
    ],
)
def test_inconsistent_parameter_declarations_are_refused(parameters: tuple[Parameter, ...], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        dataclasses.replace(access_request.PROCEDURE, parameters=parameters)


def test_the_same_key_reads_differently_in_two_procedures() -> None:
    in_vecs = vecs.PROCEDURE.find_parameter("prevention_answer_days")
    in_access = access_request.PROCEDURE.find_parameter("prevention_answer_days")
    assert in_vecs is not None
    assert in_access is not None
    assert in_vecs.label != in_access.label


def test_departments_named_by_settings_are_needed() -> None:
    procedure = obligation_publication.PROCEDURE
    assert set(procedure.department_codes()) == {"finanzas", "obras_publicas", "desarrollo_urbano"}
    formats = [dict(f) for f in obligation_publication.DEFAULT_FORMATS]
    formats[0]["department"] = "contraloria"
    params = {**obligation_publication.DEFAULT_PARAMS, "formats": formats, DEPARTMENTS_PARAM: {"area": "archivo"}}
    named = procedure.settings_department_codes(params)
    assert named == ("archivo", "contraloria", "obras_publicas", "desarrollo_urbano")
    assert procedure.settings_department_codes({"formats": "no es una lista"}) == ()
    offices = {"intake": "ventanilla", "land_use": "", "fees": "finanzas", "licence": "", "inspection": "finanzas"}
    assert vecs.PROCEDURE.settings_department_codes({DEPARTMENTS_PARAM: offices}) == ("ventanilla", "finanzas")


def test_a_department_the_default_settings_name_must_be_declared() -> None:
    with pytest.raises(ValueError, match="department 'finanzas' used by an office but not declared"):
        dataclasses.replace(
            obligation_publication.PROCEDURE,
            departments=(Department("obras_publicas", "Obras"), Department("desarrollo_urbano", "Desarrollo")),
        )
