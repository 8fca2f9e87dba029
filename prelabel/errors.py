"""The project's exception hierarchy.

Every error a user can cause is one of these; the CLI turns each into a single line and an
exit code, so the message must name the file and the place in it.

A message that names an option names the library's parameter through :func:`param`: ``str(exc)``
reads ``frames_per_job=``, and the CLI's one error handler reads the flag of the command being
run (``--frames-per-job``) from the same token. No message spells a flag itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from os import PathLike

from prelabel.text import LINE_BREAKING

# A parameter token: U+FDD0..U+FDD2 are Unicode noncharacters, set aside for a program's
# internal use, so text read from an input is not taken for one: name | library text | CLI value
_OPEN, _SEP, _CLOSE = "\ufdd0", "\ufdd1", "\ufdd2"
_TOKEN = re.compile(
    "\ufdd0([^\ufdd0-\ufdd2]*)\ufdd1([^\ufdd0-\ufdd2]*)\ufdd1([^\ufdd0-\ufdd2]*)\ufdd2"
)
_UNSET = object()

# (parameter name, the value as a command line writes it, or "") -> the CLI's words, or None
# for the library's spelling
Spelling = Callable[[str, str], "str | None"]


def param(name: str, value: object = _UNSET, *, cli: str | None = None) -> str:
    """A library parameter named in a message, with an example value if one is given.

    ``str(exc)`` spells it ``name=``, ``name='value'`` (the value's repr) or, with only
    ``cli``, ``name=N``; the CLI spells the same token as the running command's flag:
    ``--name``, ``--name 'value'`` or ``--name N`` (``cli``: the value as a command line
    writes it, ``N``, ``FILE``, ``error``), a bare ``--flag`` for an on/off option, and the
    library's spelling for a parameter the command has no option for."""
    lib = f"{name}={cli or ''}" if value is _UNSET else f"{name}={value!r}"
    said = cli if cli is not None else "" if value is _UNSET else repr(value)
    return f"{_OPEN}{name}{_SEP}{lib}{_SEP}{said}{_CLOSE}"


class Message(str):
    """A message that is not an error (a warning): reads with the library's spelling, and
    keeps its :func:`param` tokens (``raw``) for the CLI to spell as flags."""

    raw: str

    def __new__(cls, raw: str) -> Message:
        self = super().__new__(cls, render(raw))
        self.raw = raw
        return self


def render(text: str, spell: Spelling | None = None) -> str:
    """``text`` with each :func:`param` token spelled by ``spell`` (the CLI's flags), or
    where it gives None or there is none, as the library's ``name=``. A :class:`Message`
    is rendered from its tokens."""
    text = text.raw if isinstance(text, Message) else text
    if _OPEN not in text:
        return text

    def one(m: re.Match[str]) -> str:
        name, lib, value = m.groups()
        said = spell(name, value) if spell is not None else None
        return lib if said is None else said

    return _TOKEN.sub(one, text)


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

    def text(self) -> str:
        """The message with its :func:`param` tokens, for :meth:`format`."""
        return super().__str__()

    def format(self, spell: Spelling | None = None) -> str:
        """The message with the parameters spelled by ``spell`` (see :func:`render`)."""
        return render(self.text(), spell)

    def __str__(self) -> str:
        return render(self.text())


class InputError(PrelabelError):
    """Bad input: a file that cannot be read, parsed, or does not hold what it should.

    ``location`` is where in the file: ``"line 3"``, ``"$.annotations[17].bbox"``,
    ``"12:5"`` (XML line:column) or ``<box> at line 40``.
    """

    def __init__(
        self, path: str | PathLike[str] | None, location: str | None, message: str
    ) -> None:
        self.path = None if path is None else str(path)
        self.raw_location = location
        self.raw_message = message
        super().__init__(render(self.text()))

    @property
    def location(self) -> str | None:
        """The place, a parameter (``columns=``) spelled as the library's."""
        return None if self.raw_location is None else render(self.raw_location)

    @property
    def message(self) -> str:
        """The message without the path and place, parameters spelled as the library's."""
        return render(self.raw_message)

    def text(self) -> str:
        where = ":".join(p for p in (self.path, self.raw_location) if p)
        return f"{where}: {self.raw_message}" if where else self.raw_message


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
