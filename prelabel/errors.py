"""The project's exception hierarchy.

Every error a user can cause is one of these; the CLI turns each into a single line and an
exit code, so the message must name the file and the place in it.
"""

from __future__ import annotations

from os import PathLike


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
    """Shapes failed the checks under the ``error`` policy; holds the report rows."""

    def __init__(self, message: str, problems: list[dict[str, object]]) -> None:
        self.problems = problems
        super().__init__(message)


class PayloadError(PrelabelError):
    """A built payload does not satisfy the schema (a bug or an impossible option mix)."""


class SubmitError(PrelabelError):
    """The submitter cannot go on (bad key, circuit breaker open, conflicting ledger)."""

    exit_code = 1
