"""Authentication and session security: password policy, second factor, throttling, sessions, resets, log."""
