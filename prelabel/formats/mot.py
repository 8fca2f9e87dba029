"""MOTChallenge text files -> :class:`~prelabel.annotations.Annotations`.

Rows are ``frame,id,x,y,w,h,conf,class,visibility[,...]`` (MOT15/16/17/20 ``gt/gt.txt`` and
``det/det.txt``, and the ``<seq>.txt`` tracker results ByteTrack, BoT-SORT, DeepSORT, OC-SORT
and norfair write): frames count from 1, boxes are pixels from the top-left corner, -1 means
unknown. In ground truth column 7 is the "consider" flag (0: an ignored box, which TrackEval
leaves out of the evaluation); elsewhere it is a confidence. ``seqinfo.ini`` gives the
sequence's name, length, image size and image naming (frame N is ``<imDir>/%06d<imExt>``).
Every row of a file is parsed in one ``np.fromstring`` call; per-row Python runs only for the
rows that are refused. See docs/formats/mot.md for the mapping.
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
from prelabel.errors import InputError
from prelabel.imagesize import image_sizes
from prelabel.jsonio import read_text
from prelabel.order import natural_order
from prelabel.paths import safe_relative
from prelabel.report import Action, Report

__all__ = ["MOT_CLASSES", "read_mot"]

# The class numbers of MOT16/17/20 ground truth (1-based), as the devkit and datumaro name them
MOT_CLASSES = (
    "pedestrian", "person on vehicle", "car", "bicycle", "motorbike", "non motorized vehicle",
    "static person", "distractor", "occluder", "occluder on the ground", "occluder full",
    "reflection",
)  # fmt: skip
# A sequence longer than this (9 hours at 30 fps) is refused before its frames are allocated
MAX_FRAMES = 1_000_000
_MAX_ID = 2**53  # ids are whole numbers read as floats: exact below this
IGNORED = "ignored_in_source"
INVALID_ROW = "invalid_row"
_SEP = bytes.maketrans(b",\t\r\x0b\x0c", b"     ")
_EMPTY_FIELD = re.compile(rb",[ \t]*,|(?:^|\n)[ \t]*,")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class _Seq:
    """One sequence: its rows' file and what its seqinfo.ini (or the options) say."""

    name: str
    txt: Path
    rel: str  # txt relative to the input folder, for report sources
    prefix: str  # frame names' prefix: "" for one sequence, "<name>/" for several
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
    world_coordinates: bool = False,
    keep_ignored: bool = False,
    on_invalid: Literal["error", "drop", "repair"] = "error",
    report: Report | None = None,
) -> Annotations:
    """Read a sequence folder (``seqinfo.ini``, ``gt/``, ``det/``, ``img1/``), a folder of
    sequences or of tracker results (``<seq>.txt``), or one ``.txt`` file, in pixels.

    ``rows`` says what column 7 is ("gt": the consider flag; "det": a confidence; default: gt
    for ``gt.txt``). ``names`` (a list or a file, one per line) name classes 1, 2, ...; else a
    ``labels.txt`` beside the rows (datumaro's), else :data:`MOT_CLASSES`. ``image_dir`` is the
    sequence folder of a lone file (the folder of sequence folders for a folder of results);
    ``width`` and ``height`` override every other size. ``world_coordinates``: columns 8-10
    are x, y, z (2D MOT 2015), not class and visibility. Ignored ground-truth boxes are
    dropped and reported unless ``keep_ignored``. A row that cannot be read raises one
    InputError naming FILE:LINE, or under ``on_invalid="drop"`` is left out and reported.
    """
    if on_invalid not in ("error", "drop", "repair"):
        raise ValueError(f"on_invalid must be 'error', 'drop' or 'repair', not {on_invalid!r}")
    if (width is None) != (height is None) or any(
        v is not None and v <= 0 for v in (width, height)
    ):
        raise ValueError("width and height go together and must be positive")
    rep = report if report is not None else Report()
    listed = names is not None and not isinstance(names, (str, PathLike))
    label_list = _names(names) if listed else None  # type: ignore[arg-type]
    names_file = None if names is None or listed else Path(names)  # type: ignore[arg-type]
    seqs = _sequences(Path(source), None if image_dir is None else Path(image_dir), rows)
    if not seqs:
        raise InputError(
            source, None, "no MOTChallenge files (seqinfo.ini, gt/gt.txt, det/det.txt, <seq>.txt)"
        )
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
        part = _read_rows(
            s, labels, base, world_coordinates, keep_ignored, on_invalid == "drop", rep
        )
        frames.append(_frames(s, part.pop("length"), width, height))
        parts.append(part)
    all_frames = Frames.concat(frames)
    if all(len(p["frame"]) == 0 for p in parts):
        return Annotations.empty(all_frames, parts[0]["names"])
    return Annotations.concat([Annotations.from_boxes(all_frames, **p) for p in parts])


# --- where the sequences are -------------------------------------------------------------------
def _is_root(d: Path) -> bool:
    return (
        (d / "seqinfo.ini").is_file()
        or (d / "gt" / "gt.txt").is_file()
        or (d / "det" / "det.txt").is_file()
    )


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
    found = [
        _root_seq(d, rows, d.name + "/", source)
        for d in source.iterdir()
        if d.is_dir() and _is_root(d)
    ]
    for txt in source.glob("*.txt"):  # tracker results, one sequence each
        if txt.name != "labels.txt":
            root = None if image_dir is None else image_dir / txt.stem
            found.append(_Seq(txt.stem, txt, txt.name, txt.stem + "/", root, rows == "gt"))
    return [found[i] for i in natural_order([s.name for s in found]).tolist()]


def _seqinfo(s: _Seq) -> None:
    """Fill ``s`` from ``<root>/seqinfo.ini`` ([Sequence] name, seqLength, imWidth, imHeight,
    imDir, imExt); each key is optional, a value that is there must be right."""
    path = None if s.root is None else s.root / "seqinfo.ini"
    if path is None or not path.is_file():
        return
    ini = configparser.ConfigParser(interpolation=None)
    try:
        ini.read_string(read_text(path, "utf-8-sig"), str(path))
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(
            path,
            None if line is None else str(line),
            f"invalid seqinfo.ini: {exc.message.splitlines()[0]}",
        ) from None
    if not ini.has_section("Sequence"):
        raise InputError(path, None, "no [Sequence] section")
    sec = ini["Sequence"]
    for key, attr in (("seqLength", "length"), ("imWidth", "width"), ("imHeight", "height")):
        text = sec.get(key)
        if text is not None:
            if not text.strip().isdigit() or not 0 < int(text) <= (
                MAX_FRAMES if attr == "length" else 2**31
            ):
                raise InputError(
                    path,
                    key,
                    f"{key} {text!r} is not a positive whole number"
                    + (f" up to {MAX_FRAMES:,}" if attr == "length" else ""),
                )
            setattr(s, attr, int(text))
    s.name = sec.get("name", "").strip() or s.name
    s.im_dir = safe_relative(sec.get("imDir", s.im_dir).strip(), path=path, location="imDir")
    s.im_ext = sec.get("imExt", s.im_ext).strip()
    if not s.im_ext.startswith(".") or "/" in s.im_ext or "\\" in s.im_ext or "\x00" in s.im_ext:
        raise InputError(path, "imExt", f"imExt {s.im_ext!r} is not a file suffix such as .jpg")


def _names(lines: Sequence[str], path: Path | None = None) -> tuple[str, ...]:
    out = [str(x).strip() for x in lines]
    while out and not out[-1]:
        out.pop()
    for i, name in enumerate(out):
        bad = _CONTROL.search(name)
        if bad:
            where = str(i + 1) if path else f"names[{i}]"
            raise InputError(
                path, where, f"label {name!r} has a control character (U+{ord(bad.group()):04X})"
            )
    if not out:
        raise InputError(path, None, "no labels")
    return tuple(out)


def _labels(path: Path, required: bool) -> tuple[str, ...]:
    """datumaro's labels.txt (one per line: class N is line N), else the MOT classes."""
    if not required and not path.is_file():
        return MOT_CLASSES
    return _names(read_text(path, "utf-8-sig").splitlines(), path)


# --- rows ----------------------------------------------------------------------------------------
def _parse(
    data: bytes,
) -> tuple[npt.NDArray[np.float64], np.ndarray, np.ndarray, np.ndarray, npt.NDArray[np.bool_]]:
    """Every token as a float (NaN where not a number), tokens per line, each line's first
    token, its 1-based number, and per line: has a token that is not a number."""
    blob = data.translate(_SEP) + b"\n"
    if blob.startswith(b"\xef\xbb\xbf"):
        blob = b"   " + blob[3:]
    arr = np.frombuffer(blob, dtype=np.uint8)
    line_end = np.flatnonzero(arr == 10)
    space = (arr == 32) | (arr == 10)
    change = np.flatnonzero(space[1:] != space[:-1]) + 1
    tok = change[0::2] if space[0] else np.r_[0, change][0::2]
    ncol = np.diff(np.searchsorted(tok, line_end), prepend=0)
    first = offsets_from_counts(ncol)[:-1]
    bad = np.zeros(len(ncol), dtype=bool)
    try:
        values = np.fromstring(blob, sep=" ")  # one C pass over every number
        ok = len(values) == len(tok)
    except ValueError:
        ok = False
    if not ok:  # some token is not a number: find its lines, one at a time
        line_start = np.r_[0, line_end[:-1] + 1]
        values = np.full(len(tok), np.nan)
        for i in np.flatnonzero(ncol).tolist():
            try:
                v = np.fromstring(blob[line_start[i] : line_end[i]], sep=" ")
            except ValueError:
                v = np.zeros(0)
            if len(v) == ncol[i]:
                values[first[i] : first[i] + ncol[i]] = v
            else:
                bad[i] = True
    empty = [m.end() - 1 for m in _EMPTY_FIELD.finditer(data)]  # ",,": a missing value
    bad[np.searchsorted(line_end, np.asarray(empty, dtype=np.int64))] = True
    return values, ncol, first, np.arange(1, len(ncol) + 1), bad


def _read_rows(
    s: _Seq,
    labels: tuple[str, ...],
    base: int,
    world: bool,
    keep_ignored: bool,
    drop: bool,
    rep: Report,
) -> dict[str, Any]:
    try:
        data = s.txt.read_bytes()
    except OSError as exc:
        raise InputError(s.txt, None, f"cannot read: {exc.strerror or exc}") from None
    values, ncol, first, lineno, bad_token = _parse(data)
    present = ncol > 0
    pad = np.r_[values, np.nan]

    def col(k: int, default: float) -> npt.NDArray[np.float64]:
        return np.where(ncol > k, pad[np.where(ncol > k, first + k, len(values))], default)

    frame, ident, conf = col(0, np.nan), col(1, np.nan), col(6, np.nan if not s.gt else 1.0)
    x, y, w, h = col(2, 0), col(3, 0), col(4, 0), col(5, 0)
    cls = np.full(len(ncol), -1.0) if world else col(7, -1.0)
    vis = np.full(len(ncol), -1.0) if world or not s.gt else col(8, -1.0)
    finite = np.bincount(run_owner(ncol), ~np.isfinite(values), len(ncol)) == 0
    whole = lambda v: np.isfinite(v) & (v == np.floor(v))  # noqa: E731
    limit = s.length or MAX_FRAMES
    problem = np.select(
        [
            ncol < 6, bad_token, ~finite,
            ~whole(frame) | (frame < 1), frame > limit,
            ~whole(ident) | (ident < -1) | (ident >= _MAX_ID),
            ~whole(cls) | ((cls != -1) & ((cls < 1) | (cls > len(labels)))),
            (vis != -1) & ((vis < 0) | (vis > 1)),
        ],
        np.arange(1, 9),
        0,
    )  # fmt: skip
    problem[~present] = 0
    bad = problem > 0
    for i in np.flatnonzero(bad)[: None if drop else 1].tolist():
        message = _row_message(int(problem[i]), data, i, ncol, frame, ident, cls, vis, s, labels)
        if not drop:
            raise InputError(s.txt, str(int(lineno[i])), message)
        rep.add(Action.DROPPED, INVALID_ROW, source=f"{s.rel}:{int(lineno[i])}", detail=message)
    keep = present & ~bad
    ignored = keep & s.gt & (conf == 0)  # TrackEval: int(flag) == 0 marks a box to ignore
    if ignored.any() and not keep_ignored:
        for i in np.flatnonzero(ignored).tolist():
            rep.add(Action.DROPPED, IGNORED, source=f"{s.rel}:{int(lineno[i])}", frame=_frame_name(s, int(frame[i])),
                    detail="ground truth with consider flag 0 (TrackEval leaves it out)")  # fmt: skip
        keep &= ~ignored
    rows = np.flatnonzero(keep)
    frame_no = frame[rows].astype(np.int64)
    last = int(frame_no.max()) if len(rows) else 0
    attributes = None
    if s.gt and ((vis[rows] != -1).any() or (keep_ignored and ignored.any())):
        attributes = [
            {**({"visibility": v} if v != -1 else {}), **({"ignored": True} if g else {})} or None
            for v, g in zip(vis[rows].tolist(), ignored[rows].tolist())
        ]
    source = np.char.add(f"{s.rel}:", lineno[rows].astype(str)).astype(object)
    return {
        "xyxy": np.stack([x, y, x + w, y + h], axis=1)[rows],
        "labels": np.where(cls[rows] == -1, 0, cls[rows] - 1).astype(np.int64),
        "names": labels,
        "frame": base + frame_no - 1,
        "track": np.where(ident[rows] < 0, -1, ident[rows]).astype(np.int64),
        "score": np.where(conf[rows] == -1, np.nan, np.nan if s.gt else conf[rows]),
        "attributes": attributes,
        "source": list(source),
        "length": max(s.length or 0, last, _last_image(s) if s.length is None else 0),
    }


def _row_message(
    code: int, data: bytes, i: int, ncol: np.ndarray, frame: np.ndarray, ident: np.ndarray,
    cls: np.ndarray, vis: np.ndarray, s: _Seq, labels: tuple[str, ...],
) -> str:  # fmt: skip
    if code == 1:
        return f"expected at least 6 values (frame,id,x,y,w,h), got {int(ncol[i])}"
    if code in (2, 3):
        line = data.split(b"\n")[i].decode("utf-8", "replace").strip()
        return (
            f"not a number (or an empty field) in {line[:80]!r}"
            if code == 2
            else f"not a finite number in {line[:80]!r}"
        )
    if code == 4:
        return f"frame {frame[i]:g} is not a whole number >= 1 (MOT frames count from 1)"
    if code == 5:
        if s.length:
            return f"frame {int(frame[i])} is beyond seqLength {s.length} of seqinfo.ini"
        return f"frame {int(frame[i])} is beyond the limit of {MAX_FRAMES:,} frames per sequence"
    if code == 6:
        return f"id {ident[i]:g} is not a whole number >= -1 (-1: no track)"
    if code == 7:
        return f"class {cls[i]:g} is not -1 or one of 1..{len(labels)} (the labels; give --names)"
    return f"visibility {vis[i]:g} is not -1 or between 0 and 1"


# --- frames --------------------------------------------------------------------------------------
def _frame_name(s: _Seq, n: int) -> str:
    return f"{s.prefix}{s.im_dir}/{n:06d}{s.im_ext}"


def _last_image(s: _Seq) -> int:
    """The highest frame number among ``<imDir>/%06d<imExt>`` images (0 without images)."""
    folder = None if s.root is None else s.root / s.im_dir
    if folder is None or not folder.is_dir():
        return 0
    stems = [p.stem for p in folder.glob(f"*{s.im_ext}")]
    numbers = [int(t) for t in stems if len(t) == 6 and t.isdigit()]
    return min(max(numbers, default=0), MAX_FRAMES)


def _frames(s: _Seq, length: int, width: int | None, height: int | None) -> Frames:
    names = [_frame_name(s, n) for n in range(1, length + 1)]
    w: npt.ArrayLike
    h: npt.ArrayLike
    if width is not None and height is not None:
        w, h = width, height
    elif s.width and s.height:
        w, h = s.width, s.height
    elif s.root is not None and (s.root / s.im_dir).is_dir():
        folder = s.root / s.im_dir
        w, h = image_sizes([str(folder / f"{n:06d}{s.im_ext}") for n in range(1, length + 1)])
    else:
        raise InputError(
            s.txt,
            None,
            "no image size: no seqinfo.ini with imWidth/imHeight and no images; give --image-dir or --width and --height",
        )
    return Frames.build(w, h, name=names, sequence=s.name, index=np.arange(length))
