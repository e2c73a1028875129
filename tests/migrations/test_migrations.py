"""The migrations build the schema the models describe, and go down and up again, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.audit.canonical import GENESIS_HASH
from app.extensions import db
from app.models import Role
from tests.support.factories import make_user
from workflows.access_request import DEFAULT_PARAMS, parse_legal_bases

EXPECTED_TABLES = {
    "access_filing_keys",
    "access_requests",
    "alembic_version",
    "area_documents",
    "area_turns",
    "case_clocks",
    "committee_items",
    "committee_sessions",
    "committee_votes",
    "assignment_exclusions",
    "audit_checkpoints",
    "audit_entries",
    "audit_head",
    "audit_tree_nodes",
    "case_escalations",
    "email_confirmations",
    "cases",
    "certificates",
    "departments",
    "documents",
    "folio_counters",
    "idempotency_records",
    "non_working_days",
    "obligation_publications",
    "outbox",
    "password_reset_tokens",
    "personal_data_requests",
    "publication_samples",
    "publication_seeds",
    "draw_seeds",
    "recovery_codes",
    "row_counts",
    "security_events",
    "timers",
    "totp_credentials",
    "user_roles",
    "user_sessions",
    "users",
    "workflow_configs",
    "workflow_config_changes",
}


def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_upgrade_downgrade_upgrade(empty_database_url: str, tmp_path: Path):
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == EXPECTED_TABLES
        with db.engine.connect() as conn:
            head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
        assert tuple(head) == (0, GENESIS_HASH)
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == EXPECTED_TABLES
        db.engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET action = 'x'", "DELETE FROM audit_entries"])
def test_audit_entries_are_append_only(app, statement: str):
    make_user(Role.APPLICANT)  # writes one administrative entry
    with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() == 1


def test_requesters_who_filed_before_confirmation_existed_keep_their_notices(empty_database_url: str, tmp_path: Path):
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision="a7c2e5d49f65")
        with db.engine.begin() as conn:
            for email, marker in (("lector@example.test", "!requester-without-account"), ("x@example.test", "$argon2")):
                conn.execute(
                    text(
                        "INSERT INTO users (email, display_name, password_hash, locale, active, created_at) "
                        "VALUES (:email, 'N', :marker, 'es_MX', :active, CURRENT_TIMESTAMP)"
                    ),
                    {"email": email, "marker": marker, "active": True},
                )
        upgrade(revision="a3d8f1c6e274")
        with db.engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT email, email_confirmed_at IS NOT NULL FROM users")).all())
        assert rows == {"lector@example.test": True, "x@example.test": False}
        downgrade(revision="base")
        db.engine.dispose()


def test_accounts_with_a_password_keep_logging_in_once_confirmation_is_required(
    empty_database_url: str, tmp_path: Path
) -> None:
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision="a3d8f1c6e274")
        with db.engine.begin() as conn:
            for email, marker in (
                ("cuenta@example.test", "$argon2id$v=19$m=65536,t=3,p=4$x$y"),
                ("lector@example.test", "!requester-without-account"),
                ("baja@example.test", "!disabled"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO users (email, display_name, password_hash, locale, active, created_at) "
                        "VALUES (:email, 'N', :marker, 'es_MX', :active, '2026-03-02 17:00:00')"
                    ),
                    {"email": email, "marker": marker, "active": True},
                )
        upgrade()
        with db.engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT email, email_confirmed_at FROM users")).all())
        # the account with a password counts as proven from its creation; the markers stay unproven
        assert str(rows["cuenta@example.test"])[:19] == "2026-03-02 17:00:00"
        assert rows["lector@example.test"] is None
        assert rows["baja@example.test"] is None
        downgrade(revision="base")
        db.engine.dispose()


def test_the_publication_seed_setting_is_removed_from_settings_and_cases(empty_database_url: str, tmp_path: Path):
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision="d2f6a8c31e07")
        with db.engine.begin() as conn:
            for name, params in (
                ("obligation_publication", '{"sample_rate": "0.3", "sample_seed": "la-del-municipio"}'),
                ("vecs", '{"inspection_seed": "otra"}'),
            ):
                conn.execute(
                    text(
                        "INSERT INTO workflow_configs (workflow, params, revision, updated_at) "
                        "VALUES (:name, :params, 1, CURRENT_TIMESTAMP)"
                    ),
                    {"name": name, "params": params},
                )
            conn.execute(
                text(
                    "INSERT INTO users (id, email, display_name, password_hash, locale, active, created_at) "
                    "VALUES (1, 'p@example.test', 'P', '!x', 'es_MX', false, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO cases (id, folio, workflow, workflow_version, state, version, applicant_id, data, "
                    "params, created_at, updated_at) VALUES (1, 'OT-2026-000001', 'obligation_publication', 1, "
                    "'drafting', 1, 1, '{}', :params, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"params": '{"sample_rate": "0.3", "sample_seed": "la-del-municipio"}'},
            )
        upgrade()
        with db.engine.connect() as conn:
            settings = dict(conn.execute(text("SELECT workflow, params FROM workflow_configs")).all())
            case_params = conn.execute(text("SELECT params FROM cases WHERE id = 1")).scalar_one()
        as_dict = {k: json.loads(v) if isinstance(v, str) else v for k, v in settings.items()}
        # the inspection seed setting is removed too, by its own later migration (draw seeds committed)
        assert as_dict == {"obligation_publication": {"sample_rate": "0.3"}, "vecs": {}}
        assert (json.loads(case_params) if isinstance(case_params, str) else case_params) == {"sample_rate": "0.3"}
        downgrade(revision="d2f6a8c31e07")
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM cases"))
        downgrade(revision="base")
        db.engine.dispose()


def test_flat_reproduction_fees_become_the_cost_sheet_shape(empty_database_url: str, tmp_path: Path):
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    flat = '{"reproduction_fees": {"electronic": "0.00", "simple_copies": "50.00", "usb": "30"}, "payment_days": 45}'
    with application.app_context():
        upgrade(revision="d9e1f7a3b462")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO workflow_configs (workflow, params, revision, updated_at) "
                    "VALUES ('access_request', :params, 1, CURRENT_TIMESTAMP)"
                ),
                {"params": flat},
            )
            conn.execute(
                text(
                    "INSERT INTO users (id, email, display_name, password_hash, locale, active, created_at) "
                    "VALUES (1, 'p@example.test', 'P', '!x', 'es_MX', false, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO cases (id, folio, workflow, workflow_version, state, version, applicant_id, data, "
                    "params, created_at, updated_at) VALUES (1, 'SAI-2026-000001', 'access_request', 1, "
                    "'received', 1, 1, '{}', :params, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"params": flat},
            )
        upgrade()
        with db.engine.connect() as conn:
            settings = conn.execute(text("SELECT params FROM workflow_configs")).scalar_one()
            case_params = conn.execute(text("SELECT params FROM cases WHERE id = 1")).scalar_one()
        for stored in (settings, case_params):
            params = json.loads(stored) if isinstance(stored, str) else stored
            assert params["reproduction_fees"] == {
                "electronic": {"unit": "free", "fee": "0.00"},
                "simple_copies": {"unit": "simple_page", "fee": "1.00"},
                "usb": {"unit": "medium", "fee": "30.00"},
            }
            assert params["payment_days"] == 30  # art. 134: no more than thirty days
        downgrade(revision="d9e1f7a3b462")
        with db.engine.connect() as conn:
            settings = conn.execute(text("SELECT params FROM workflow_configs")).scalar_one()
        params = json.loads(settings) if isinstance(settings, str) else settings
        assert params["reproduction_fees"] == {"electronic": "0.00", "simple_copies": "1.00", "usb": "30.00"}
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM cases"))
        downgrade(revision="base")
        db.engine.dispose()


def test_the_count_of_users_starts_from_the_users_already_there(empty_database_url: str, tmp_path: Path):
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision="e8b2d5f1a946")
        with db.engine.begin() as conn:
            for n in range(3):
                conn.execute(
                    text(
                        "INSERT INTO users (email, display_name, password_hash, locale, active, created_at) "
                        "VALUES (:email, 'N', '!', 'es_MX', :active, CURRENT_TIMESTAMP)"
                    ),
                    {"email": f"u{n}@example.test", "active": True},
                )
        upgrade()
        make_user(Role.APPLICANT)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT n FROM row_counts WHERE name = 'users'")).scalar_one() == 4
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_cases_that_owe_a_fee_after_silence_are_marked_from_their_data(empty_database_url: str, tmp_path: Path):
    """The treasury's list reads the cases owing a fee after afirmativa ficta through a flag kept by every
    transition; the cases already resting where that fee may be confirmed are marked from their data: licensed
    without a payment recorded (owed), licensed with one (paid), and a case in a state where no such fee applies."""
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision="a4c7e2b9d318")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, display_name, password_hash, locale, active, created_at) "
                    "VALUES (1, 'p@example.test', 'P', '!x', 'es_MX', true, CURRENT_TIMESTAMP)"
                )
            )
            for case_id, state, data in (
                (1, "licensed", {"resolution_lapsed_on": "2026-02-18"}),
                (2, "licensed", {"payment_operation": "SPEI-2026-0300"}),
                (3, "licensed", {"payment_operation": ""}),
                (4, "licence_review", {}),
            ):
                conn.execute(
                    text(
                        "INSERT INTO cases (id, folio, workflow, workflow_version, state, version, applicant_id, "
                        "data, params, created_at, updated_at) VALUES (:id, :folio, 'vecs', 1, :state, 1, 1, :data, "
                        "'{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": case_id, "folio": f"VECS-2026-{case_id:06d}", "state": state, "data": json.dumps(data)},
                )
        upgrade()
        with db.engine.connect() as conn:
            owed = conn.execute(text("SELECT id FROM cases WHERE payment_owed ORDER BY id")).scalars().all()
        assert owed == [1, 3]
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM cases"))
            conn.execute(text("DELETE FROM users"))
        downgrade(revision="base")
        db.engine.dispose()


def _save_settings(saved: dict[str, dict]) -> None:
    """Settings rows as a jurisdiction saved them: each workflow's parameters, by name."""
    with db.engine.begin() as conn:
        for name, params in saved.items():
            conn.execute(
                text(
                    "INSERT INTO workflow_configs (workflow, params, revision, updated_at) "
                    "VALUES (:name, :params, 1, CURRENT_TIMESTAMP)"
                ),
                {"name": name, "params": json.dumps(params)},
            )


def _settings() -> dict[str, dict]:
    """Every workflow's saved parameters, by name, as the database holds them now."""
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT workflow, params FROM workflow_configs")).all()
    return {name: json.loads(params) if isinstance(params, str) else params for name, params in rows}


def test_saved_legal_bases_get_the_cost_sheets_acts_with_their_defaults(empty_database_url: str, tmp_path: Path):
    """A jurisdiction that saved its ``legal_bases`` before the cost sheet's rows cited acts of it finds those
    acts written in with the 2015 articles the rows cited (so that the settings page shows them), its own
    citations kept; going down removes them, since the former code refuses an act it does not know."""
    defaults = DEFAULT_PARAMS["legal_bases"]
    added = ("reproduction_costs", "late_response", "cost_waiver", "admission", "dismissal", "appeal_prevention")
    later = ("pleadings", "instruction_closed")  # acts of a later migration, which writes them in too
    saved = {act: f"Artículo {n} de la Ley de Transparencia del Estado" for n, act in enumerate(defaults, 100)}
    saved = {act: text for act, text in saved.items() if act not in added and act not in later}
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision="a3d8f1c6e274")
        before = {"access_request": {"legal_bases": saved, "payment_days": 20}, "vecs": {"payment_days": 5}}
        _save_settings(before)

        upgrade()
        after = _settings()
        assert after["access_request"] == {
            "legal_bases": {**saved, **{act: defaults[act] for act in (*added, *later)}},
            "payment_days": 20,
        }
        assert parse_legal_bases(after["access_request"]["legal_bases"]) == after["access_request"]["legal_bases"]
        assert after["vecs"] == {"payment_days": 5}
        downgrade(revision="a3d8f1c6e274")
        assert _settings() == before
        downgrade(revision="base")
        db.engine.dispose()


def test_saved_legal_bases_get_the_acts_of_the_appeals_instruction(empty_database_url: str, tmp_path: Path):
    """A jurisdiction that saved its ``legal_bases`` before version 3 of the access request finds the acts of the
    appeal's instruction written in with the 2015 law's article 150 (fr. II and III for the parties' pleadings,
    fr. VII for the closing), its own citations kept; going down removes them."""
    defaults = DEFAULT_PARAMS["legal_bases"]
    own = {act: f"Artículo {n} de la Ley de Transparencia del Estado" for n, act in enumerate(defaults, 100)}
    saved = {act: text for act, text in own.items() if act not in {"pleadings", "instruction_closed"}}
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision="c5e1a9d7b402")
        before = {"access_request": {"legal_bases": saved, "payment_days": 20}, "vecs": {"payment_days": 5}}
        _save_settings(before)

        upgrade(revision="339a57f5d4da")
        after = _settings()["access_request"]["legal_bases"]
        assert after == {
            **saved,
            "pleadings": "Artículo 150, fracciones II y III, de la Ley General de Transparencia y Acceso a la "
            "Información Pública (DOF 4 de mayo de 2015)",
            "instruction_closed": "Artículo 150, fracción VII, de la Ley General de Transparencia y Acceso a la "
            "Información Pública (DOF 4 de mayo de 2015)",
        }
        assert {act: after[act] for act in ("pleadings", "instruction_closed")} == {
            act: defaults[act] for act in ("pleadings", "instruction_closed")
        }
        assert parse_legal_bases(after) == after
        assert _settings()["vecs"] == {"payment_days": 5}
        downgrade(revision="c5e1a9d7b402")
        assert _settings() == before
        downgrade(revision="base")
        db.engine.dispose()


def _leading_columns(inspector, table: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """Each b-tree of ``table`` that finds rows by their leading columns: (name, columns, partial)."""
    trees = []
    primary = inspector.get_pk_constraint(table)
    if primary["constrained_columns"]:
        trees.append((primary["name"] or "primary key", tuple(primary["constrained_columns"]), False))
    for unique in inspector.get_unique_constraints(table):
        trees.append((unique["name"], tuple(unique["column_names"]), False))
    for index in inspector.get_indexes(table):
        options = index.get("dialect_options", {})
        partial = bool(options.get("sqlite_where") is not None or options.get("postgresql_where") is not None)
        if None not in index["column_names"]:  # an index of expressions leads with no column
            trees.append((index["name"], tuple(index["column_names"]), partial))
    return trees


def test_departments_get_a_nullable_english_name_and_lose_it_going_down(empty_database_url: str, tmp_path: Path):
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision="b7e2c4a9d351")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO departments (code, name) VALUES ('catastro', 'Catastro')"))
        upgrade(revision="c5e1a9d7b402")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT code, name, name_en FROM departments")).all() == [
                ("catastro", "Catastro", None)
            ]
            conn.execute(text("UPDATE departments SET name_en = 'Cadastre' WHERE code = 'catastro'"))
        downgrade(revision="b7e2c4a9d351")
        assert "name_en" not in {c["name"] for c in inspect(db.engine).get_columns("departments")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT code, name FROM departments")).all() == [("catastro", "Catastro")]
        downgrade(revision="base")
        db.engine.dispose()


def test_no_index_repeats_the_leading_columns_of_another(app):
    """An index whose columns begin another index, the primary key or a unique key serves no look-up the longer
    one does not, and costs a write on every insert (a case's clocks, its reviewer exclusions and areas' turns,
    an item's votes and a user's roles each had one). Partial indexes are left out: they hold other rows."""
    inspector = inspect(db.engine)
    repeated = []
    for table in inspector.get_table_names():
        trees = _leading_columns(inspector, table)
        for name, columns, partial in trees:
            for other, longer, other_partial in trees:
                if partial or other_partial or other == name or len(longer) <= len(columns):
                    continue
                if longer[: len(columns)] == columns:
                    repeated.append((table, name, other))
    assert repeated == []
