"""The project's exception hierarchy.

Every error a user can cause is one of these; the CLI turns each into a single line and an
exit code, so the message must name the file and the place in it.
"""

from __future__ import annotations

from os import PathLike

from prelabel.text import LINE_BREAKING

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` on one line: control characters escaped as ``\\n``, ``\\x1b``, ``\\u2028``.

    The CLI prints every message through this, so a name with a newline in it (a file, a
    label, an id) cannot split an error into lines that look like separate messages."""
    return LINE_BREAKING.sub(lambda m: _NAMED.get(m[0]) or _escape(m[0]), text)


def _escape(c: str) -> str:
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


class PrelabelError(Exception):
    """Base of every error prelabel raises on purpose."""

    exit_code = 2


class InputError(PrelabelError):
    """Bad input: a file that cannot be read, parsed, or does not hold what it should.

    ``location`` is where in the file: ``"line 3"``, ``"$.annotations[17].bbox"``,
    ``"12:5"`` (XML line:column) or ``<box> at line 40``.
    """

    def __init__(
        self, path: str | PathLike[str] | None, location: str | None, message: str
    ) -> None:
        self.path = None if path is None else str(path)
        self.location = location
        self.message = message
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ":".join(p for p in (self.path, self.location) if p)
        return f"{where}: {self.message}" if where else self.message


class MissingExtraError(PrelabelError):
    """An optional dependency is needed for this input; names the extra to install."""

    def __init__(self, extra: str, what: str) -> None:
        super().__init__(f"{what} needs the optional extra: pip install 'prelabel[{extra}]'")


class GeometryError(PrelabelError):
    """Shapes failed the checks under the ``error`` policy; holds the report rows.

    ``path`` is the input file the rows' ``source`` locations point into (set by
    :func:`prelabel.convert.convert` when it knows it)."""

    def __init__(
        self, message: str, problems: list[dict[str, object]], path: str | None = None
    ) -> None:
        self.problems = problems
        self.path = path
        super().__init__(message)


class PayloadError(PrelabelError):
    """A built payload does not satisfy the schema (a bug or an impossible option mix)."""


class SubmitError(PrelabelError):
    """The submitter cannot go on (bad key, circuit breaker open, conflicting ledger)."""

    exit_code = 1
