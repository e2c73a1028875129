"""The signed cookie session (Flask's own) without re-deriving its signing keys on every request.

Flask builds a new ``URLSafeTimedSerializer`` for the session cookie twice per request (to open and to save
it), and each signer it makes derives its key again (an HMAC of the secret key and the salt). Both are pure
functions of the secret keys and the salt: here the serializer is kept while ``SECRET_KEY`` and
``SECRET_KEY_FALLBACKS`` stay the same, and each signer's derived key is kept per (key, salt, derivation,
digest). What is signed, how and with which keys (the current one first, the fallbacks for reading) is
Flask's and itsdangerous's, unchanged.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes

MAX_DERIVED_KEPT = 64
"""Derived keys kept per process (a handful in practice: the current key and its fallbacks, per salt)."""

_DERIVED: dict[tuple[bytes, bytes, str, Any], bytes] = {}


class KeptKeySigner(TimestampSigner):
    """itsdangerous's timestamp signer, keeping each key it derives."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """The key derived from ``secret_key`` (the last of the signer's keys by default) and the salt, as
        itsdangerous derives it; worked out once per process for each key, salt and method."""
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        key = (secret, self.salt, self.key_derivation, self.digest_method)
        derived = _DERIVED.get(key)
        if derived is None:
            if len(_DERIVED) >= MAX_DERIVED_KEPT:
                _DERIVED.clear()
            derived = _DERIVED[key] = super().derive_key(secret)
        return derived


class KeptKeySessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with its serializer kept while the application's keys stay the same."""

    _kept: tuple[tuple[Any, ...], URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer for the session cookie (``None`` without a secret key), built again only when
        ``SECRET_KEY`` or ``SECRET_KEY_FALLBACKS`` changed."""
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # the current key last, as Flask
        kept = self._kept
        if kept is not None and kept[0] == keys:
            return kept[1]
        serializer = URLSafeTimedSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer=KeptKeySigner,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
        )
        self._kept = (keys, serializer)
        return serializer


def install_cookie_session(app: Flask) -> None:
    """Serve ``app``'s cookie session through :class:`KeptKeySessionInterface`."""
    app.session_interface = KeptKeySessionInterface()
