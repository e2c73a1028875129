"""The append-only audit log: hash chain, RFC 9162 Merkle tree, signed checkpoints, proofs, verification."""

from app.audit.canonical import data_digest, documents_digest
from app.audit.log import EntryInput, append, hold_head, lock_head, lock_head_with, read_head
from app.audit.verification import KeptCheckpoint, Problem, VerifyResult, verify

__all__ = [
    "EntryInput",
    "KeptCheckpoint",
    "Problem",
    "VerifyResult",
    "append",
    "data_digest",
    "documents_digest",
    "hold_head",
    "lock_head",
    "lock_head_with",
    "read_head",
    "verify",
]
