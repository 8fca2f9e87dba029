"""Readers: one package or module per input format, each turning files into pixel Annotations.

:data:`FORMATS` is the registry: a format is its reader (``read_<name>`` in
``prelabel.formats.<name>``), its ``prelabel convert <name>`` command (``command`` in
``prelabel.commands.convert_<name>``) and the line ``prelabel convert --help`` shows. The
CLI's convert commands and the library's lazy ``prelabel.read_<name>`` exports are built from
it, so adding a format is its two modules and one line here (plus, for type checkers, one
line in ``prelabel/__init__.py``). Plain strings, nothing imported: reading the registry
costs nothing at start-up.
"""

from __future__ import annotations

# name -> one-line summary, in the order `prelabel convert --help` lists them
FORMATS: dict[str, str] = {
    "coco": "COCO instances, results, keypoints and video files -> job payloads.",
    "yolo": "YOLO / Darknet labels -> job payloads.",
    "cvat": "CVAT for video / images XML -> job payloads.",
    "mot": "MOTChallenge gt/det files and tracker results -> job payloads.",
}


def reader_path(name: str) -> str:
    """``module:function`` of a format's reader."""
    return f"prelabel.formats.{name}:read_{name}"


def command_path(name: str) -> str:
    """``module:attribute`` of a format's ``prelabel convert`` command."""
    return f"prelabel.commands.convert_{name}:command"
