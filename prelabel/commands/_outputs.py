"""The one check every command makes of the files it will write: none of them names a file
the command reads (or another file it writes), which the write would replace."""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike

from prelabel.errors import InputError
from prelabel.writer import same_output

Named = tuple[str, "str | PathLike[str] | None"]


def refuse_replacing(
    option: str, path: str | PathLike[str] | None, others: Iterable[Named]
) -> None:
    """Refuse, before any work, an output ``option`` (``path``; None: not given) that names one
    of ``others`` (what it is, its path or None), which writing ``path`` would replace."""
    if path is None:
        return
    for what, given in others:
        if given is not None and same_output(path, given):
            raise InputError(path, None, f"{option} names {what}: it would be replaced")
