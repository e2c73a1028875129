"""The sampling pages: the audited body's pages never show the quarter's seed (not the settings, not the
publication pages), the public sampling page shows the commitment before the draw and the seed with the
recomputation steps after it, and the guarantor draws, draws again for late records and commits a seed."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, Role
from app.procedures.obligation_publication.models import ObligationPublication, PublicationSeed
from app.procedures.obligation_publication.services import open_quarter
from app.services.auth import decrypt
from app.services.users import ensure_department
from tests.support.factories import make_user
from tests.web.helpers import csrf_token, flashes, login_as, text

SAMPLING = "/transparencia/publicaciones/muestreo"
PUBLIC = "/transparencia/obligaciones/sorteos"


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    for code in ("finanzas", "obras_publicas", "desarrollo_urbano"):
        ensure_department(code, code.replace("_", " ").title())
    open_quarter(2026, 1, today=date(2026, 4, 1))
    return {
        "area": make_user((Role.AREA, "finanzas")),
        "unit": make_user(Role.TRANSPARENCY_UNIT),
        "guarantor": make_user(Role.GUARANTOR),
        "admin": make_user(Role.ADMIN),
    }


def seed_and_digest() -> tuple[str, str]:
    db.session.rollback()
    row = db.session.scalars(select(PublicationSeed)).one()
    seed = decrypt(row.seed_encrypted)
    assert seed is not None
    return seed, row.digest


def budget_id() -> int:
    db.session.rollback()
    return db.session.scalars(
        select(Case.id)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(ObligationPublication.format_code == "presupuesto")
    ).one()


def test_no_page_of_the_audited_body_shows_the_seed(client: FlaskClient, people: dict[str, int]) -> None:
    seed, digest = seed_and_digest()
    login_as(client, people["admin"])
    settings = client.get("/admin/tramites/obligation_publication")
    assert settings.status_code == 200
    assert 'name="sample_seed"' not in text(settings)
    assert "Semilla del sorteo" not in text(settings)
    assert seed not in text(settings)
    client.delete_cookie("tramites_session")  # logged out
    for who in ("area", "unit"):
        login_as(client, people[who])
        case_id = budget_id()
        for path in (
            "/transparencia/publicaciones",
            f"/transparencia/publicaciones/{case_id}",
            f"/expedientes/{case_id}",
        ):
            page = client.get(path)
            assert page.status_code == (403 if (who, path) == ("unit", f"/expedientes/{case_id}") else 200)
            assert seed not in text(page)
        client.delete_cookie("tramites_session")  # logged out
    public = client.get(PUBLIC)
    assert public.status_code == 200  # anyone, without an account
    assert digest in text(public)
    assert seed not in text(public)
    assert "Aún no: se revela en el sorteo" in text(public)


def test_the_guarantor_draws_and_the_public_page_reveals_the_seed(client: FlaskClient, people: dict[str, int]) -> None:
    seed, digest = seed_and_digest()
    login_as(client, people["guarantor"])
    page = client.get(SAMPLING)
    assert page.status_code == 200
    assert seed not in text(page)
    assert digest[:16] in text(page)  # the guarantor sees the commitment and when the draw becomes possible
    assert "Sorteo posible desde" in text(page)
    token = csrf_token(text(page), SAMPLING)
    blank = client.post(SAMPLING, data={"csrf_token": token, "year": "", "quarter": "1", "submit": "1"})
    assert blank.status_code == 422
    assert "Indique el ejercicio." in flashes(blank)
    unopened = client.post(SAMPLING, data={"csrf_token": token, "year": "2026", "quarter": "3", "submit": "1"})
    assert unopened.status_code == 422
    assert "Ese trimestre no tiene registros que sortear." in flashes(unopened)
    # (the first quarter of 2026 was due on 30 April: the real clock is past it; the service tests check the
    # refusal before the deadline with a frozen clock)
    drawn = client.post(SAMPLING, data={"csrf_token": token, "year": "2026", "quarter": "1", "submit": "1"})
    assert drawn.status_code == 302
    shown = client.get(SAMPLING)
    assert any("Sorteo realizado" in f for f in flashes(shown))
    again = client.post(SAMPLING, data={"csrf_token": token, "year": "2026", "quarter": "1", "supplementary": "1"})
    assert again.status_code == 302
    assert "No hay registros publicados después del sorteo que sortear." in flashes(client.get(SAMPLING))
    committed = client.post(SAMPLING, data={"csrf_token": token, "year": "2026", "quarter": "2", "commit": "1"})
    assert committed.status_code == 302
    twice = client.post(SAMPLING, data={"csrf_token": token, "year": "2026", "quarter": "2", "commit": "1"})
    assert twice.status_code == 422
    db.session.rollback()
    commitments = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "publication_seed_committed"))
    assert [(e.details["quarter"], e.actor_role) for e in commitments] == [(1, "system"), (2, "guarantor")]
    public = text(client.get(PUBLIC))
    assert seed in public
    assert digest in public
    assert "HMAC-SHA256(seed, folio|seq)" in public
    assert "Seleccionado: hallazgo por no publicar" in public or "No seleccionado" in public


def test_the_sampling_pages_show_one_year_the_latest_unless_asked(client: FlaskClient, people: dict[str, int]) -> None:
    """The public sampling page and the guarantor's show the commitments of one year (the latest with one by
    default, another through ``?ejercicio=``, with links to the years around): a commitment a quarter for every
    year the system runs would make them grow; a filter that is not a year is a translated 400."""
    login_as(client, people["guarantor"])
    client.post(
        SAMPLING,
        data={
            "csrf_token": csrf_token(text(client.get(SAMPLING)), SAMPLING),
            "year": "2025",
            "quarter": "3",
            "commit": "1",
        },
    )
    db.session.rollback()
    digests = {(row.year, row.quarter): row.digest for row in db.session.scalars(select(PublicationSeed))}
    assert set(digests) == {(2025, 3), (2026, 1)}
    for path in (PUBLIC, SAMPLING):
        latest = client.get(path)
        assert latest.status_code == 200, path
        assert digests[(2026, 1)][:16] in text(latest)
        assert digests[(2025, 3)][:16] not in text(latest)
        assert 'value="2026"' in latest.get_data(as_text=True)
        assert f"{path}?ejercicio=2025" in latest.get_data(as_text=True)  # the year before
        older = client.get(f"{path}?ejercicio=2025")
        assert older.status_code == 200
        assert digests[(2025, 3)][:16] in text(older)
        assert digests[(2026, 1)][:16] not in text(older)
        assert "en este ejercicio" in text(client.get(f"{path}?ejercicio=2024"))
        wrong = client.get(f"{path}?ejercicio=veinte")
        assert wrong.status_code == 400
        assert "el ejercicio debe ser un año entre 2000 y 2200" in text(wrong)
        assert digests[(2026, 1)][:16] in text(wrong)  # the latest year, with the error said
    client.delete_cookie("tramites_session")  # logged out: the browser's language
    english = client.get(f"{PUBLIC}?ejercicio=1999", headers={"Accept-Language": "en"})
    assert english.status_code == 400
    assert "the year must be between 2000 and 2200" in text(english)
