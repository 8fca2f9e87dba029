"""Previews of job payloads: each job's pre-labels drawn over its frames, to check by eye
before paying annotators that the shapes sit on the objects and on the right frames.

For every selected job of a JSON Lines payload file, :func:`preview` writes one PNG per
selected frame (``OUT/<reference_id>/<position>_<frame_id>.png``) and a contact sheet
(``OUT/<reference_id>.png``: a grid of thumbnails, capped in count and in pixels). Shapes are
drawn in one colour per label with the label and the tracker's id beside them.

Bounded work: the file is read one line (one job) at a time; only the objects of the frames
that are drawn are read, and only the images of those frames are opened (the job's frame
size for placeholders is read from a header). A frame whose image cannot be found is drawn
as a grey placeholder with its name, and counted.

Pillow is the optional extra ``preview`` (``pip install 'prelabel[preview]'``).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import numpy as np
import numpy.typing as npt

from prelabel.annotations import Kind
from prelabel.errors import InputError, MissingExtraError
from prelabel.formats.payload import JobContent, JobDocument, payload_jobs
from prelabel.imagesize import image_size

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILImageDraw

# Colours told apart at a glance (Sasha Trubetskoy's "20 simple, distinct colors", less
# white, black and grey, which vanish on bright or dark frames and on a placeholder), as RGB.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
    (0, 128, 128), (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0),
    (170, 255, 195), (128, 128, 0), (255, 215, 180), (0, 0, 128),
)  # fmt: skip
PLACEHOLDER_GREY = (128, 128, 128)
DEFAULT_FRAME_SIZE = (1280, 720)
# a cuboid's corners are the front face BL, BR, TR, TL then the back face likewise
# (docs/payload.md): its twelve edges are the two rings and the four connectors
_CUBOID_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4),
    (0, 4), (1, 5), (2, 6), (3, 7),
)  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class PreviewOptions:
    """What to draw and how large.

    ``jobs`` and ``labels`` select by ``reference_id`` and by the object's label (None: all).
    Frames: the job's frame at position *p* (from 0) is drawn when ``p % every == 0`` and,
    with ``first``, ``p < first``. The contact sheet shows at most ``sheet_frames``
    thumbnails (evenly spaced over the drawn frames when there are more), each at most
    ``thumb_width`` pixels wide, and is at most ``sheet_size`` pixels on either side.
    ``placeholder_size`` is the size of a missing frame when no frame of its job is found.
    ``sheet_only`` writes the contact sheets alone: only the sheet's frames are opened, and
    JPEGs are decoded at a reduced scale (the quick look at a long job)."""

    every: int = 1
    first: int | None = None
    jobs: frozenset[str] | None = None
    labels: frozenset[str] | None = None
    sheet_frames: int = 100
    thumb_width: int = 256
    sheet_size: int = 4096
    placeholder_size: tuple[int, int] = DEFAULT_FRAME_SIZE
    sheet_only: bool = False

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError("every must be >= 1")
        if self.first is not None and self.first < 1:
            raise ValueError("first must be >= 1")
        if self.sheet_frames < 1 or self.thumb_width < 16 or self.sheet_size < 128:
            raise ValueError("sheet_frames >= 1, thumb_width >= 16 and sheet_size >= 128")
        if min(self.placeholder_size) < 1:
            raise ValueError("placeholder_size must be positive")


@dataclass(frozen=True)
class MissingFrame:
    """A frame drawn as a placeholder: its job, id, ``src`` and why (not found, unreadable)."""

    reference_id: str
    frame_id: str
    src: str
    reason: str


@dataclass
class PreviewSummary:
    """What :func:`preview` did: counts, the files it wrote, the placeholders and the
    selections that matched nothing."""

    jobs: int = 0
    frames: int = 0
    placeholders: int = 0
    shapes: int = 0
    files: list[Path] = field(default_factory=list)
    missing: list[MissingFrame] = field(default_factory=list)
    unmatched_jobs: list[str] = field(default_factory=list)
    unmatched_labels: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Shape:
    """One object of one frame, as read from the payload (coordinates normalised 0..1).

    ``edges`` are pairs of rows of ``points`` to join (a polygon's edges, a cuboid's twelve);
    ``closed`` joins the last point to the first (rectangles; polygons without edges)."""

    kind: str
    label: str
    tracker: str
    points: npt.NDArray[np.float64]
    edges: tuple[tuple[int, int], ...] = ()
    closed: bool = False


def _pil(what: str = "prelabel preview") -> Any:
    try:
        from PIL import Image, ImageDraw, ImageFont, ImageOps
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise MissingExtraError("preview", what) from None
    return Image, ImageDraw, ImageFont, ImageOps


# --- reading the payload ---------------------------------------------------------------------
# prelabel.formats.payload reads the jobs (the one reader of payloads); here its shapes of the
# drawn frames become what is drawn
def frame_shapes(
    job: Mapping[str, Any],
    frame_ids: set[str],
    *,
    labels: frozenset[str] | None = None,
    path: str = "<job>",
    line: int = 1,
) -> dict[str, list[Shape]]:
    """The shapes of the frames ``frame_ids`` of one parsed job, by frame id (every id a key).

    Only the objects of those frames are read (:meth:`JobDocument.content` with ``only``);
    a tracker frame key that is not a frame of the job, or an object that is not the
    geometry of its type, is an :class:`InputError` naming ``path``, ``line`` and the JSON
    path."""
    document = JobDocument(job if isinstance(job, dict) else dict(job), path, line)
    return _shapes(document.content(frame_ids, edges=True), frame_ids, labels)


def _shapes(
    content: JobContent, frame_ids: Iterable[str], labels: frozenset[str] | None
) -> dict[str, list[Shape]]:
    """The shapes of ``content`` by frame id (a key for every one of ``frame_ids``), those
    of ``labels`` alone when it is given."""
    out: dict[str, list[Shape]] = {fid: [] for fid in frame_ids}
    ann = content.annotations
    frame_id = content.frames.frame_id
    offsets = ann.offsets.tolist()
    edges = content.edges or (None,) * len(ann)
    columns = (ann.kind.tolist(), ann.label.tolist(), ann.frame.tolist(), ann.track.tolist())
    for i, (kind, label, frame, track) in enumerate(zip(*columns, strict=True)):
        name = ann.labels[label]
        if labels is not None and name not in labels:
            continue
        points = ann.points[offsets[i] : offsets[i + 1]]
        shape_edges: tuple[tuple[int, int], ...] = ()
        if kind == Kind.CUBOID:
            shape_edges = _CUBOID_EDGES
        elif kind == Kind.POLYGON:  # its edges, else the closed ring
            shape_edges = edges[i] or tuple((k, (k + 1) % len(points)) for k in range(len(points)))
        tracker = content.tracker_ids[track]
        closed = kind == Kind.RECTANGLE
        shape = Shape(Kind(kind).type_name, name, tracker, points, shape_edges, closed)
        out[frame_id[frame]].append(shape)
    return out


# --- finding frames --------------------------------------------------------------------------
class FrameFinder:
    """Where the image of a frame is: a ``frames`` file's row (matched by ``src``, then by a
    ``frame_id`` no other row names differently), else ``frames_dir`` joined with the
    trailing parts of the ``src`` URL's path, the longest that exists first
    (``https://host/drive-07/000001.jpg``: ``drive-07/000001.jpg``, then ``000001.jpg``)."""

    def __init__(
        self,
        frames_dir: str | PathLike[str] | None = None,
        frames_file: str | PathLike[str] | None = None,
    ) -> None:
        if frames_dir is None and frames_file is None:
            raise ValueError("give frames_dir, frames_file or both")
        self.root = None if frames_dir is None else Path(frames_dir)
        self.by_src: dict[str, Path] = {}
        self.by_id: dict[str, Path | None] = {}
        if frames_file is not None:
            self._read(str(frames_file))

    def _read(self, path: str) -> None:
        from prelabel.convert import _read_frames_file  # the --frames reader convert uses

        base = self.root if self.root is not None else Path(path).parent
        for where, row in _read_frames_file(path):
            name = row.get("name")
            if not isinstance(name, str) or not name:
                raise InputError(path, where, "a frame needs a 'name': its image file")
            src, fid = row.get("src"), row.get("frame_id")
            if not src and not fid:
                raise InputError(path, where, "a frame needs a 'src' or a 'frame_id'")
            file = base / name
            if src:
                self.by_src[str(src)] = file
            if fid:
                fid = str(fid)
                known = self.by_id.get(fid, file) if fid in self.by_id else file
                self.by_id[fid] = file if known == file else None  # None: ambiguous

    def find(self, frame_id: str, src: str) -> Path | None:
        """The frame's image file, or None when none exists."""
        listed = self.by_src.get(src) or self.by_id.get(frame_id)
        if listed is not None:
            return listed if listed.is_file() else None
        if self.root is None:
            return None
        parts = [unquote(p) for p in urlsplit(src).path.split("/")]
        parts = [p for p in parts if p not in ("", ".", "..") and "\x00" not in p]
        for start in range(len(parts)):
            candidate = self.root.joinpath(*parts[start:])
            if candidate.is_file():
                return candidate
        return None


# --- drawing ---------------------------------------------------------------------------------
def label_colours(labels: set[str] | list[str]) -> dict[str, tuple[int, int, int]]:
    """A colour per label, stable across jobs and runs: the palette entry its name's hash
    picks, or the next free one when a label earlier in sorted order already has it (so the
    labels of one job never share a colour while the palette lasts)."""
    out: dict[str, tuple[int, int, int]] = {}
    taken: set[int] = set()
    for label in sorted(set(labels)):
        digest = hashlib.sha1(label.encode("utf-8", "surrogatepass")).digest()
        slot = int.from_bytes(digest[:4], "big") % len(PALETTE)
        for step in range(len(PALETTE)):
            if (slot + step) % len(PALETTE) not in taken:
                slot = (slot + step) % len(PALETTE)
                break
        taken.add(slot)
        if len(taken) == len(PALETTE):
            taken.clear()
        out[label] = PALETTE[slot]
    return out


@dataclass(frozen=True)
class _Style:
    width: int
    radius: int
    font: Any
    tracker_ids: bool = True


def _style(size: tuple[int, int], *, thumb: bool = False) -> _Style:
    w, h = size
    if thumb:
        # a thumbnail's captions hold the label only: tracker ids would hide the frame
        return _Style(width=2, radius=2, font=_font(max(9, min(12, h // 12))), tracker_ids=False)
    return _Style(
        width=max(2, round(max(w, h) / 640)),
        radius=max(3, round(max(w, h) / 400)),
        font=_font(max(12, round(h / 45))),
    )


def _font(size: int) -> Any:
    _, _, font, _ = _pil()
    try:
        return font.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one bitmap size
        return font.load_default()


def _ink(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads on ``colour`` (ITU-R BT.601 luma)."""
    r, g, b = colour
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def draw_shapes(
    image: PILImage.Image,
    shapes: list[Shape],
    colours: Mapping[str, tuple[int, int, int]],
    *,
    thumb: bool = False,
) -> None:
    """Draw ``shapes`` on ``image`` (RGB) in place, coordinates scaled by its real size: the
    outlines (interiors untouched), landmark dots, and the label and the tracker id's first
    eight characters beside each shape."""
    _, image_draw, _, _ = _pil()
    draw = image_draw.Draw(image)
    size = np.array(image.size, dtype=np.float64)
    style = _style(image.size, thumb=thumb)
    for shape in shapes:
        colour = colours[shape.label]
        pts = shape.points * size
        xy = [tuple(p) for p in pts.tolist()]
        if shape.kind == "landmark":
            r = style.radius
            for x, y in xy:
                draw.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=(0, 0, 0))
        elif shape.edges:
            for a, b in shape.edges:
                draw.line((xy[a], xy[b]), fill=colour, width=style.width)
        else:
            ring = [*xy, xy[0]] if shape.closed else xy
            draw.line(ring, fill=colour, width=style.width, joint="curve")
        _caption(draw, image.size, pts, shape, colour, style)


def _caption(
    draw: PILImageDraw.ImageDraw,
    size: tuple[int, int],
    pts: npt.NDArray[np.float64],
    shape: Shape,
    colour: tuple[int, int, int],
    style: _Style,
) -> None:
    """The label and tracker id on the label's colour, above the shape's bounds when there
    is room, else below them, else inside at the top."""
    text = shape.label if not style.tracker_ids else f"{shape.label} {shape.tracker[:8]}".strip()
    x0, y0 = pts.min(axis=0)
    _, y1 = pts.max(axis=0)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=style.font)
    tw, th = right - left + 4, bottom - top + 4
    pad = style.width + style.radius
    if y0 - pad - th >= 0:
        y = y0 - pad - th
    elif y1 + pad + th <= size[1]:
        y = y1 + pad
    else:
        y = max(0.0, y0)
    x = min(max(0.0, x0), max(0.0, size[0] - tw))
    draw.rectangle((x, y, x + tw, y + th), fill=colour)
    draw.text((x + 2 - left, y + 2 - top), text, fill=_ink(colour), font=style.font)


def placeholder(size: tuple[int, int], name: str, reason: str) -> PILImage.Image:
    """A grey frame of ``size`` with its name and why it is missing, in its centre."""
    image_mod, image_draw, _, _ = _pil()
    image: PILImage.Image = image_mod.new("RGB", size, PLACEHOLDER_GREY)
    draw = image_draw.Draw(image)
    font = _font(max(10, size[1] // 30))
    text = f"{reason}: {name}"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = max(0, (size[0] - (right - left)) // 2) - left
    y = max(0, (size[1] - (bottom - top)) // 2) - top
    draw.text((x, y), text, fill=(235, 235, 235), font=font)
    return image


def _load(file: Path, fit: int | None = None) -> PILImage.Image:
    """The image as shown (EXIF orientation applied, as the readers' sizes are), in RGB,
    decoded once and copied only when it must be converted or turned. With ``fit``, a JPEG
    is decoded at the smallest scale (1/2, 1/4, 1/8) that still covers ``fit`` pixels a side."""
    image_mod, _, _, image_ops = _pil()
    with image_mod.open(file) as raw:
        if fit is not None:
            raw.draft("RGB", (fit, fit))
        raw.load()
        if raw.getexif().get(0x0112, 1) not in (0, 1):  # the EXIF Orientation tag
            image: PILImage.Image = image_ops.exif_transpose(raw).convert("RGB")
        else:
            image = raw if raw.mode == "RGB" else raw.convert("RGB")
    return image


def contact_sheet(
    title: str,
    thumbs: list[tuple[str, PILImage.Image]],
    colours: Mapping[str, tuple[int, int, int]],
    *,
    thumb_width: int,
    sheet_size: int,
) -> PILImage.Image:
    """A grid of (caption, thumbnail) under a title line and a legend of the labels' colours;
    never wider or taller than ``sheet_size`` (thumbnails shrink to fit)."""
    image_mod, image_draw, _, _ = _pil()
    n = max(1, len(thumbs))
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    aspect = max((t.height / t.width for _, t in thumbs), default=9 / 16)
    gap, caption_h, header_h = 4, 14, 40
    cell_w = min(thumb_width, (sheet_size - gap * (cols + 1)) // cols)
    fit_h = (sheet_size - header_h - gap * (rows + 1)) // rows - caption_h
    cell_w = max(1, min(cell_w, int(fit_h / aspect)))
    cell_h = max(1, round(cell_w * aspect))
    width = min(sheet_size, max(cols * (cell_w + gap) + gap, 320))
    height = min(sheet_size, header_h + rows * (cell_h + caption_h + gap) + gap)
    sheet: PILImage.Image = image_mod.new("RGB", (width, height), (24, 24, 24))
    draw = image_draw.Draw(sheet)
    small = _font(11)
    draw.text((gap, 4), title, fill=(240, 240, 240), font=_font(13))
    x = gap
    for label, colour in sorted(colours.items()):
        right = draw.textbbox((x + 14, 22), label, font=small)[2]
        if right > width:
            break
        draw.rectangle((x, 23, x + 10, 33), fill=colour)
        draw.text((x + 14, 22), label, fill=(220, 220, 220), font=small)
        x = right + 10
    for i, (caption, thumb) in enumerate(thumbs):
        r, c = divmod(i, cols)
        left = gap + c * (cell_w + gap)
        top = header_h + gap + r * (cell_h + caption_h + gap)
        fitted = thumb.copy()
        fitted.thumbnail((cell_w, cell_h))
        sheet.paste(fitted, (left, top))
        text = caption
        while text and draw.textlength(text, font=small) > cell_w:
            text = text[:-2] + "…" if len(text) > 2 else ""
        draw.text((left, top + cell_h + 1), text, fill=(200, 200, 200), font=small)
    return sheet


# --- the whole run ---------------------------------------------------------------------------
def selected_positions(count: int, options: PreviewOptions) -> npt.NDArray[np.intp]:
    """The positions of a job's frames that are drawn: every ``every``-th, under ``first``."""
    stop = count if options.first is None else min(count, options.first)
    return np.arange(0, stop, options.every, dtype=np.intp)


def _safe_name(text: str) -> str:
    """``text`` as a portable file name: runs of other characters become ``_``, no leading
    dot (so never ``.`` or ``..``), at most 100 characters."""
    name = _UNSAFE.sub("_", text).lstrip(".")[:100]
    return name or "_"


def _write(image: PILImage.Image, file: Path) -> None:
    """``image`` as a PNG at ``file``, atomically (a temporary file renamed over it). Not
    fsynced: a preview is made again from its inputs, unlike a payload."""
    tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        # zlib level 1: a preview is looked at once and made again from its inputs, so
        # speed beats size (on 1080p frames level 1 took 0.3-0.75x the time of the default
        # level 6, for files 10-20% larger); Pillow's encoder releases the GIL, so the writer threads
        # encode while the next frame is drawn
        image.save(tmp, format="PNG", compress_level=1)
        os.replace(tmp, file)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(file, None, f"cannot write: {exc.strerror or exc}") from None


class _Writers:
    """PNG files written by two threads while the main one decodes and draws; at most
    ``depth`` images wait, so memory stays a few frames whatever the job's length."""

    def __init__(self, depth: int = 4) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="prelabel-preview")
        self.pending: deque[Future[None]] = deque()
        self.depth = depth

    def submit(self, image: PILImage.Image, file: Path) -> None:
        while len(self.pending) >= self.depth:
            self.pending.popleft().result()  # re-raises a writer's error here
        self.pending.append(self.pool.submit(_write, image, file))

    def close(self) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()
        finally:
            for f in self.pending:
                f.cancel()
            self.pool.shutdown(wait=True)


def preview(
    jobs_file: str | PathLike[str],
    out_dir: str | PathLike[str],
    *,
    frames_dir: str | PathLike[str] | None = None,
    frames_file: str | PathLike[str] | None = None,
    options: PreviewOptions | None = None,
) -> PreviewSummary:
    """Draw the pre-labels of every selected job of ``jobs_file`` (JSON Lines) over its
    frames into ``out_dir``: ``<reference_id>/<position>_<frame_id>.png`` per selected frame
    and ``<reference_id>.png``, the job's contact sheet. Frames are found with a
    :class:`FrameFinder` over ``frames_dir`` and ``frames_file``; see the module doc."""
    _pil()
    options = options or PreviewOptions()
    path = str(jobs_file)
    finder = FrameFinder(frames_dir, frames_file)
    out = Path(out_dir)
    summary = PreviewSummary()
    seen: dict[str, set[str]] = {"jobs": set(), "labels": set()}
    used_names: set[str] = set()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, None, f"cannot create the folder: {exc.strerror or exc}") from None
    writers = _Writers()
    read = 0
    try:
        for job in payload_jobs(path):
            read += 1
            todo = _read_job(job, options, seen, used_names)
            del job  # the parsed payload is most of the memory: not kept while drawing
            if todo is not None:
                ref, name, picked, shapes = todo
                folder, sheet = out / name, out / f"{name}.png"
                _preview_job(ref, folder, sheet, picked, shapes, finder, options, summary, writers)
    finally:
        writers.close()
    if not read:
        raise InputError(path, None, "the file holds no jobs")
    if options.jobs is not None:
        summary.unmatched_jobs = sorted(options.jobs - seen["jobs"])
    if options.labels is not None:
        summary.unmatched_labels = sorted(options.labels - seen["labels"])
    return summary


def _read_job(
    job: JobDocument,
    options: PreviewOptions,
    seen: dict[str, set[str]],
    used_names: set[str],
) -> tuple[str, str, list[tuple[int, str, str]], dict[str, list[Shape]]] | None:
    """A selected job's reference_id, file name, its drawn frames as (position, frame_id,
    src) and the shapes on them; None for a job not selected (its frames are not read)."""
    ref = job.reference_id
    if options.jobs is not None and ref not in options.jobs:
        return None
    seen["jobs"].add(ref)
    name = _safe_name(ref)
    if name in used_names:
        name = f"{name}~{job.line}"
    used_names.add(name)
    frames = job.frames()
    ids, srcs = frames.frame_id, frames.src
    picked = [(int(p), str(ids[p]), str(srcs[p])) for p in selected_positions(len(frames), options)]
    drawn = [fid for _, fid, _ in picked]
    shapes = _shapes(job.content(drawn, edges=True), drawn, options.labels)
    seen["labels"].update(s.label for group in shapes.values() for s in group)
    return ref, name, picked, shapes


def _thumbnail(image: PILImage.Image, width: int) -> PILImage.Image:
    """``image`` shrunk to fit a ``width`` x ``width`` square (never enlarged)."""
    scale = min(1.0, width / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size == image.size:
        return image.copy()
    image_mod = _pil()[0]
    thumb: PILImage.Image = image.resize(size, image_mod.Resampling.BILINEAR, reducing_gap=2.0)
    return thumb


def _preview_job(
    ref: str,
    folder: Path,
    sheet_file: Path,
    picked: list[tuple[int, str, str]],
    shapes: dict[str, list[Shape]],
    finder: FrameFinder,
    options: PreviewOptions,
    summary: PreviewSummary,
    writers: _Writers,
) -> None:
    # at most sheet_frames thumbnails, evenly spaced over the drawn frames
    spread = np.linspace(0, len(picked) - 1, min(len(picked), options.sheet_frames))
    on_sheet = set(np.unique(spread.round().astype(np.intp)).tolist())
    if options.sheet_only:  # only the sheet's frames are looked at
        picked = [p for k, p in enumerate(picked) if k in on_sheet]
        on_sheet = set(range(len(picked)))
    files = [finder.find(fid, src) for _, fid, src in picked]
    size = options.placeholder_size
    for file in files:  # the job's frame size, from the first header that reads
        if file is not None:
            try:
                size = image_size(file)
                break
            except InputError:
                continue
    colours = label_colours({s.label for group in shapes.values() for s in group})
    thumbs: list[tuple[str, PILImage.Image]] = []
    digits = max(6, len(str(picked[-1][0]))) if picked else 6
    drawn = placeholders = count = 0
    if not options.sheet_only:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                folder, None, f"cannot create the folder: {exc.strerror or exc}"
            ) from None
    # a sheet-only run decodes JPEGs at the smallest DCT scale that still fills a thumbnail
    fit = options.thumb_width if options.sheet_only else None
    for k, ((position, fid, src), file) in enumerate(zip(picked, files, strict=True)):
        image, reason = None, "not found"
        if file is not None:
            try:
                image = _load(file, fit)
            except (OSError, ValueError, _pil()[0].DecompressionBombError) as exc:
                # Pillow's UnidentifiedImageError and a truncated file are OSErrors
                reason = f"unreadable ({type(exc).__name__})"
        if image is None:
            image = placeholder(size, src or fid, reason)
            placeholders += 1
            summary.missing.append(MissingFrame(ref, fid, src, reason))
        thumb = _thumbnail(image, options.thumb_width) if k in on_sheet else None
        frame_shapes_ = shapes[fid]
        if not options.sheet_only:
            draw_shapes(image, frame_shapes_, colours)
            target = folder / f"{position:0{digits}d}_{_safe_name(fid)}.png"
            writers.submit(image, target)
            summary.files.append(target)
        if thumb is not None:
            draw_shapes(thumb, frame_shapes_, colours, thumb=True)
            thumbs.append((fid, thumb))
        drawn += 1
        count += len(frame_shapes_)
    title = (
        f"{ref}: {drawn} frame(s) drawn, {placeholders} placeholder(s), {count} shape(s);"
        f" {len(thumbs)} on this sheet"
    )
    sheet = contact_sheet(
        title, thumbs, colours, thumb_width=options.thumb_width, sheet_size=options.sheet_size
    )
    writers.submit(sheet, sheet_file)
    summary.files.append(sheet_file)
    summary.jobs += 1
    summary.frames += drawn
    summary.placeholders += placeholders
    summary.shapes += count
