"""MOTChallenge text files -> :class:`~prelabel.annotations.Annotations`.

Rows are ``frame,id,x,y,w,h,conf,class,visibility[,...]`` (MOT15/16/17/20 ``gt/gt.txt`` and
``det/det.txt``, and the ``<seq>.txt`` results ByteTrack, BoT-SORT, DeepSORT, OC-SORT and
norfair write): frames count from 1, boxes are pixels from the top-left corner, -1 is unknown.
In ground truth column 7 is the "consider" flag (0: a box TrackEval leaves out); elsewhere a
confidence. ``seqinfo.ini`` gives the sequence's name, length, image size and image naming
(frame N is ``<imDir>/%06d<imExt>``). A file's numbers are parsed in one ``np.fromstring``
call and checked as columns; Python runs per refused row only. Mapping: docs/formats/mot.md.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts, run_owner
from prelabel.annotations import Annotations, Frames
from prelabel.errors import InputError, param, render
from prelabel.geometry import Policy, as_policy
from prelabel.imagesize import image_sizes
from prelabel.jsonio import read_text
from prelabel.order import natural_order
from prelabel.paths import resolve_inside, safe_relative
from prelabel.report import Action, Reason, Report
from prelabel.text import ID_CONTROL

__all__ = ["MOT_CLASSES", "read_mot"]

# The classes of MOT16/17/20 ground truth, numbered from 1, as the devkit and datumaro name them
MOT_CLASSES = (
    "pedestrian", "person on vehicle", "car", "bicycle", "motorbike", "non motorized vehicle",
    "static person", "distractor", "occluder", "occluder on the ground", "occluder full",
    "reflection",
)  # fmt: skip
MAX_FRAMES = 1_000_000  # per sequence (9 hours at 30 fps): checked before frames are made
_SEP = bytes.maketrans(b",\t\r\x0b\x0c", b"     ")
_MESSAGES = (
    "",
    "expected at least 6 values (frame,id,x,y,w,h), got {n}",
    "not a number (or an empty field) in {line!r}",
    "not a finite number in {line!r}",
    "frame {frame:.15g} is not a whole number >= 1 (MOT frames count from 1)",
    "frame {frame:.15g} is beyond {limit}",
    "id {id:.15g} is not a whole number >= -1 (-1: no track)",
    "class {cls:.15g} is not -1 or one of {classes} (the labels; give " + param("names") + ")",
    "visibility {vis:.15g} is not -1 or between 0 and 1",
)


@dataclass
class _Seq:
    name: str
    txt: Path  # the rows
    rel: str  # txt relative to the input folder (report sources)
    prefix: str  # of the frame names: "" for one sequence, "<folder>/" for several
    root: Path | None  # the sequence folder (seqinfo.ini, imDir)
    gt: bool
    length: int | None = None
    width: int | None = None
    height: int | None = None
    im_dir: str = "img1"
    im_ext: str = ".jpg"


def read_mot(
    source: str | PathLike[str],
    *,
    names: Sequence[str] | str | PathLike[str] | None = None,
    image_dir: str | PathLike[str] | None = None,
    width: int | None = None,
    height: int | None = None,
    rows: Literal["gt", "det"] | None = None,
    first_class: int = 1,
    world_coordinates: bool = False,
    keep_ignored: bool = False,
    on_invalid: Policy | str = "error",
    report: Report | None = None,
) -> Annotations:
    """Read a sequence folder (``seqinfo.ini``, ``gt/``, ``det/``, ``img1/``), a folder of
    them or of tracker results (``<seq>.txt``), or one ``.txt`` file, in pixels.

    ``rows``: what column 7 is ("gt" the consider flag, "det" a confidence; default gt for
    ``gt.txt``). ``names`` (a list, or a file of one per line) name classes ``first_class``,
    ``first_class + 1``, ...; else a ``labels.txt`` beside the rows (datumaro's), else
    :data:`MOT_CLASSES`. ``image_dir``: the sequence folder of a lone file (for a folder of
    results, the folder of sequence folders). ``width``/``height`` win over every other size.
    ``world_coordinates``: columns 8-10 are x, y, z (2D MOT 2015), not class and visibility.
    Ignored ground truth is dropped and reported unless ``keep_ignored``. A row that cannot be
    read raises one InputError naming FILE:LINE (under ``"error"`` and ``"repair"``: a malformed
    row has nothing to repair from), or under ``on_invalid="drop"`` is reported.
    """
    drop = as_policy(on_invalid) == Policy.DROP
    if (width is None) != (height is None):
        raise ValueError("width and height go together")
    rep = report if report is not None else Report()
    listed = names is not None and not isinstance(names, (str, PathLike))
    label_list = _names(names) if listed else None  # type: ignore[arg-type]
    names_file = None if names is None or listed else Path(names)  # type: ignore[arg-type]
    seqs = _sequences(Path(source), None if image_dir is None else Path(image_dir), rows)
    if not seqs:
        raise InputError(source, None, "no seqinfo.ini, gt/gt.txt, det/det.txt or <seq>.txt here")
    seen: dict[str, Path] = {}
    for s in seqs:
        _seqinfo(s)
        if s.name in seen:
            raise InputError(s.txt, None, f"sequence {s.name!r} again (first: {seen[s.name]})")
        seen[s.name] = s.txt
    frames: list[Frames] = []
    parts: list[dict[str, Any]] = []
    for s in seqs:
        labels = label_list or _labels(names_file or s.txt.parent / "labels.txt", bool(names_file))
        base = sum(len(f) for f in frames)
        part = _rows(s, labels, base, first_class, world_coordinates, keep_ignored, drop, rep)
        frames.append(_frames(s, part.pop("length"), width, height))
        parts.append(part)
    every = Frames.concat(frames)
    if all(len(p["frame"]) == 0 for p in parts):
        return Annotations.empty(every, parts[0]["names"])
    return Annotations.concat([Annotations._boxes(every, **p) for p in parts])


# --- where the sequences are ---------------------------------------------------------------------
def _is_root(d: Path) -> bool:
    return any((d / f).is_file() for f in ("seqinfo.ini", "gt/gt.txt", "det/det.txt"))


def _root_seq(root: Path, rows: str | None, prefix: str, base: Path) -> _Seq:
    gt, det = root / "gt" / "gt.txt", root / "det" / "det.txt"
    txt = det if (rows == "det" and det.is_file()) or not gt.is_file() else gt
    if not txt.is_file():
        raise InputError(root, None, "a sequence folder needs gt/gt.txt or det/det.txt")
    is_gt = rows == "gt" if rows else txt.name == "gt.txt"
    return _Seq(root.name, txt, txt.relative_to(base).as_posix(), prefix, root, is_gt)


def _sequences(source: Path, image_dir: Path | None, rows: str | None) -> list[_Seq]:
    if source.is_file():
        in_seq = source.parent.name in ("gt", "det") and _is_root(source.parent.parent)
        root = source.parent.parent if in_seq else image_dir
        is_gt = rows == "gt" if rows else source.name == "gt.txt"
        name = root.name if in_seq and root else source.stem
        return [_Seq(name, source, source.name, "", root, is_gt)]
    if not source.is_dir():
        raise InputError(source, None, "not a file or folder")
    if _is_root(source):
        return [_root_seq(source, rows, "", source)]
    found = [_root_seq(d, rows, f"{d.name}/", source) for d in source.iterdir() if _is_root(d)]
    for txt in source.glob("*.txt"):  # tracker results, one sequence each
        root = None if image_dir is None else image_dir / txt.stem
        if txt.name != "labels.txt":
            found.append(_Seq(txt.stem, txt, txt.name, f"{txt.stem}/", root, rows == "gt"))
    return [found[i] for i in natural_order([s.name for s in found]).tolist()]


def _seqinfo(s: _Seq) -> None:
    """``s`` from ``<root>/seqinfo.ini`` ([Sequence] name, seqLength, imWidth, imHeight, imDir,
    imExt): each key is optional, a value that is there must be right."""
    path = None if s.root is None else s.root / "seqinfo.ini"
    if path is None or not path.is_file():
        return
    ini = configparser.ConfigParser(interpolation=None)
    try:
        ini.read_string(read_text(path, "utf-8-sig"), str(path))
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        where, why = None if line is None else str(line), exc.message.splitlines()[0]
        raise InputError(path, where, f"invalid seqinfo.ini: {why}") from None
    if not ini.has_section("Sequence"):
        raise InputError(path, None, "no [Sequence] section")
    sec = ini["Sequence"]
    for key, attr, most in (("seqLength", "length", MAX_FRAMES), ("imWidth", "width", 2**31),
                            ("imHeight", "height", 2**31)):  # fmt: skip
        text = sec.get(key)
        if text is not None:
            if not re.fullmatch(r"\s*[0-9]{1,10}\s*", text) or not 0 < int(text) <= most:
                raise InputError(path, key, f"{key} {text!r} is not a whole number in 1..{most:,}")
            setattr(s, attr, int(text))
    s.name = sec.get("name", "").strip() or s.name
    s.im_dir = safe_relative(sec.get("imDir", s.im_dir).strip() or ".", path=path, location="imDir")
    resolve_inside(s.root, s.im_dir, path=path, location="imDir")  # type: ignore[arg-type]
    s.im_ext = sec.get("imExt", s.im_ext).strip()
    if not re.fullmatch(r"\.[A-Za-z0-9]+", s.im_ext):
        raise InputError(path, "imExt", f"imExt {s.im_ext!r} is not a file suffix such as .jpg")


def _names(lines: Sequence[str], path: Path | None = None) -> tuple[str, ...]:
    out = [str(x).strip() for x in lines]
    while out and not out[-1]:
        out.pop()
    for i, name in enumerate(out):
        if bad := ID_CONTROL.search(name):
            where = str(i + 1) if path else f"names[{i}]"
            why = f"label {name!r} has a control character (U+{ord(bad.group()):04X})"
            raise InputError(path, where, why)
    if not out:
        raise InputError(path, None, "no labels")
    return tuple(out)


def _labels(path: Path, required: bool) -> tuple[str, ...]:
    """datumaro's labels.txt (class N is line N), else the MOT classes."""
    if not required and not path.is_file():
        return MOT_CLASSES
    return _names(read_text(path, "utf-8-sig").splitlines(), path)


# --- rows ----------------------------------------------------------------------------------------
def _parse(data: bytes) -> tuple[npt.NDArray[np.float64], Any, Any, npt.NDArray[np.bool_]]:
    """Every value of the file (NaN where a line does not parse), values per line, each
    line's first value, and per line: a token that is not a number or an empty field."""
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM
        data = b"   " + data[3:]
    blob = data.translate(_SEP) + b"\n"
    arr = np.frombuffer(blob, dtype=np.uint8)
    line_end = np.flatnonzero(arr == 10)
    space = (arr == 32) | (arr == 10)
    change = np.flatnonzero(space[1:] != space[:-1]) + 1
    tok = change[0::2] if space[0] else np.r_[0, change][0::2]  # token starts
    ncol = np.diff(np.searchsorted(tok, line_end), prepend=0)
    first = offsets_from_counts(ncol)[:-1]
    bad = np.zeros(len(ncol), dtype=bool)
    try:
        values = np.fromstring(blob, sep=" ")  # one C pass over every number
    except ValueError:
        values = np.zeros(0)
    if len(values) != len(tok):  # a token is not a number: find its lines, one at a time
        starts = np.r_[0, line_end[:-1] + 1]
        values = np.full(len(tok), np.nan)
        for i in np.flatnonzero(ncol).tolist():
            try:
                v = np.fromstring(blob[starts[i] : line_end[i]], sep=" ")
            except ValueError:
                v = np.zeros(0)
            bad[i] = len(v) != ncol[i]
            if not bad[i]:
                values[first[i] : first[i] + ncol[i]] = v
    # ",," or a line starting with ",": a missing value, which splitting would hide
    raw = np.frombuffer(b"\n" + data, dtype=np.uint8)  # a line start before the first byte
    at = np.flatnonzero(raw == 44)
    before = raw[at - 1]
    if ((before == 32) | (before == 9)).any():  # blanks before a comma: look past them
        solid = np.flatnonzero((raw != 32) & (raw != 9))
        byte = raw[solid]
        at = solid[1:][(byte[1:] == 44) & ((byte[:-1] == 44) | (byte[:-1] == 10))]
    else:
        at = at[(before == 44) | (before == 10)]
    bad[np.searchsorted(line_end, at - 1)] = True
    return values, ncol, first, bad


def _rows(
    s: _Seq, labels: tuple[str, ...], base: int, first_class: int, world: bool,
    keep_ignored: bool, drop: bool, rep: Report,
) -> dict[str, Any]:  # fmt: skip
    """The boxes of one file as ``Annotations._boxes`` keywords, and the frame count.

    ``_boxes`` is the unchecked path readers build through: every value was checked here,
    against its line, so an error names the file and the line rather than a parameter."""
    try:
        data = s.txt.read_bytes()
    except OSError as exc:
        raise InputError(s.txt, None, f"cannot read: {exc.strerror or exc}") from None
    values, ncol, first, bad_token = _parse(data)
    lineno = np.arange(1, len(ncol) + 1)
    pad = np.r_[values, np.nan]

    def col(k: int, default: float) -> npt.NDArray[np.float64]:
        return np.where(ncol > k, pad[np.where(ncol > k, first + k, len(values))], default)

    frame, ident, x, y, w, h = (col(k, np.nan) for k in range(6))
    conf = col(6, 1.0 if s.gt else np.nan)
    cls = np.full(len(ncol), -1.0) if world else col(7, -1.0)
    vis = np.full(len(ncol), -1.0) if world or not s.gt else col(8, -1.0)
    finite = np.bincount(run_owner(ncol), ~np.isfinite(values), len(ncol)) == 0
    limit = s.length or MAX_FRAMES
    last_class = first_class + len(labels) - 1
    problem = np.select(
        [
            ncol < 6, bad_token, ~finite, ~_whole(frame) | (frame < 1), frame > limit,
            ~_whole(ident) | (ident < -1) | (ident >= 2**53),
            ~_whole(cls) | ((cls != -1) & ((cls < first_class) | (cls > last_class))),
            (vis != -1) & ((vis < 0) | (vis > 1)),
        ],
        np.arange(1, 9),
    ) * (ncol > 0)  # fmt: skip
    text = data.split(b"\n") if problem.any() else []
    for i in np.flatnonzero(problem)[: None if drop else 1].tolist():
        message = _MESSAGES[problem[i]].format(
            n=ncol[i], line=text[i].decode("utf-8", "replace").strip()[:80],
            frame=frame[i], id=ident[i], cls=cls[i], vis=vis[i],
            classes=f"{first_class}..{last_class}",
            limit=f"seqLength {s.length} of seqinfo.ini" if s.length
            else f"the limit of {MAX_FRAMES:,} frames per sequence",
        )  # fmt: skip
        if not drop:
            raise InputError(s.txt, str(lineno[i]), message)
        rep.add(
            Action.DROPPED,
            Reason.INVALID_ROW,
            source=f"{s.rel}:{lineno[i]}",
            detail=render(message),
        )
    keep = (ncol > 0) & (problem == 0)
    ignored = keep & s.gt & (np.trunc(conf) == 0)  # TrackEval: int(flag) == 0 is left out
    if not keep_ignored:
        why = "ground truth with consider flag 0 (left out of the evaluation)"
        for i in np.flatnonzero(ignored).tolist():
            where, name = f"{s.rel}:{lineno[i]}", _frame_name(s, int(frame[i]))
            rep.add(Action.DROPPED, Reason.IGNORED_IN_SOURCE, source=where, frame=name, detail=why)
        keep &= ~ignored
    rows = np.flatnonzero(keep)
    attributes = None
    if s.gt and ((vis[rows] != -1).any() or ignored[rows].any()):
        attributes = [
            {**({"visibility": v} if v != -1 else {}), **({"ignored": True} if g else {})} or None
            for v, g in zip(vis[rows].tolist(), ignored[rows].tolist(), strict=True)
        ]
    frame_no = frame[rows].astype(np.int64)
    last_row = int(frame_no.max()) if len(rows) else 0
    return {
        "xyxy": np.stack([x, y, x + w, y + h], axis=1)[rows],
        "labels": np.where(cls[rows] == -1, 0, cls[rows] - first_class).astype(np.int64),
        "names": labels,
        "frame": base + frame_no - 1,
        "track": ident[rows].astype(np.int64),
        "score": np.where(s.gt | (conf[rows] == -1), np.nan, conf[rows]),
        "attributes": attributes,
        "source": np.char.add(f"{s.rel}:", lineno[rows].astype(str)).astype(object).tolist(),
        "length": s.length or max(last_row, _last_image(s)),
    }


def _whole(v: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    out: npt.NDArray[np.bool_] = np.isfinite(v) & (v == np.floor(v))
    return out


# --- frames --------------------------------------------------------------------------------------
def _frame_name(s: _Seq, n: int) -> str:
    return f"{s.prefix}{'' if s.im_dir == '.' else s.im_dir + '/'}{n:06d}{s.im_ext}"


def _last_image(s: _Seq) -> int:
    """Without seqLength: the highest N of the images ``<imDir>/%06d<imExt>`` (0: none)."""
    folder = None if s.root is None else s.root / s.im_dir
    if folder is None or not folder.is_dir():
        return 0
    numbers = [int(p.stem) for p in folder.glob(f"*{s.im_ext}") if re.fullmatch("[0-9]{6}", p.stem)]
    return min(max(numbers, default=0), MAX_FRAMES)


def _frames(s: _Seq, length: int, width: int | None, height: int | None) -> Frames:
    names = [_frame_name(s, n) for n in range(1, length + 1)]
    size: tuple[npt.ArrayLike, npt.ArrayLike]
    if width is not None and height is not None:
        size = width, height
    elif s.width and s.height:
        size = s.width, s.height
    elif s.root is not None and (s.root / s.im_dir).is_dir():
        size = image_sizes([str(s.root / name[len(s.prefix) :]) for name in names])
    else:
        raise InputError(
            s.txt, None, "no image size: no seqinfo.ini with imWidth/imHeight and no images;"
            f" give {param('image_dir')} or {param('width')} and {param('height')}",
        )  # fmt: skip
    return Frames.build(*size, name=names, sequence=s.name, index=np.arange(length))
