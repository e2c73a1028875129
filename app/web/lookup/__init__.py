"""The public lookup of a case by its folio (no login)."""
