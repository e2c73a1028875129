"""The signed cookie session (Flask's own) without re-deriving its signing keys on every request.

Flask builds a new ``URLSafeTimedSerializer`` for the session cookie twice per request (to open and to save
it), and each signer it makes derives its key again (an HMAC of the secret key and the salt). Both are pure
functions of the secret keys and the salt: here the serializer is kept while ``SECRET_KEY`` and
``SECRET_KEY_FALLBACKS`` stay the same, and each signer's derived key is kept per (key, salt, derivation,
digest). What is signed, how and with which keys (the current one first, the fallbacks for reading) is
Flask's and itsdangerous's, unchanged.

The session's values go through Flask's tagged JSON (:class:`FastTaggedJSON`): the same JSON, with the plain
values (text, numbers, lists, dicts, tuples) tagged and untagged without asking each of Flask's eight tags
whether it applies (some three hundred function calls a request that saves the session).

A signed-in person's browser sends the same cookie on request after request until the session changes, and
checking it (base64, an HMAC, the JSON) cost each request about two hundred function calls. What a cookie
holds is a pure function of its text and the keys: a cookie checked once is remembered, by its exact text,
with its values and the instant it was signed, while the keys stay the same; its age is checked again on each
request against the session's lifetime, as itsdangerous checks it (:meth:`KeptKeySessionInterface.open_session`).
Only sessions of plain values (text, numbers, booleans) are remembered: each request gets a copy of its own.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes

MAX_DERIVED_KEPT = 64
"""Derived keys kept per process (a handful in practice: the current key and its fallbacks, per salt)."""

_DERIVED: dict[tuple[bytes, bytes, str, Any], bytes] = {}

MAX_OPENED_KEPT = 4_096
"""Checked cookies remembered per application (one per signed-in browser whose session did not change since)."""


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


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""The types Flask's tagged JSON writes as they are (no tag applies to them)."""


class FastTaggedJSON(TaggedJSONSerializer):
    """Flask's tagged JSON serializer giving the same JSON and the same values back, with the types JSON holds
    (and tuples) handled directly; any other value (bytes, markup, UUIDs, instants, a subclass of a plain type,
    a dict that looks like a tag) goes through Flask's tags as before. Used only with Flask's own tags: a
    serializer given other tags works entirely as Flask's."""

    def __init__(self) -> None:
        self._fast = False
        super().__init__()  # registers Flask's own tags
        self._fast = True

    def register(self, tag_class: Any, force: bool = False, index: int | None = None) -> None:
        """Flask's ``register``. A serializer given a tag of its own works as Flask's from then on: the tag may
        apply to any value, a plain one too."""
        super().register(tag_class, force, index)
        self._fast = False

    def tag(self, value: Any) -> Any:
        """Flask's tagged form of ``value``."""
        if not self._fast:
            return super().tag(value)
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is list:
            return [self.tag(item) for item in value]
        if kind is tuple:
            return {" t": [self.tag(item) for item in value]}
        if kind is dict and not (len(value) == 1 and next(iter(value)) in self.tags):
            return {key: self.tag(item) for key, item in value.items()}
        return super().tag(value)

    def _untag_scan(self, value: Any) -> Any:
        """The value a parsed JSON document stands for (what Flask's scan gives: parsed JSON holds only plain
        types, lists and dicts)."""
        kind = type(value)
        if kind is dict:
            value = {key: item if type(item) in _PLAIN else self._untag_scan(item) for key, item in value.items()}
            return self.untag(value) if len(value) == 1 else value
        if kind is list:
            return [item if type(item) in _PLAIN else self._untag_scan(item) for item in value]
        return value


class KeptKeySessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with its serializer kept while the application's keys stay the same, its
    values tagged by :class:`FastTaggedJSON`, and the cookies it has checked remembered."""

    serializer = FastTaggedJSON()
    _kept: tuple[tuple[Any, ...], URLSafeTimedSerializer] | None = None

    def __init__(self) -> None:
        self._opened: dict[str, tuple[URLSafeTimedSerializer, int, dict[str, Any]]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Flask's ``open_session``: the session the request's cookie holds, or an empty one when the cookie
        is missing, forged, signed with another key or older than the session's lifetime. A cookie of plain
        values checked before with the same keys is not checked again; only its age is."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        opened = self._opened.get(value)
        if opened is not None and opened[0] is serializer:
            age = int(time.time()) - opened[1]  # as itsdangerous's TimestampSigner measures it
            if 0 <= age <= max_age:
                return self.session_class(opened[2])
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        # only a session of plain values is remembered: a request may change its copy, never a shared value
        if type(data) is dict and all(type(item) in _PLAIN for item in data.values()):
            if len(self._opened) >= MAX_OPENED_KEPT:
                self._opened.clear()
            self._opened[value] = (serializer, int(signed_at.timestamp()), data)
        return self.session_class(data)

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
