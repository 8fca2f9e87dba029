"""The ``prelabel`` command line: a thin layer over the library.

Errors the user can fix are one line on stderr and exit code 2 (1 where the command's own
contract says so); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from prelabel import __version__
from prelabel.errors import GeometryError, PrelabelError, Spelling, printable, render
from prelabel.formats import FORMATS, command_path

# Commands are imported when used, so `prelabel convert yolo` does not pay for httpx and
# `prelabel submit` not for the readers: name -> "module:attribute".
CONVERTERS = {name: command_path(name) for name in FORMATS}
TOP_LEVEL = {
    "submit": "prelabel.commands.submit:submit_command",
    "batch": "prelabel.commands.submit:batch_group",
    "status": "prelabel.commands.submit:status_command",
    "sandbox": "prelabel.commands.submit:sandbox_command",
    "results": "prelabel.commands.results:results_group",
    "preview": "prelabel.commands.preview:preview_command",
    "export": "prelabel.commands.export:export_group",
    "compare": "prelabel.commands.compare:compare_command",
}
# `prelabel --help` lists the lazy commands with these lines instead of importing them
SHORT_HELP = {
    "submit": "Create the jobs of JOBS (JSON Lines) in a project, exactly once each.",
    "batch": "Batches of a project: create, list.",
    "status": "Counts by state and the failures recorded in a LEDGER.",
    "sandbox": "Serve a local stand-in of the job API on 127.0.0.1.",
    "results": "Results of completed jobs: fetch them, count them.",
    "preview": "Draw each job's pre-labels over its frames (PNGs and a contact sheet).",
    "export": "Results or payloads back to COCO, YOLO or CVAT files (pixels).",
    "compare": "How good were the pre-labels: what annotators made of them.",
    **FORMATS,
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented pattern)."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list without importing a lazy command (start-up cost of --help)."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy and name in SHORT_HELP:
                rows.append((name, SHORT_HELP[name]))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        ctx.meta[_RUNNING] = cmd  # meta is shared down the chain: the last one is the leaf
        return name, cmd, rest

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attr = self.lazy[cmd_name].split(":")
            cmd: click.Command = getattr(importlib.import_module(module), attr)
            return cmd
        return super().get_command(ctx, cmd_name)


MAX_PROBLEMS_SHOWN = 20
_RUNNING = "prelabel.command"  # ctx.meta key: the command being run, for its flags

# A library parameter whose command-line option has another name (the CLI loads the
# --labels file into LabelOptions.mapping); every other parameter is its option's name.
_OPTION_OF = {"mapping": "labels_file"}


def flag_spelling(command: click.Command | None) -> Spelling:
    """How ``command``'s messages name a library parameter: as the command's own option
    (``frames_per_job`` -> ``--frames-per-job``, read from its click params), or, for a
    parameter the command does not have, as the library does (``frames_per_job=``)."""
    options = {
        p.name: p for p in (command.params if command else ()) if isinstance(p, click.Option)
    }

    def spell(name: str, value: str) -> str | None:
        option = options.get(_OPTION_OF.get(name, name)) or options.get(name)
        if option is None:
            return None
        short = [o for o in option.opts if not o.startswith("--")]
        long = [o for o in option.opts if o.startswith("--")]
        flag = "/".join(short + long[:1])
        return flag if option.is_flag or not value else f"{flag} {value}"

    return spell


def cli_text(text: str, ctx: click.Context | None = None) -> str:
    """``text`` (an error or a warning) with its parameters named as the running command's
    flags: what every line the CLI prints from the library goes through."""
    ctx = ctx or click.get_current_context(silent=True)
    command = None if ctx is None else ctx.meta.get(_RUNNING, ctx.command)
    return render(text, flag_spelling(command))


class PrelabelGroup(LazyGroup):
    """Turns the project's errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug") or (ctx.obj or {}).get("debug"))
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except PrelabelError as exc:
            if debug:
                _traceback(exc, exc.exit_code)
            _fail(exc, ctx)
        except OSError as exc:  # a disk or pipe problem the readers did not anticipate
            if debug:
                _traceback(exc, 2)
            click.echo(printable(f"error: {exc}"), err=True)
            sys.exit(2)
        except Exception as exc:  # a bug: its traceback, with no secret in it
            _traceback(exc, 1)


def _traceback(exc: BaseException, code: int) -> None:
    """Print the traceback of ``exc`` with every known secret (the API key) scrubbed out,
    then exit with ``code``: every command's --debug output goes through here."""
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    click.echo(_scrub(text).rstrip("\n"), err=True)
    sys.exit(code)


def _fail(exc: PrelabelError, ctx: click.Context | None = None) -> None:
    """Print ``exc`` (and a GeometryError's first problems) as single lines and exit.

    This is the one place errors reach the terminal: every line goes through
    :func:`printable`, so a name with a newline or an escape sequence stays on its line, and
    the library parameters it names are spelled as the running command's flags
    (:func:`cli_text`)."""
    message = cli_text(exc.text(), ctx)
    if isinstance(exc, GeometryError):
        for row in exc.problems[:MAX_PROBLEMS_SHOWN]:
            click.echo(printable(_problem_line(exc.path, row)), err=True)
        more = len(exc.problems) - MAX_PROBLEMS_SHOWN
        if more > 0:
            click.echo(f"... and {more} more (write them all with --report)", err=True)
        if exc.path:
            message = f"{exc.path}: {message}"
    click.echo(printable(f"error: {_scrub(message)}"), err=True)
    sys.exit(exc.exit_code)


def _scrub(text: str) -> str:
    """``text`` without any secret prelabel holds (the API key): a secret can only be known
    once ``prelabel.submit.secrets`` is loaded, so nothing is imported for it."""
    secrets = sys.modules.get("prelabel.submit.secrets")
    return text if secrets is None else str(secrets.scrub_text(text))


def _problem_line(path: str | None, row: dict[str, object]) -> str:
    """``FILE:PLACE: 'label': reason`` for one problem row.

    A reader's ``source`` is a place inside the input file (``$.annotations[3]``,
    ``<box> at line 40``), prefixed with the input file; or a file of its own relative to the
    data set (YOLO's ``labels/a.txt:3``), joined with the input folder when it is there."""
    source = row.get("source")
    where = str(source) if source else f"frame {row.get('frame')!r}"
    if path and (not source or where.startswith(("$", "<", "line "))):
        where = f"{path}:{where}"
    elif path:
        where = _in_dataset(Path(path), where)
    return f"{where}: {row.get('label')!r}: {row.get('reason')}"


def _in_dataset(path: Path, where: str) -> str:
    """``labels/a.txt:3`` as ``DATASET/labels/a.txt:3`` when that file exists."""
    file, sep, line = where.rpartition(":")
    if not sep or not line.isdigit():
        return where
    base = path if path.is_dir() else path.parent
    joined = base / file
    return f"{joined}:{line}" if joined.is_file() else where


@click.group(
    cls=PrelabelGroup, lazy=TOP_LEVEL, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="prelabel")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn model outputs (COCO, YOLO, CVAT, MOT) into pre-labelled jobs, check them, submit
    them, and close the loop: preview, fetch results, compare, export."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.group(cls=LazyGroup, lazy=CONVERTERS)
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
    from prelabel.gcpause import paused_gc
    from prelabel.validate import file_problems

    count = 0
    with paused_gc():  # parsing and checking make no cycles: collections cost ~2/3 of it
        for problem in file_problems(file):
            count += 1
            if count <= max_problems:
                click.echo(printable(problem.format(file)))
    if count:
        click.echo(printable(f"{count} problem(s) in {file}"), err=True)
        sys.exit(1)
    click.echo(printable(f"{file}: valid"), err=True)
