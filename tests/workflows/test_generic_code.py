"""Generic code names no procedure: adding one is its declaration, its forms, its templates and its own places.

Scans every module and template of ``app/`` and the generic forms for the name of an installed procedure
(its workflow name) and for imports of another procedure's own places (``Procedure.owns``). Only the procedure's
own places, ``workflows/`` (declarations and the one list of installed procedures), its forms and its document
templates may name it.
"""

from __future__ import annotations

import re
from pathlib import Path

from workflows import PROCEDURES

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("app", "forms")
SUFFIXES = {".py", ".html", ".txt", ".css", ".js"}
PROCEDURE_FORMS = ("forms/construction.py", "forms/access_requests.py", "forms/publications.py")
"""The procedures' own form modules (each procedure's step and page forms)."""


def _owned() -> set[str]:
    return {place for procedure in PROCEDURES for place in procedure.owns} | set(PROCEDURE_FORMS)


def _generic_files() -> list[Path]:
    owned = _owned()
    files: list[Path] = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in SUFFIXES or "translations" in path.parts or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT).as_posix()
            if any(relative == place or relative.startswith(place.rstrip("/") + "/") for place in owned):
                continue
            files.append(path)
    return files


def _module(place: str) -> str:
    return place.removesuffix(".py").replace("/", ".")


def test_no_generic_module_names_a_procedure() -> None:
    names = re.compile(r"\b(" + "|".join(re.escape(p.name) for p in PROCEDURES) + r")\b")
    owned_modules = [_module(place) for p in PROCEDURES for place in p.owns if not place.startswith("app/templates")]
    imports = re.compile(r"\b(" + "|".join(re.escape(m) for m in owned_modules) + r")\b")
    found: list[str] = []
    files = _generic_files()
    assert len(files) > 50, "the scan found too few files to mean anything"
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if names.search(line) or imports.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "generic code names a procedure:\n" + "\n".join(found)


def test_each_procedure_package_belongs_to_the_procedure_it_is_named_after() -> None:
    """``app/procedures/<name>`` is the own package of procedure ``name`` (listed in its ``owns``), so that the
    scan above skips it; any other package there would be scanned as generic code."""
    owners = {place: p.name for p in PROCEDURES for place in p.owns}
    packages = [path for path in sorted((ROOT / "app" / "procedures").iterdir()) if (path / "__init__.py").is_file()]
    assert packages, "no procedure package found"
    for package in packages:
        assert owners.get(package.relative_to(ROOT).as_posix()) == package.name


def test_the_scan_would_see_a_procedure_named_in_generic_code(tmp_path: Path) -> None:
    """The pattern catches a plain mention, so the test above can fail."""
    names = re.compile(r"\b(" + "|".join(re.escape(p.name) for p in PROCEDURES) + r")\b")
    assert names.search('if case.workflow == "vecs":')
    assert not names.search("vecsino = 1")
