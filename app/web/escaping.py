"""Escaping a text for HTML as markupsafe does, without a ``Markup`` object for each value."""

from __future__ import annotations

TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})
"""Markupsafe's escaping of a text as one ``str.translate`` (the same five characters, the same entities):
``text.translate(TEXT_ESCAPES)`` is ``str(escape(text))`` for a plain ``str``. For the values of the lines the
pages write into a format string (a queue's, a case's history and documents), where ``escape`` cost four
function calls a value. Only for a plain ``str``: a ``Markup`` would be escaped a second time."""
