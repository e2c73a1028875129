"""The append-only, hash-chained audit log."""

from app.audit.canonical import data_digest, documents_digest
from app.audit.log import EntryInput, VerifyResult, append, verify

__all__ = ["EntryInput", "VerifyResult", "append", "data_digest", "documents_digest", "verify"]
