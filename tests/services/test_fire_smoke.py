from app.audit import verify
from app.extensions import db
from app.models import Case, Role
from tests.support.factories import make_user, vecs_case


def test_submit_moves_state_and_logs(app):
    applicant = make_user(Role.APPLICANT)
    case = vecs_case(applicant)
    from app.services.cases import fire

    result = fire(case.case_id, "submit", applicant, expected_version=case.version)
    assert result.to_state == "submitted"
    stored = db.session.get(Case, case.case_id)
    assert stored.state == "submitted"
    assert stored.version == result.version == case.version + 1
    assert verify(db.session()).ok
