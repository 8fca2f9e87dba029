"""Hardened XML: an expat parser with defusedxml's guards, fed in chunks, and its errors.

The file is streamed through expat with defusedxml's guards (no DTD, no entity declarations, no
external references), so an XXE or billion-laughs file is refused and memory stays bounded: no
element tree is built, the handlers turn each element into a few list entries as it is read.
"""

from __future__ import annotations

import re
import xml.parsers.expat as expat
from collections.abc import Callable, Container
from os import PathLike
from typing import Any

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from prelabel.errors import InputError

_READ_CHUNK = 1 << 20


class _StopParse(Exception):
    """Ends a parse early (used by :func:`cvat_export_kind`)."""


def hardened_parser() -> Any:
    """An expat parser carrying defusedxml's guards, with dict attributes.

    defusedxml installs handlers that raise on a DOCTYPE, on entity declarations and on
    external entity references; the element handlers are ours, so no tree is built.
    """
    guard = DefusedXMLParser(
        target=object(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    parser = guard.parser
    parser.DefaultHandlerExpand = None  # ElementTree's hook; undefined entities stay errors
    parser.ordered_attributes = False
    parser.buffer_text = True
    return parser


def _xml_error(path: str, parser: Any, exc: BaseException) -> InputError:
    if isinstance(exc, expat.ExpatError):
        msg = expat.ErrorString(exc.code) if exc.code else str(exc)
        return InputError(path, f"{exc.lineno}:{exc.offset + 1}", f"malformed XML: {msg}")
    where = f"{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}"
    if isinstance(exc, DTDForbidden):
        what = "a DTD (<!DOCTYPE>)"
    elif isinstance(exc, EntitiesForbidden):
        what = "an entity declaration"
    else:
        what = "an external entity reference"
    return InputError(
        path,
        where,
        f"refused: the file holds {what}; CVAT exports have none, and DTDs and entities are "
        "how XXE and entity-expansion (billion laughs) attacks work",
    )


def feed(parser: Any, path: str, source: Any) -> None:
    """Feed ``source`` to ``parser``; errors become InputError. (The CLI pauses the cyclic
    GC around the whole run; a library caller may wrap the read in ``prelabel.paused_gc``.)"""
    head = b""
    try:
        while True:
            chunk = source.read(_READ_CHUNK)
            if not chunk:
                break
            head = head or chunk[:200]
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as e:
        raise _xml_error(path, parser, e) from None
    except (LookupError, ValueError) as e:
        # pyexpat raises these for the encoding named in the XML declaration: LookupError
        # for a name Python does not know, ValueError for a multi-byte codec (Shift_JIS,
        # EUC-JP, UTF-7...) that expat cannot be given; anything else is not ours to catch
        if not _encoding_refused(e):
            raise
        declared = _DECLARED_ENCODING.search(head)
        name = declared.group(1).decode("ascii", "replace") if declared else "?"
        raise InputError(
            path,
            f"{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}",
            f"the XML declaration names encoding {name!r}, which the reader cannot decode "
            f"({e}); CVAT writes UTF-8: save the file as UTF-8",
        ) from None


_DECLARED_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']{0,40})"""
)


def _encoding_refused(exc: BaseException) -> bool:
    """Whether ``exc`` is pyexpat refusing the declared encoding (not an error of ours)."""
    if type(exc) is LookupError:  # codecs.lookup; KeyError and IndexError are bugs
        return str(exc).startswith("unknown encoding")
    return type(exc) is ValueError and "encodings are not supported" in str(exc)


def skip_elements(
    parser: Any,
    depth: int,
    counted: Container[str],
    resume: tuple[Callable[[str, dict[str, str]], None], Callable[[str], None]],
    done: Callable[[int], None],
) -> None:
    """Ignore the next elements until ``depth`` open elements have closed, then put the
    ``resume`` (start, end) handlers back and call ``done`` with the number of elements
    skipped whose tag is in ``counted``."""
    state = [depth, 0]

    def start(tag: str, _attrs: dict[str, str]) -> None:
        state[0] += 1
        if tag in counted:
            state[1] += 1

    def end(_tag: str) -> None:
        state[0] -= 1
        if state[0] == 0:
            parser.StartElementHandler, parser.EndElementHandler = resume
            done(state[1])

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = None


def cvat_export_kind(path: str | PathLike[str]) -> str:
    """``"video"`` for a CVAT for video export (tracks), else ``"images"``.

    Reads only up to the first ``<image>`` or ``<track>`` (or the meta's ``mode``). A file
    that cannot be read counts as images; :func:`read_cvat` then reports the real problem.
    """
    parser = hardened_parser()
    found: list[str] = []
    mode: list[str] = []

    def start(tag: str, _attrs: dict[str, str]) -> None:
        if tag == "track":
            found.append("video")
        elif tag == "image":
            found.append("images")
        elif tag == "mode":
            parser.CharacterDataHandler = mode.append
            return
        else:
            return
        raise _StopParse

    def end(tag: str) -> None:
        if tag == "mode":
            parser.CharacterDataHandler = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with open(path, "rb") as f:
            feed(parser, str(path), f)
    except (_StopParse, InputError, OSError):
        pass
    if found:
        return found[0]
    return "video" if "".join(mode).strip() == "interpolation" else "images"
