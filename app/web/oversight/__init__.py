"""The oversight area (``/supervision``): read-only views of the audit log for oversight bodies."""
