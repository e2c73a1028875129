"""Errors raised by the engine and the services. Messages are Spanish source strings, translated on display."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Msg:
    """A translatable message: a Spanish msgid with ``%(name)s`` placeholders and their values.

    ``params`` keep machine-readable values (a trigger id, a document kind) for programs and tests;
    ``labels`` give, for some of them, what people read instead (a step's description, a document's
    label), themselves msgids translated on display; a tuple of msgids (e.g. several fields' labels) is
    translated one by one and joined with commas; ``english`` gives, for some parameters, the value an
    English reader reads instead (a department's English name an administrator entered: data, not a msgid).
    """

    msgid: str
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    labels: Mapping[str, str | tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    english: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def display_params(self) -> dict[str, str]:
        """The values put into the text: the labels where given, else the parameters."""
        return {**self.params, **{name: _joined(value, str) for name, value in self.labels.items()}}

    def render(self, translate: Callable[[str], str], *, english: bool = False) -> str:
        """The text in the language of ``translate`` (a gettext): the msgid and the labels are translated,
        the other parameters put in as they are (a label without a catalogue entry stays as written); for an
        ``english`` reader the parameters :attr:`english` gives a non-blank value for take it."""
        text = translate(self.msgid)
        if not self.params and not self.labels:
            return text
        labels = {name: _joined(value, translate) for name, value in self.labels.items()}
        values = {**self.params, **labels}
        if english:
            values.update((name, value) for name, value in self.english.items() if value and value.strip())
        return text % values

    def __str__(self) -> str:
        return self.msgid % self.display_params() if self.params or self.labels else self.msgid


def _joined(value: str | tuple[str, ...], translate: Callable[[str], str]) -> str:
    """A label translated, or several translated and joined with commas (an empty msgid stays empty)."""
    if isinstance(value, tuple):
        return ", ".join(translate(item) if item else item for item in value)
    return translate(value) if value else value


class DomainError(Exception):
    """A request the rules refuse. ``reasons`` lists every reason, each a translatable :class:`Msg`."""

    code = "domain_error"

    def __init__(self, message: Msg | str, reasons: tuple[Msg, ...] = ()) -> None:
        msg = message if isinstance(message, Msg) else Msg(message)
        super().__init__(str(msg))
        self.message = msg
        self.reasons = reasons or (msg,)


class UnknownTrigger(DomainError):
    """The workflow has no such trigger."""

    code = "unknown_trigger"


class IllegalTrigger(DomainError):
    """The trigger exists but cannot be fired from the case's current state."""

    code = "illegal_trigger"


class NotAllowed(DomainError):
    """The actor's roles (or relation to the case) do not allow this trigger."""

    code = "not_allowed"


class GuardRefused(DomainError):
    """A guard, a requirement or the four-eyes rule refused the transition."""

    code = "guard_refused"


class InvalidData(DomainError):
    """The data sent with the trigger is not what the trigger accepts."""

    code = "invalid_data"


class ConflictError(DomainError):
    """The case changed since the caller read it (stale version or a concurrent transaction)."""

    code = "conflict"


class NotFound(DomainError):
    """The case (or another object) does not exist or is not visible to the actor."""

    code = "not_found"


class StorageUnavailable(DomainError):
    """The document store could not keep a file (full disk, I/O error); nothing was saved."""

    code = "storage_unavailable"
