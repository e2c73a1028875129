"""``flask --app wsgi audit …``: the audit log (verification, checkpoints, bundles)."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import current_app
from flask.cli import AppGroup

from app.audit import KeptCheckpoint, VerifyResult
from app.audit.canonical import strict_loads
from app.audit.checkpoints import CheckpointError, load_public_key
from app.keys import KeyMaterialError, load_log_key
from app.services.audit_log import kept_checkpoint_path, read_kept_checkpoint, sign_checkpoint, verify_log
from app.services.oversight import OversightError, write_bundle

audit_cli = AppGroup("audit", help="The audit log.")


def _trusted_keys(paths: tuple[str, ...]) -> list[ed25519.Ed25519PublicKey]:
    keys: list[ed25519.Ed25519PublicKey] = []
    for path in paths:
        try:
            keys.append(load_public_key(Path(path).read_bytes()))
        except (OSError, ValueError) as exc:
            raise click.BadParameter(f"{path}: not a readable Ed25519 public key in PEM ({exc})") from None
    if not keys:
        with contextlib.suppress(KeyMaterialError):
            keys.append(load_log_key(current_app.config).public_key())
    return keys


def _kept(paths: tuple[str, ...]) -> list[KeptCheckpoint]:
    kept: list[KeptCheckpoint] = []
    for path in paths:
        try:
            kept.append(KeptCheckpoint.from_json(strict_loads(Path(path).read_bytes())))
        except (OSError, ValueError, RecursionError) as exc:
            raise click.BadParameter(f"{path}: not a checkpoint ({exc})") from None
    return kept


@audit_cli.command("verify")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    metavar="PEM",
    help="A trusted log public key (repeatable; default: the configured log key).",
)
@click.option(
    "--trusted-checkpoint",
    "kept",
    multiple=True,
    metavar="JSON",
    help="A checkpoint kept earlier: the log must still contain exactly what it signed (repeatable).",
)
@click.option(
    "--allow-uncovered",
    is_flag=True,
    help="Do not fail when no checkpoint covers the log's latest entries (they are still reported).",
)
@click.option(
    "--uncovered-tolerance",
    type=click.IntRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Fail when entries no checkpoint covers are older than this (default: AUDIT_UNCOVERED_TOLERANCE).",
)
def audit_verify(
    public_keys: tuple[str, ...], kept: tuple[str, ...], allow_uncovered: bool, uncovered_tolerance: int | None
) -> None:
    """Recompute the chain, every leaf, the tree and every checkpoint; exit 1 naming the first bad entry.

    Also fails when entries are covered by no checkpoint beyond a tolerance (or by none at all), and when
    the log no longer contains what the checkpoint kept outside the database (AUDIT_KEPT_CHECKPOINT_FILE) signed.
    """
    checkpoints = _kept(kept)
    try:
        kept_copy = read_kept_checkpoint(current_app.config)
    except ValueError as exc:
        click.echo(f"FAILED: the checkpoint kept outside the database is unreadable: {exc}", err=True)
        raise SystemExit(1) from None
    if kept_copy is not None:
        checkpoints.append(kept_copy)
    tolerance = None
    if not allow_uncovered:
        seconds = uncovered_tolerance
        if seconds is None:
            seconds = int(current_app.config.get("AUDIT_UNCOVERED_TOLERANCE", 900))
        tolerance = timedelta(seconds=seconds)
    result = verify_log(_trusted_keys(public_keys), checkpoints, tolerance)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    kept_path = kept_checkpoint_path(current_app.config)
    if kept_copy is None and kept_path is not None and result.covered:
        click.echo(
            f"warning: no checkpoint kept outside the database at {kept_path}: a rewind of the database behind "
            "its latest checkpoint would only be caught by checkpoints kept elsewhere",
            err=True,
        )
    if result.ok:
        click.echo(
            f"OK: {result.checked} entries verified; head {result.head_hash}; "
            f"tree root {result.root_hash or '-'}; {result.checkpoints_verified} checkpoints verified"
        )
        if kept_copy is not None:
            click.echo(f"the log still contains what the kept checkpoint ({kept_copy.tree_size} entries) signed")
        _echo_coverage(result)
        return
    if result.first_bad is not None:
        click.echo(
            f"FAILED at entry {result.first_bad}: {result.reason} ({result.checked} entries read)",
            err=True,
        )
    else:
        click.echo(f"FAILED: {result.reason}", err=True)
    for problem in result.problems[1:]:
        click.echo(f"  also: {problem.message}", err=True)
    _echo_coverage(result)
    raise SystemExit(1)


def _echo_coverage(result: VerifyResult) -> None:
    if result.uncovered:
        click.echo(
            f"uncovered: entries {result.covered + 1}–{result.covered + result.uncovered} are covered by no "
            f"checkpoint yet (the oldest since {result.oldest_uncovered_at})"
        )
    else:
        click.echo(f"uncovered: none (checkpoints cover all {result.covered} entries)")


@audit_cli.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the current tree head with the log key and publish it (prints the checkpoint as JSON)."""
    try:
        checkpoint = sign_checkpoint(current_app.config)
    except (KeyMaterialError, CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(checkpoint, indent=2))


@audit_cli.command("bundle")
@click.argument("output", type=click.Path(dir_okay=False, writable=True))
@click.option("--tree-size", type=int, default=None, help="Size of a checkpoint (default: the latest).")
@click.option(
    "--format",
    "version",
    type=click.Choice(["1", "2"]),
    default="1",
    show_default=True,
    help="Bundle format: 2 puts each checkpoint after the entries it covers (verified in constant memory).",
)
def audit_bundle(output: str, tree_size: int | None, version: str) -> None:
    """Write the audit bundle (JSON lines) for a checkpoint to OUTPUT, for `verifier/verify_bundle.py`."""
    try:
        count = write_bundle(Path(output), tree_size, int(version))
    except OversightError as exc:
        raise click.ClickException(str(exc.message)) from None
    except OSError as exc:  # a folder that does not exist, a full disk, no permission
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"bundle with {count} entries written to {output}")
