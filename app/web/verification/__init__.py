"""Public verification of issued certificates (no login)."""
