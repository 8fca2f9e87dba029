"""The ``<meta>`` of a CVAT export: its tasks (frame range, step, size, project offset) and labels.

The meta is small, so it is built as an element tree (by ElementTree's C ``TreeBuilder``, fed
by the hardened parser) and read here.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from prelabel.errors import InputError
from prelabel.formats.cvat._tables import MAX_INT, Meta, Task, bounded_int


def parse_meta(root: Element, path: str, line: int) -> Meta:
    where = f"<meta> line {line}"

    def number(el: Element, tag: str) -> int | None:
        text = el.findtext(tag)
        if text is None or not text.strip():
            return None
        try:
            value = bounded_int(text.strip(), f"<{tag}>")
        except ValueError as e:
            what = f"{e}: {text.strip()[:40]!r}" if "not an integer" in str(e) else str(e)
            raise InputError(path, where, what) from None
        if value < 0:
            raise InputError(path, where, f"<{tag}> must be >= 0, not {value}")
        return value

    def size(el: Element, tag: str) -> float | None:
        text = el.findtext(tag)
        if text is None or not text.strip():
            return None
        try:
            return float(text.strip())
        except ValueError:
            raise InputError(path, where, f"<{tag}> is not a number: {text[:40]!r}") from None

    project_tasks = root.findall("project/tasks/task")
    containers = [el for el in (root.find("task"), root.find("job")) if el is not None]
    tasks = []
    mode = None
    for el in containers + project_tasks:
        key = (el.findtext("id") or "").strip() or None  # datumaro writes an empty <id>
        name = (el.findtext("name") or "").strip() or "video"
        mode = mode or (el.findtext("mode") or "").strip() or None
        step = 1
        ff = (el.findtext("frame_filter") or "").strip()
        if ff:
            if not ff.startswith("step="):
                raise InputError(path, where, f"unsupported frame_filter {ff!r}")
            try:
                step = bounded_int(ff[5:], "frame_filter step")
            except ValueError:
                raise InputError(path, where, f"unsupported frame_filter {ff!r}") from None
            if step < 1:
                raise InputError(path, where, f"frame_filter step must be >= 1, not {step}")
        size_el = el.find("original_size")
        subset = (el.findtext("subset") or "").strip() or None
        tasks.append(
            Task(
                key=key,
                name=name,
                start=number(el, "start_frame") or 0,
                stop=number(el, "stop_frame"),
                step=step,
                size=number(el, "size"),
                width=size(size_el, "width") if size_el is not None else None,
                height=size(size_el, "height") if size_el is not None else None,
                subset=subset,
            )
        )
    task_offsets(tasks[len(containers) :], path, where)
    seen: set[str] = set()
    for i, t in enumerate(tasks):  # one sequence per task: repeated names get the task id
        if t.name in seen:
            t.name = f"{t.name} ({t.key or i + 1})"
        seen.add(t.name)
    labels: list[str] = []
    all_labels: set[str] = set()
    points_of: dict[str, list[str]] = {}
    for lab in root.iter("label"):
        label = lab.findtext("name")
        if label is None or label in all_labels:
            continue
        all_labels.add(label)
        parent = lab.findtext("parent")
        if parent:
            points_of.setdefault(parent, []).append(label)
        else:
            labels.append(label)
    return Meta(tasks=tasks, labels=labels, all_labels=all_labels, points_of=points_of, mode=mode)


def task_offsets(tasks: list[Task], path: str, where: str) -> None:
    """CVAT's frame offset of each task of a project export, in meta order.

    CVAT's project export (``ProjectData``) lists the tasks by subset, then id, and writes
    each task's frames shifted by the sum of ``start_frame + step * size`` of the tasks before
    it in the same subset, so that frame numbers do not repeat inside a subset: a track frame
    is ``start_frame + k * step + offset`` for task frame k. An ``<image id>`` carries the
    same number.
    """
    total = 0
    subset: object = object()
    for t in tasks:
        if t.subset != subset:
            subset, total = t.subset, 0
        t.offset = total
        if t.start + total > MAX_INT:
            raise InputError(
                path, where, f"task {t.name!r}: its frame numbers would be beyond 2**62"
            )
        total += t.start + t.step * (t.size if t.size is not None else (t.stop_count() or 0))
