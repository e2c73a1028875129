"""A staff member's first login in the browser: password, authenticator set-up from the QR page, recovery
codes, then the second step on the next login (codes computed with pyotp, as the phone app would)."""

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
