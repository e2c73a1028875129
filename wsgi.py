"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``.

Besides the application, it loads the statutory holidays' tables the business-day calendar counts with (the
``holidays`` package loads them on first use: about 300 modules, 8 MB): gunicorn imports this module in its master
(``preload_app``), so its workers share them instead of each loading a copy on its first transition."""

from app import create_app
from app.calendar import load_statutory_holidays, local_today

app = create_app()
load_statutory_holidays(local_today())
