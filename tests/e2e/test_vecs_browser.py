"""VECS construction requests end to end in a real browser: from registration to the occupancy authorization,
a prevención round, a denial, an ineligible request, and a reviewer trying an action that is not theirs."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app.calendar import local_today
from app.extensions import db
from app.models import Case, Role, User
from app.services.config import update_config
from app.services.delivery import deliver_pending
from app.services.demo import demo_pdf
from tests.e2e.conftest import People, flash, press, shot
from tests.support.demo_data import VECS_SETTINGS
from tests.support.factories import advance, make_user, vecs_case
from tests.support.smtp import Mailbox

pytestmark = pytest.mark.slow

DOCUMENTS = ("identificacion", "propiedad", "alineamiento", "planos", "memoria_estructural", "carta_dro")


class Staff:
    """The municipality's people for a VECS flow, each in their department."""

    def __init__(self) -> None:
        self.admin = make_user(Role.ADMIN, name="Adán Administrador")
        self.clerk = make_user((Role.INTAKE_CLERK, "ventanilla"), name="Víctor Ventanilla")
        self.land_use = make_user((Role.REVIEWER, "desarrollo_urbano"), name="Diana Dictaminadora")
        self.finance = make_user((Role.REVIEWER, "finanzas"), name="Raúl Revisor")
        self.approver = make_user((Role.REVIEWER, "desarrollo_urbano"), name="Alma Aprobadora")
        self.inspector = make_user((Role.INSPECTOR, "obras_publicas"), name="Irene Inspectora")
        self.treasurer = make_user(Role.TREASURY, name="Teresa Tesorería")


def db_today() -> str:
    """Today in Mexico City, as a date input takes it."""
    return local_today().isoformat()


def assigned_to(case_id: int) -> int:
    """Whom the reviewer draw assigned the case to."""
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    assert case.assignee_id is not None
    return case.assignee_id


def name_of(user_id: int) -> str:
    user = db.session.get(User, user_id)
    assert user is not None
    return user.display_name


def action(page: Page, trigger: str, fields: dict[str, str] | None = None, checks: tuple[str, ...] = ()) -> None:
    """Use the form of ``trigger`` on a case page: fill it and press its button."""
    form = page.locator(f"form#accion-{trigger}")
    expect(form).to_be_visible()
    for name, value in (fields or {}).items():
        form.locator(f"[name='{trigger}-{name}']").fill(value)
    for value in checks:
        form.locator(f"input[type=checkbox][value='{value}']").check()
    press(form.locator("button[type=submit]"))


def open_case(page: Page, case_id: int) -> None:
    page.goto(f"/expedientes/{case_id}")
    expect(page.locator("h1")).to_contain_text("Ventanilla de Construcción Simplificada")


def upload(page: Page, kind: str, name: str | None = None, content: bytes | None = None) -> None:
    row = page.locator(f"#requisito-{kind}")
    row.locator("input[type=file]").set_input_files(
        files=[{"name": name or f"{kind}.pdf", "mimeType": "application/pdf", "buffer": content or demo_pdf(kind)}]
    )
    press(row.locator("button[type=submit]"))


def confirmation_link(mailbox: Mailbox, address: str) -> str:
    """The path of the confirmation link mailed to ``address`` (the outbox delivered to the test's SMTP server)."""
    db.session.rollback()
    deliver_pending()
    bodies = [m.get_content() for m in mailbox.messages if m["To"] == address]
    links = [found.group(1) for body in bodies if (found := re.search(r"(/confirmar-correo/[A-Za-z0-9_-]+)", body))]
    assert len(links) == 1, bodies
    return links[0]


def test_happy_path_from_registration_to_occupancy(app: Flask, people: People, mailbox: Mailbox) -> None:
    staff = Staff()

    # The administrator publishes the fee table, maps the stages to departments and samples every completion.
    admin = people.logged_in(staff.admin)
    admin.goto("/admin/tramites/vecs")
    for office, code in VECS_SETTINGS["departments"].items():
        admin.select_option(f"[name='department__{office}']", code)
    for index, row in enumerate(VECS_SETTINGS["fee_table"]):
        admin.fill(f"[name='fee_table-{index}-concept']", row["concept"])
        admin.select_option(f"[name='fee_table-{index}-unit']", row["unit"])
        admin.fill(f"[name='fee_table-{index}-rate']", row["rate"])
        admin.fill(f"[name='fee_table-{index}-legal_basis']", row["legal_basis"])
    admin.fill("[name='inspection_rate']", "100")
    shot(admin, "10-admin-settings")
    press(admin.locator("form.settings input[type=submit]"))
    assert "Configuración guardada" in flash(admin)

    # The applicant registers, checks eligibility and fills the request in steps.
    applicant = people.page()
    applicant.goto("/login")
    applicant.click("text=Cree una cuenta")
    shot(applicant, "01-registration")
    applicant.fill("#display_name", "Ana Solicitante")
    applicant.fill("#email", "ana@example.test")
    applicant.fill("#password", "una-contraseña-larga")
    applicant.fill("#confirm", "una-contraseña-larga")
    applicant.click("main input[type=submit]")
    # the answer does not say whether the address was new, and the account logs in once the address is proven
    expect(applicant).to_have_url(re.compile(r"/login\?next="))
    assert "confirmar su dirección" in flash(applicant)
    applicant.goto(confirmation_link(mailbox, "ana@example.test"))
    press(applicant.locator("main input[type=submit]"))
    assert "Ya puede iniciar sesión" in flash(applicant)
    applicant.goto("/login?next=/tramites")
    applicant.fill("#email", "ana@example.test")
    applicant.fill("#password", "una-contraseña-larga")
    applicant.click("main input[type=submit]")
    expect(applicant).to_have_url(re.compile(r"/tramites$"))
    applicant.click("a[href='/tramites/vecs/elegibilidad']")
    applicant.fill("#built_area_m2", "1,500")
    applicant.check("#new_construction-0")
    applicant.check("#works_started-1")
    applicant.check("#lot_vacant-0")
    applicant.select_option("#land_use", "papeleria")
    applicant.select_option("#building_type", "local_comercial")
    applicant.click("#check")
    expect(applicant.locator(".result.eligible")).to_be_visible()
    shot(applicant, "02-eligibility-eligible")
    applicant.click("text=Iniciar solicitud")
    expect(applicant).to_have_url(re.compile(r"/pasos/predio$"))
    case_id = int(re.search(r"/expedientes/(\d+)/", applicant.url).group(1))  # type: ignore[union-attr]
    applicant.fill("#property_address", "Calle Morelos 45, Centro")
    applicant.fill("#cadastral_key", "010-020-030")
    applicant.fill("#lot_area_m2", "800")
    shot(applicant, "03-step-property")
    applicant.click("main input[type=submit]")
    expect(applicant).to_have_url(re.compile(r"/pasos/proyecto$"))
    expect(applicant.locator("#built_area_m2")).to_have_value("1500.00")  # stored in its canonical form
    applicant.click("main input[type=submit]")
    expect(applicant).to_have_url(re.compile(r"/pasos/uso$"))
    applicant.click("main input[type=submit]")
    expect(applicant).to_have_url(re.compile(r"/pasos/dro$"))
    applicant.fill("#dro_name", "Arq. Laura Obra")
    applicant.fill("#dro_registration", "DRO-0007")
    applicant.fill("#cse_name", "Ing. Pedro Cálculo")
    applicant.fill("#cse_registration", "CSE-0101")
    shot(applicant, "04-step-dro")
    applicant.click("main input[type=submit]")
    expect(applicant).to_have_url(re.compile(r"/pasos/documentos$"))
    for kind in DOCUMENTS:
        upload(applicant, kind)
    shot(applicant, "05-step-documents")
    applicant.click("text=Revisar y presentar →")
    shot(applicant, "06-case-draft-ready")
    action(applicant, "submit")
    assert "Presentar la solicitud" in flash(applicant)
    folio = applicant.locator(".folio strong").inner_text()
    assert re.fullmatch(r"VECS-\d{4}-\d{6}", folio)
    expect(applicant.locator(".state-badge")).to_contain_text("Presentada")
    expect(applicant.locator(".case-head")).to_contain_text("Ventanilla")

    # The intake clerk finds it in the queue and accepts it.
    clerk = people.logged_in(staff.clerk)
    clerk.goto("/bandeja")
    shot(clerk, "07-queue-clerk")
    clerk.click(f"text={folio}")
    action(clerk, "start_intake")
    shot(clerk, "08-case-intake")
    action(clerk, "accept_intake")
    expect(clerk.locator(".state-badge")).to_contain_text("Dictamen de uso de suelo")

    # The draw assigned the ruling to one of urban development's reviewers, who rules on land use; finance
    # assesses the fees from the published table.
    ruler_id = assigned_to(case_id)
    approver_id = staff.approver if ruler_id == staff.land_use else staff.land_use
    land_use = people.logged_in(ruler_id)
    open_case(land_use, case_id)
    action(land_use, "rule_land_use", {"land_use_ruling": "Compatible con la zonificación H3-C."})
    finance = people.logged_in(staff.finance)
    open_case(finance, case_id)
    expect(finance.locator("#derechos")).to_contain_text("Ley de Ingresos")
    shot(finance, "09-case-fee-assessment")
    action(finance, "assess_fees")

    # The applicant sees the fees with their legal basis and the legal term, and downloads the payment order;
    # they no longer type any payment reference.
    open_case(applicant, case_id)
    fees = applicant.locator("#derechos")
    expect(fees).to_contain_text("$28,601.00")  # 1,500 m² × $18.50 + $851.00
    expect(fees).to_contain_text("art. 25, fracc. I")
    expect(applicant.locator(".case-head")).to_contain_text("días hábiles restantes")
    expect(applicant.locator(".case-head")).to_contain_text("Plazo máximo de resolución")
    expect(applicant.locator("form#accion-confirm_payment")).to_have_count(0)
    order_link = applicant.locator("#documentos-emitidos a", has_text="Descargar PDF")
    expect(order_link).to_have_count(1)
    with applicant.expect_download() as download:
        order_link.first.click()
    assert download.value.suggested_filename.endswith(".pdf")

    # The treasury confirms the payment received at its cashier, with the order's reference and amount.
    treasurer = people.logged_in(staff.treasurer)
    treasurer.goto("/tesoreria")
    shot(treasurer, "10-treasury-orders")
    reference = treasurer.locator("td.reference").first.inner_text().strip()
    form = treasurer.locator("form[action='/tesoreria/confirmar']")
    form.locator("[name=reference]").fill(reference)
    form.locator("[name=amount]").fill("28601.00")
    form.locator("[name=paid_on]").fill(db_today())
    form.locator("[name=operation]").fill("CAJA-2026-0042")
    press(form.locator("button[type=submit], input[type=submit]"))
    assert "Pago aplicado" in flash(treasurer)

    # The one who ruled was left out of the licence's draw (four eyes): the other reviewer has it and approves.
    open_case(land_use, case_id)
    expect(land_use.locator("form#accion-approve_licence")).to_have_count(0)
    expect(land_use.locator("#asignacion")).to_contain_text(name_of(approver_id))
    approver = people.logged_in(approver_id)
    open_case(approver, case_id)
    action(approver, "approve_licence")
    expect(approver.locator(".state-badge")).to_contain_text("Licencia emitida")

    # The licence is downloadable; then an extension, the completion notice and the draw.
    open_case(applicant, case_id)
    shot(applicant, "11-case-licensed")
    download_link = applicant.locator("#documentos-emitidos a", has_text="Descargar PDF")
    if download_link.count():
        with applicant.expect_download() as download:
            download_link.first.click()
        assert download.value.suggested_filename.endswith(".pdf")
    action(applicant, "request_extension")
    open_case(approver, case_id)
    action(approver, "grant_extension")
    open_case(applicant, case_id)
    action(applicant, "file_completion")
    expect(applicant.locator("#sorteo")).to_contain_text("fue seleccionada para inspección")
    expect(applicant.locator(".state-badge")).to_contain_text("Inspección de obra")

    inspector = people.logged_in(staff.inspector)
    inspector.goto("/bandeja")
    inspector.click(f"text={folio}")
    action(inspector, "pass_inspection")
    # the occupancy review is drawn among urban development's reviewers again (the draw follows the folio and the
    # log, so the day the test runs): the one drawn authorizes it
    reviewer = {ruler_id: land_use, approver_id: approver}.get(assigned_to(case_id))
    assert reviewer is not None
    open_case(reviewer, case_id)
    action(reviewer, "authorize_occupancy")
    expect(reviewer.locator(".state-badge")).to_contain_text("Autorización de ocupación emitida")

    open_case(applicant, case_id)
    shot(applicant, "12-case-occupancy-authorized")
    timeline = applicant.locator("#historial")
    for text in ("Presentar la solicitud", "La obra fue sorteada para inspección", "Sorteo: número"):
        expect(timeline).to_contain_text(text)
    links = applicant.locator("#documentos-emitidos a", has_text="Descargar PDF")
    if links.count():
        assert links.count() == 3  # the payment order, the licence, the occupancy authorization
        with applicant.expect_download() as download:
            links.first.click()
        assert download.value.suggested_filename.endswith(".pdf")
    # An uploaded document downloads as a sandboxed attachment under a generated name.
    uploaded = applicant.locator("#documentos a[download]").first
    with applicant.expect_download() as download:
        uploaded.click()
    assert re.fullmatch(r"expediente-\d+-[a-z_]+-\d+\.pdf", download.value.suggested_filename)
    response = applicant.request.get(uploaded.get_attribute("href") or "")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_prevention_round(app: Flask, people: People) -> None:
    staff = Staff()
    owner = make_user(Role.APPLICANT, name="Bruno Solicitante")
    case = advance(vecs_case(owner), [("submit", owner, None, None), ("start_intake", staff.clerk, None, None)])

    clerk = people.logged_in(staff.clerk)
    open_case(clerk, case.case_id)
    action(clerk, "issue_prevention")  # no items, no reasoning: refused with clear messages
    assert "Elija al menos un punto a corregir." in clerk.locator("#accion-issue_prevention").inner_text()
    assert "Escriba la fundamentación y motivación." in clerk.locator("#accion-issue_prevention").inner_text()
    action(
        clerk,
        "issue_prevention",
        {"comment": "Los planos no muestran las cotas del predio."},
        checks=("planos", "datos_dro"),
    )
    expect(clerk.locator(".state-badge")).to_contain_text("Prevención")

    applicant = people.logged_in(owner)
    expect(applicant.locator("main")).to_contain_text(case.folio)
    shot(applicant, "00-applicant-home")
    open_case(applicant, case.case_id)
    notice = applicant.locator("#prevencion")
    expect(notice).to_contain_text("Planos arquitectónicos")
    expect(notice).to_contain_text("Los planos no muestran las cotas del predio.")
    expect(applicant.locator(".case-head")).to_contain_text("Plazo para desahogar la prevención")
    shot(applicant, "13-case-prevention")
    applicant.click("nav.steps >> text=DRO y corresponsables")
    applicant.fill("#dro_registration", "DRO-0999")
    applicant.click("main input[type=submit]")
    upload(applicant, "planos", "planos-corregidos.pdf", demo_pdf("planos con cotas"))
    expect(applicant.locator("#requisito-planos")).to_contain_text("1 versión anterior")
    applicant.click("text=Revisar y presentar →")
    expect(applicant.locator("#documentos")).to_contain_text("planos-corregidos.pdf")
    action(applicant, "answer_prevention")
    expect(applicant.locator(".state-badge")).to_contain_text("Revisión de integración")

    open_case(clerk, case.case_id)
    expect(clerk.locator("#accion-issue_prevention")).to_have_count(0)  # the one prevención was used
    expect(clerk.locator("#no-disponible-issue_prevention")).to_contain_text("única prevención")
    action(clerk, "accept_intake")
    expect(clerk.locator(".state-badge")).to_contain_text("Dictamen de uso de suelo")


def test_a_denial_needs_a_reasoned_comment(app: Flask, people: People) -> None:
    staff = Staff()
    update_config("vecs", {"departments": VECS_SETTINGS["departments"]}, staff.admin)
    owner = make_user(Role.APPLICANT, name="Carla Solicitante")
    case = advance(
        vecs_case(owner),
        [
            ("submit", owner, None, None),
            ("start_intake", staff.clerk, None, None),
            ("accept_intake", staff.clerk, None, None),
        ],
    )
    reviewer = people.logged_in(assigned_to(case.case_id))
    open_case(reviewer, case.case_id)
    action(reviewer, "deny")
    assert "Escriba la fundamentación y motivación." in reviewer.locator("#accion-deny").inner_text()
    action(reviewer, "deny", {"comment": "El predio está en zona de riesgo según el atlas municipal."})
    expect(reviewer.locator(".state-badge")).to_contain_text("Negada")
    applicant = people.logged_in(owner)
    open_case(applicant, case.case_id)
    expect(applicant.locator("#historial")).to_contain_text("zona de riesgo")
    expect(applicant.locator("#acciones")).to_contain_text("No tiene acciones pendientes")
    shot(applicant, "14-case-denied")
    applicant.select_option("#locale", "en")
    applicant.click("form[action='/language'] button")
    expect(applicant.locator(".state-badge")).to_contain_text("Denied")
    expect(applicant.locator("#acciones h2")).to_contain_text("Available actions")
    shot(applicant, "17-case-denied-english")


def test_an_ineligible_request_is_told_why(app: Flask, people: People) -> None:
    applicant = people.logged_in(make_user(Role.APPLICANT))
    applicant.goto("/vecs/elegibilidad")
    press(applicant.locator("#check"))  # nothing answered: every question says what is missing
    errors = applicant.locator("p.error").all_inner_texts()
    assert "Indique la superficie construida en m²." in errors
    assert "Indique si es obra nueva." in errors
    applicant.fill("#built_area_m2", "1500.01")
    applicant.check("#new_construction-0")
    applicant.check("#works_started-0")
    applicant.check("#lot_vacant-0")
    applicant.select_option("#land_use", "otro")
    applicant.select_option("#building_type", "escuela")
    applicant.click("#check")
    result = applicant.locator(".result.not-eligible")
    expect(result).to_contain_text("excede el máximo")
    expect(result).to_contain_text("no debe haber iniciado")
    expect(result).to_contain_text("excluido")
    expect(result).to_contain_text("catálogo de bajo riesgo")
    expect(result).to_contain_text("licencia de construcción ordinaria")
    expect(applicant.locator("text=Iniciar solicitud")).to_have_count(0)
    shot(applicant, "15-eligibility-refused")


def test_a_reviewer_cannot_take_a_step_that_is_not_theirs(app: Flask, people: People) -> None:
    staff = Staff()
    update_config("vecs", {"departments": VECS_SETTINGS["departments"]}, staff.admin)
    owner = make_user(Role.APPLICANT)
    case = advance(
        vecs_case(owner),
        [
            ("submit", owner, None, None),
            ("start_intake", staff.clerk, None, None),
            ("accept_intake", staff.clerk, None, None),
        ],
    )
    finance = people.logged_in(staff.finance)
    finance.goto("/bandeja")
    expect(finance.locator("main")).not_to_contain_text(case.folio)  # not in their department's queue
    finance.goto(f"/expedientes/{case.case_id}")  # another department's case: not shown at all
    expect(finance.locator("h1")).to_contain_text("Acceso denegado")
    expect(finance.locator("main")).not_to_contain_text(case.folio)
    expect(finance.locator("form#accion-rule_land_use")).to_have_count(0)
    shot(finance, "16-case-not-theirs")
    token = finance.locator("form[action='/language'] input[name=csrf_token]").get_attribute("value") or ""
    forged = finance.request.post(
        f"/expedientes/{case.case_id}/acciones/rule_land_use",
        form={
            "rule_land_use-csrf_token": token,
            "rule_land_use-expected_version": str(case.version),
            "rule_land_use-idempotency_key": "forged-0000000001",
            "rule_land_use-land_use_ruling": "Compatible",
        },
    )
    assert forged.status == 403
    assert case.folio not in forged.text()  # another department's case is not even shown to them
    clerk = people.logged_in(staff.clerk)
    token = clerk.locator("form[action='/language'] input[name=csrf_token]").get_attribute("value") or ""
    forged = clerk.request.post(
        f"/expedientes/{case.case_id}/acciones/rule_land_use",
        form={
            "rule_land_use-csrf_token": token,
            "rule_land_use-expected_version": str(case.version),
            "rule_land_use-idempotency_key": "forged-0000000002",
            "rule_land_use-land_use_ruling": "Compatible",
        },
    )
    assert forged.status == 403
    assert "Su rol no le permite" in forged.text()
