"""The ``prelabel`` command line: a thin layer over the library.

Errors the user can fix are one line on stderr and exit code 2 (1 where the command's own
contract says so); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from prelabel import __version__
from prelabel.errors import GeometryError, PrelabelError
from prelabel.validate import file_problems

# format name -> module holding its ``command``
CONVERTERS = ("coco", "yolo", "cvat")
# module -> names of the commands it exports, registered at the top level
SUBMIT_COMMANDS = ("submit_command", "batch_group", "status_command", "sandbox_command")

MAX_PROBLEMS_SHOWN = 20


class PrelabelGroup(click.Group):
    """Turns the project's errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PrelabelError as exc:
            if ctx.params.get("debug") or (ctx.obj or {}).get("debug"):
                raise
            _fail(exc)
        except OSError as exc:  # a disk or pipe problem the readers did not anticipate
            if ctx.params.get("debug") or (ctx.obj or {}).get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


def _fail(exc: PrelabelError) -> None:
    if isinstance(exc, GeometryError):
        for row in exc.problems[:MAX_PROBLEMS_SHOWN]:
            where = row.get("source") or f"frame {row.get('frame')}"
            click.echo(f"{where}: {row.get('label')}: {row.get('reason')}", err=True)
        more = len(exc.problems) - MAX_PROBLEMS_SHOWN
        if more > 0:
            click.echo(f"... and {more} more (write them all with --report)", err=True)
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.group(cls=PrelabelGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prelabel")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn model outputs (COCO, YOLO, CVAT) into pre-labelled jobs, check them, submit them."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.group()
def convert() -> None:
    """Convert annotations to job payloads (JSON Lines, one job per line)."""


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--max-problems",
    type=int,
    default=1000,
    show_default=True,
    help="Stop listing after this many.",
)
def validate(file: str, max_problems: int) -> None:
    """Check a payload file (JSON Lines, or one JSON document): every problem as
    FILE:LINE: $.json.path: message. Exit 0 when valid, 1 when not, 2 when unreadable."""
    count = 0
    for problem in file_problems(file):
        count += 1
        if count <= max_problems:
            click.echo(problem.format(file))
    if count:
        click.echo(f"{count} problem(s) in {file}", err=True)
        sys.exit(1)
    click.echo(f"{file}: valid", err=True)


def _register() -> None:
    for name in CONVERTERS:
        try:
            module = importlib.import_module(f"prelabel.commands.convert_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"prelabel.commands.convert_{name}":
                raise
            continue
        convert.add_command(module.command, name)
    try:
        submit = importlib.import_module("prelabel.commands.submit")
    except ModuleNotFoundError as exc:
        if exc.name != "prelabel.commands.submit":
            raise
        return
    for attr in SUBMIT_COMMANDS:
        cmd = getattr(submit, attr, None)
        if cmd is not None:
            main.add_command(cmd)


_register()
