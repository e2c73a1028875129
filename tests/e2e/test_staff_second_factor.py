"""The second factor in the browser (codes computed with pyotp, as the phone app would): a staff member's first
login (password, authenticator set-up from the QR page, recovery codes, then the second step on the next login),
and an applicant who turns one on from their account's page and off again."""

from __future__ import annotations

import re
import time

import pyotp
from flask import Flask
from playwright.sync_api import expect

from app.models import Role
from tests.e2e.conftest import People, shot
from tests.support.factories import PASSWORD, email_of, make_user


def test_staff_login_with_totp_enrolment_and_second_step(app: Flask, people: People) -> None:
    app.config["STAFF_TOTP_REQUIRED"] = True
    staff = make_user(Role.ADMIN, name="Adán Administrador")
    page = people.page()
    page.goto("/login")
    page.fill("#email", email_of(staff))
    page.fill("#password", PASSWORD)
    page.click("main input[type=submit]")
    expect(page).to_have_url(re.compile(r"/login/activar-verificacion$"))
    expect(page.locator("#totp-qr")).to_be_visible()
    shot(page, "30-totp-enrolment")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.fill("#code", "000000" if totp.now() != "000000" else "111111")
    page.click("main input[type=submit]")
    expect(page.locator("p.error")).to_contain_text("El código no es correcto")
    page.fill("#code", totp.now())
    page.click("main input[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    shot(page, "31-totp-recovery-codes")
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/inicio$"))
    page.click("header form[action='/logout'] [type=submit]")
    expect(page).to_have_url(re.compile(r"/login"))

    page.fill("#email", email_of(staff))
    page.fill("#password", PASSWORD)
    page.click("main input[type=submit]")
    expect(page).to_have_url(re.compile(r"/login/verificacion$"))
    shot(page, "32-totp-second-step")
    page.fill("#code", totp.at(time.time() + 30))  # the next code: the one used to enrol cannot be used again
    page.click("main input[type=submit]")
    expect(page).to_have_url(re.compile(r"/inicio$"))
    expect(page.locator("header")).to_contain_text("Adán Administrador")


def test_an_applicant_turns_the_second_factor_on_and_off_in_the_browser(app: Flask, people: People) -> None:
    """From the header's link: the password, the app's QR page, the recovery codes; the next login asks for a
    code; then off again with the password and a recovery code, and the password alone logs in."""
    app.config["STAFF_TOTP_REQUIRED"] = True
    applicant = make_user(Role.APPLICANT, name="Lucía Solicitante")
    page = people.page()

    def log_in() -> None:
        page.goto("/login")
        page.fill("#email", email_of(applicant))
        page.fill("#password", PASSWORD)
        page.click("main input[type=submit]")

    log_in()
    expect(page).to_have_url(re.compile(r"/inicio$"))
    page.click("header a[href='/cuenta/verificacion']")
    expect(page.locator("#estado")).to_contain_text("Su cuenta no usa la verificación en dos pasos")
    page.fill("#activar-password", PASSWORD)
    page.click("#activar [type=submit]")
    expect(page).to_have_url(re.compile(r"/cuenta/verificacion/nueva$"))
    expect(page.locator("#totp-qr")).to_be_visible()
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.fill("#code", totp.now())
    page.click("main input[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    codes = page.locator("#recovery-codes li").all_inner_texts()
    page.click("#continue")
    expect(page.locator("#estado")).to_contain_text("Activa desde")
    page.click("header form[action='/logout'] [type=submit]")

    log_in()
    expect(page).to_have_url(re.compile(r"/login/verificacion$"))
    page.fill("#code", totp.at(time.time() + 30))  # the one that turned it on cannot be used again
    page.click("main input[type=submit]")
    expect(page).to_have_url(re.compile(r"/inicio$"))

    page.goto("/cuenta/verificacion")
    page.fill("#desactivar-password", PASSWORD)
    page.fill("#desactivar-code", codes[0])
    page.click("#desactivar [type=submit]")
    expect(page.locator("p.flash")).to_contain_text("Se desactivó la verificación en dos pasos de su cuenta.")
    page.click("header form[action='/logout'] [type=submit]")
    log_in()
    expect(page).to_have_url(re.compile(r"/inicio$"))
