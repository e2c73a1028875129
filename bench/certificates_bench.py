"""Certificates benchmark: what issuing and serving a certificate cost, each against its floor, in one run.

1. Issuing (render the HTML, PDF/A, QR, cadena + sello, PAdES signature, content-addressed store)
   against a bare WeasyPrint render of the same HTML (plain PDF, default URL fetcher), and against that bare
   render followed by the same PAdES signature (target: issuing within 1.5x of it).
2. Serving an issued PDF (login session, permission check, stored bytes re-hashed, attachment)
   against serving a static file of the same size, both through the same Flask app and test client;
   and the same static file behind the same login, to separate the session's cost from the download's.

Run with ``make bench`` (or ``.venv/bin/python bench/certificates_bench.py [--rounds N]``). Needs nothing
running: a throw-away SQLite database, document store and development keys are made in a temp folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(fn: Callable[[], object], rounds: int, warmup: int = 2) -> list[float]:
    """Wall-clock seconds of ``rounds`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def check(condition: bool, message: str) -> None:
    """Stop the benchmark when something it measures did not do what it should."""
    if not condition:
        raise RuntimeError(message)


def row(name: str, times: list[float]) -> tuple[str, float, float]:
    """(name, median ms, p90 ms)."""
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return name, statistics.median(times) * 1000, p90 * 1000


def main() -> int:
    """Run both comparisons and print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds of the rendering comparison")
    parser.add_argument("--serve-rounds", type=int, default=300, help="timed rounds of the serving comparison")
    args = parser.parse_args()

    from flask import send_from_directory
    from flask_migrate import upgrade
    from weasyprint import CSS, HTML

    import workflows
    from app import create_app
    from app.certificates import IssueRequest, issue
    from app.certificates.pades import sign_pdf
    from app.certificates.render import STYLESHEET, TEMPLATES_DIR, render_html
    from app.extensions import db
    from app.keys import init_development_keys, load_signing_material
    from app.models import Certificate, Role
    from app.services.cases import fire, open_case
    from app.services.certificates import office
    from app.services.demo import demo_pdf
    from app.services.documents import attach_document
    from app.services.users import RoleGrant, create_user
    from app.storage import get_storage
    from app.web.access import authenticated, public
    from workflows.construction import DEMO_DATA as VECS_DATA
    from workflows.construction import DEMO_DOCUMENTS as VECS_DOCUMENTS

    with tempfile.TemporaryDirectory(prefix="certificates-bench-") as tmp:
        folder = Path(tmp)
        app = create_app(
            "test",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.sqlite3'}",
            DOCUMENTS_DIR=str(folder / "documents"),
            KEYS_DIR=str(folder / "keys"),
            WTF_CSRF_ENABLED=False,
            PUBLIC_BASE_URL="https://tramites.municipio.example",
        )
        init_development_keys(folder / "keys", app.config["INSTITUTION_NAME"])
        static = folder / "static"
        static.mkdir()

        # The bench's own routes declare their access rules like every view (the default-deny hook refuses
        # undeclared endpoints with 403): the bare file is public, the second one needs the same login.
        @app.get("/bench-static/<path:name>")
        @public
        def bench_static(name: str) -> object:
            return send_from_directory(static, name)

        @app.get("/bench-static-login/<path:name>")
        @authenticated
        def bench_static_login(name: str) -> object:
            return send_from_directory(static, name)

        with app.app_context():
            upgrade()
            material = load_signing_material(app.config)
            the_office = office(app.config)
            store = get_storage(Path(app.config["DOCUMENTS_DIR"]))
            fields = {
                "numero_licencia": "LC-2026-000017",
                "titular": "José Ángel Muñoz Peñaloza",
                "ubicacion": "Av. Hidalgo 123, Col. Centro",
                "clave_catastral": "001-002-003",
                "superficie_construida_m2": "420.50",
                "uso_suelo": "Comercio de abarrotes",
                "dro_nombre": "Arq. Daniel Responsable",
                "dro_registro": "DRO-0421",
                "derechos_pagados": "8420.00",
                "situacion_derechos": "Pagados; pago confirmado por la Tesorería",
                "referencia_pago": "TES-2026-88123",
                "operacion_pago": "OP-2026-55120",
                "fecha_pago": "2026-11-26",
                "vigencia_desde": "2026-11-27",
                "vigencia_hasta": "2027-11-27",
            }
            extra = {
                "superficie_predio": "600.00",
                "tipo_edificacion": "Local comercial",
                "dictamen_uso_suelo": "Compatible con la zonificación H3-C.",
                "derechos": [{"concepto": "Licencia de construcción", "importe": "8420.00"}],
            }
            counter = iter(range(1, 1_000_000))

            def issue_once() -> bytes:
                n = next(counter)
                document = issue(
                    IssueRequest(
                        kind="licence",
                        number=f"CERT-2026-{n:06d}",
                        folio="VECS-2026-000017",
                        verification_code="K7Q2M9XA3F",
                        issued_at=datetime.now(UTC),
                        official_name="Arq. María José Peña Núñez",
                        official_position="Dictaminador(a) — Dirección de Desarrollo Urbano",
                        legal_basis=workflows.document("licence").legal_basis,
                        fields=fields,
                        extra=extra,
                    ),
                    the_office,
                    material,
                )
                store.put(document.pdf)
                return document.pdf

            # the HTML that issuing renders, captured once, for the bare render (issuing imports the renderer
            # when it first runs, so the renderer module's function is the one to wrap)
            import app.certificates.render as render

            captured: dict[str, object] = {}
            real_render = render.render_pdf

            def capture(template: str, context: dict[str, object], **kwargs: object) -> bytes:
                captured["html"] = render_html(template, context)
                return real_render(template, context)

            render.render_pdf = capture  # type: ignore[assignment]
            issue_once()
            render.render_pdf = real_render
            html = str(captured["html"])
            base_url = TEMPLATES_DIR.as_uri() + "/"

            def bare_render() -> bytes:  # the stylesheet read and parsed for each document, as a <link> would be
                return bytes(
                    HTML(string=html, base_url=base_url).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])
                )

            def bare_render_and_sign() -> bytes:
                return sign_pdf(bare_render(), material, reason="bench", location="bench")

            issue_times = measure(issue_once, args.rounds)
            bare_times = measure(bare_render, args.rounds)
            bare_signed_times = measure(bare_render_and_sign, args.rounds)

            # an issued certificate, through the real transition, and a static file of the same size
            grants = {
                "owner": (RoleGrant(Role.APPLICANT),),
                "clerk": (RoleGrant(Role.INTAKE_CLERK),),
                "ruler": (RoleGrant(Role.REVIEWER),),
                "approver": (RoleGrant(Role.REVIEWER),),
                "treasurer": (RoleGrant(Role.TREASURY),),
            }
            ids = {k: create_user(f"{k}@bench.example", k.title(), "Bench-Password-2026", g) for k, g in grants.items()}
            case = open_case("vecs", ids["owner"], VECS_DATA)
            version = case.version
            for kind in VECS_DOCUMENTS:
                version = attach_document(case.case_id, kind, f"{kind}.pdf", demo_pdf(kind), ids["owner"]).case_version
            steps = [
                ("submit", "owner", None),
                ("start_intake", "clerk", None),
                ("accept_intake", "clerk", None),
                ("rule_land_use", "ruler", {"land_use_ruling": "Compatible"}),
                ("assess_fees", "ruler", {"fees": [{"concept": "Licencia", "amount": "8420.00"}]}),
                (
                    "confirm_payment",
                    "treasurer",
                    {
                        "payment_reference": "TES-1",
                        "payment_amount": "8420.00",
                        "payment_paid_on": "2026-01-02",
                        "payment_operation": "OP-1",
                    },
                ),
                ("approve_licence", "approver", {"licence_number": "LC-2026-0001"}),
            ]
            for trigger, who, data in steps:
                version = fire(case.case_id, trigger, ids[who], expected_version=version, data=data).version
            certificate = db.session.query(Certificate).filter_by(case_id=case.case_id, kind="licence").one()
            size = certificate.size_bytes
            (static / "same-size.pdf").write_bytes(store.get(certificate.storage_key)[:size])
            download_url = f"/expedientes/{case.case_id}/documentos/{certificate.id}.pdf"
            db.session.remove()

        client = app.test_client()
        login = client.post("/login", data={"email": "owner@bench.example", "password": "Bench-Password-2026"})
        check(login.status_code == 302, f"login failed: {login.status_code}")

        def serve_issued() -> None:
            response = client.get(download_url)
            check(response.status_code == 200 and len(response.data) == size, "download failed")

        def serve_static() -> None:
            response = client.get("/bench-static/same-size.pdf")
            check(response.status_code == 200 and len(response.data) == size, "static file failed")

        def serve_static_logged_in() -> None:
            response = client.get("/bench-static-login/same-size.pdf")
            check(response.status_code == 200 and len(response.data) == size, "static file behind login failed")

        issued_times = measure(serve_issued, args.serve_rounds, warmup=10)
        static_times = measure(serve_static, args.serve_rounds, warmup=10)
        static_login_times = measure(serve_static_logged_in, args.serve_rounds, warmup=10)

    rows = [
        row("issue certificate (render+PDF/A+QR+sello+PAdES+store)", issue_times),
        row("bare WeasyPrint render of the same HTML", bare_times),
        row("bare render of the same HTML + PAdES signature", bare_signed_times),
        row(f"serve issued PDF ({size} bytes, login+check+hash)", issued_times),
        row(f"serve static file of the same size ({size} bytes)", static_times),
        row("serve the same static file behind the same login", static_login_times),
    ]
    print(f"certificates benchmark ({args.rounds} render rounds, {args.serve_rounds} serve rounds, median/p90 ms)")
    for name, median, p90 in rows:
        print(f"  {name:62} {median:9.2f} {p90:9.2f}")
    print(f"  ratio issue / bare render:           {rows[0][1] / rows[1][1]:.2f}x")
    print(f"  ratio issue / bare render + sign:    {rows[0][1] / rows[2][1]:.2f}x (target 1.5x)")
    print(f"  ratio serve issued / serve static:   {rows[3][1] / rows[4][1]:.2f}x")
    print(f"  ratio serve issued / static behind login: {rows[3][1] / rows[5][1]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
