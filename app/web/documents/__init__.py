"""Downloads of a case's issued certificates."""
