"""Templates build URLs through a per-process memo (app.web.urls): the same URLs Flask builds."""

from __future__ import annotations

from flask import Flask, render_template_string, url_for

SOURCE = (
    "{{ url_for('cases.show', case_id=7) }}|{{ url_for('queue.index', vista='vencidos') }}|"
    "{{ url_for('static', filename='style.css') }}|{{ url_for('cases.show', case_id=7, _anchor='acciones') }}"
)


def test_kept_urls_are_flask_urls_under_each_script_root(app: Flask) -> None:
    answers = []
    for root in ("", "/tramites", ""):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            rendered = render_template_string(SOURCE)
            expected = [
                url_for("cases.show", case_id=7),
                url_for("queue.index", vista="vencidos"),
                url_for("static", filename="style.css"),
                url_for("cases.show", case_id=7, _anchor="acciones"),
            ]
        assert rendered.split("|") == [e.replace("&", "&amp;") for e in expected]
        answers.append(rendered)
    assert answers[0] == answers[2]
    assert answers[1].startswith("/tramites/expedientes/7|/tramites/bandeja?vista=vencidos|/tramites/static/")
    assert answers[0].endswith("/expedientes/7#acciones")


def test_a_list_s_links_by_id_are_flask_urls_under_each_script_root(app: Flask) -> None:
    from app.web.urls import id_url

    for root in ("", "/tramites", ""):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            link = id_url("cases.show", "case_id")
            for case_id in (1, 7, 10, 123456789012):
                assert link(case_id) == url_for("cases.show", case_id=case_id)
            # where the value is not the rule's one integer (here a query argument), Flask builds each URL
            other = id_url("queue.index", "vista")
            assert other(7) == url_for("queue.index", vista=7) == f"{root}/bandeja?vista=7"
