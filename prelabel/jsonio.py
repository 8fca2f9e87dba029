"""Reading JSON inputs safely, with errors that say where.

orjson (>= 3.11.6) refuses NaN/Infinity literals, integers beyond 64 bits and nesting deeper
than 1024 levels; each of those becomes one :class:`InputError` naming the file, line and column.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import orjson

from prelabel.errors import InputError


def load_json(path: str | PathLike[str]) -> Any:
    """Parse a JSON file; an unreadable or invalid file raises one InputError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    return parse_json(data, path)


def parse_json(data: bytes | str, path: str | PathLike[str] | None, line: int | None = None) -> Any:
    """Parse JSON text; ``line`` is the line of the file this text starts on (JSON Lines)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = exc.msg
        if line is not None:
            raise InputError(
                path, f"{line}", f"invalid JSON at column {exc.colno}: {reason}"
            ) from None
        raise InputError(
            path, None, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {reason}"
        ) from None


_BOM = b"\xef\xbb\xbf"


def read_text(path: str | PathLike[str], encoding: str = "utf-8") -> str:
    r"""A text input file (CSV, YAML, a names list, an image list, obj.data); unreadable or not
    text: one InputError naming the byte where the text stops being text.

    The one text reader of the package. Line ends are read as text mode reads them (``\r\n``
    and ``\r`` become ``\n``); ``encoding="utf-8-sig"`` drops a leading byte-order mark, as
    Windows tools write one, and the byte named in an error still counts it.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        sig = encoding.lower().replace("_", "-") == "utf-8-sig"
        start = exc.start + (len(_BOM) if sig and data.startswith(_BOM) else 0)
        raise InputError(
            path, f"byte {start}", f"not {'utf-8' if sig else encoding} text"
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# Label maps and data.yaml files nest a few levels and hold hundreds of values: a bound far
# above that keeps a hostile file from exhausting the recursive composer or, through aliases
# (a "billion laughs"), the memory of whoever walks the result.
YAML_MAX_DEPTH = 100
YAML_MAX_NODES = 1_000_000


def load_yaml(path: str | PathLike[str]) -> Any:
    """Parse a YAML file (safe loader: data only); any problem is one InputError on one line,
    with LINE:COLUMN where the parser knows it. Nesting deeper than ``YAML_MAX_DEPTH`` or more
    than ``YAML_MAX_NODES`` values once aliases are expanded are refused before loading."""
    import yaml  # only label maps and YOLO data files need it

    text = read_text(path)
    try:
        _check_yaml_size(text, path)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(path, where, f"invalid YAML: {problem}") from None
    except RecursionError:  # the bounds above should make this unreachable
        raise InputError(path, None, "invalid YAML: nested too deeply") from None


def _check_yaml_size(text: str, path: str | PathLike[str]) -> None:
    """Walk the parser's events (an iterative state machine, no recursion) and refuse deep
    nesting and alias bombs with the place where the limit is crossed."""
    import yaml

    depth = 0
    nodes = 0
    starts: list[tuple[int, str | None]] = []  # node count and anchor of each open collection
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > YAML_MAX_DEPTH:
                raise InputError(
                    path, _mark(event), f"invalid YAML: nested deeper than {YAML_MAX_DEPTH} levels"
                )
            starts.append((nodes, event.anchor))
            nodes += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            start, anchor = starts.pop()
            if anchor is not None:
                sizes[anchor] = nodes - start
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            nodes += sizes.get(event.anchor or "", 1)
        if nodes > YAML_MAX_NODES:
            raise InputError(
                path,
                _mark(event),
                f"invalid YAML: more than {YAML_MAX_NODES:,} values (aliases expanded)",
            )


def _mark(event: Any) -> str | None:
    mark = getattr(event, "start_mark", None)
    return f"{mark.line + 1}:{mark.column + 1}" if mark else None
