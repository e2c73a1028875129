"""``flask --app wsgi …`` command groups, one module per group."""

from __future__ import annotations

from flask import Flask

from app.cli.audit import audit_cli
from app.cli.backup import backup_cli
from app.cli.demo import demo_cli
from app.cli.departments import check_after_upgrade, departments_cli
from app.cli.keys import keys_cli
from app.cli.payments import payments_cli
from app.cli.permissions import permissions_cli
from app.cli.permits import permits_cli
from app.cli.storage import storage_cli
from app.cli.users import users_cli
from app.plugins import installed


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    groups = (demo_cli, users_cli, audit_cli, permits_cli, keys_cli, permissions_cli, departments_cli, payments_cli)
    for group in (*groups, storage_cli, backup_cli):
        app.cli.add_command(group)
    for plugin in installed():  # the installed procedures' own commands
        for command in plugin.commands:
            app.cli.add_command(command)
    check_after_upgrade(app)  # `flask db upgrade` ends by warning of missing departments
