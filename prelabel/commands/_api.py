"""What the commands that talk to the API share (``submit``, ``batch``, ``results fetch``):
their option declarations, the one translation of the transport options into the
library's :class:`~prelabel.submit.config.Retries`, :class:`~prelabel.submit.config.Limits`
and :class:`~prelabel.submit.config.Timeouts`, the frame of a run (signals, progress), and
the failure listing that ends ``status`` and ``results status``.

An option declared here reaches every command that uses the decorator, so the commands
cannot drift apart (``tests/submit/test_cli_options.py`` checks that each accepts each one).
"""

from __future__ import annotations

import contextlib
import functools
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypedDict

import click

from prelabel.errors import printable
from prelabel.progress import Progress
from prelabel.submit import api
from prelabel.submit.config import Limits, Retries, Timeouts

if TYPE_CHECKING:
    from prelabel.submit.client import Submitter

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

RATE_HELP = "Requests per second for the whole run; 0 = unlimited."


class FiniteRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and ``inf`` (float() reads
    both, and no range check catches nan): a deadline or a rate must be a number."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return rv


class SubmitterSettings(TypedDict):
    """Keyword arguments of :class:`~prelabel.submit.client.Submitter`."""

    retries: Retries
    limits: Limits
    timeouts: Timeouts


@dataclass(frozen=True)
class Transport:
    """The values of :func:`transport_options`, one field per option (same names)."""

    concurrency: int
    rate: float
    max_attempts: int
    backoff_base: float
    timeout: float

    def settings(self, *, result_bytes: int | None = None) -> SubmitterSettings:
        """The Submitter's ``retries``, ``limits`` and ``timeouts`` for these values;
        ``result_bytes`` (``results fetch``) caps a result file."""
        limits = Limits(concurrency=self.concurrency, rate=self.rate)
        if result_bytes is not None:
            limits = replace(limits, result_bytes=result_bytes)
        return SubmitterSettings(
            retries=Retries(max_attempts=self.max_attempts, backoff=self.backoff_base),
            limits=limits,
            timeouts=Timeouts(request=self.timeout),
        )


def transport_options(*, rate_help: str = RATE_HELP) -> Decorator:
    """``--concurrency``, ``--rate``, ``--max-attempts``, ``--backoff-base`` and
    ``--timeout``, handed to the command as one ``transport: Transport`` argument."""
    declared = (
        click.option(
            "--concurrency",
            default=4,
            show_default=True,
            type=click.IntRange(1, 64),
            metavar="N",
            help="Requests in flight at once.",
        ),
        click.option(
            "--rate",
            default=5.0,
            show_default=True,
            type=FiniteRange(0),
            metavar="R",
            help=rate_help,
        ),
        click.option(
            "--max-attempts",
            default=8,
            show_default=True,
            type=click.IntRange(1, 100),
            metavar="N",
            help="Attempts of each request before its job fails (a rerun tries again).",
        ),
        click.option(
            "--backoff-base",
            default=0.5,
            show_default=True,
            type=FiniteRange(0),
            metavar="S",
            help="Seconds; retry n waits up to base * 2^(n-1) (full jitter, capped at 30 s).",
        ),
        click.option(
            "--timeout",
            default=30.0,
            show_default=True,
            type=FiniteRange(0.1),
            metavar="S",
            help="Deadline for each whole request (connect, send, the whole answer), seconds.",
        ),
    )
    names = [f.name for f in fields(Transport)]

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs["transport"] = Transport(**{n: kwargs.pop(n) for n in names})
            return f(*args, **kwargs)

        for option in reversed(declared):  # click lists options in decorator order
            command = option(command)
        return command

    return decorate


def api_key_file_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--api-key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"File holding the API key (default: ${api.API_KEY_ENV}). Never on the command line.",
    )(f)


def quiet_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-q", "--quiet", is_flag=True, help="No progress display.")(f)


def api_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--project-id``, ``--base-url`` (default: the public API) and ``--api-key-file``:
    the commands that name the project themselves (``submit``, ``batch``)."""
    f = api_key_file_option(f)
    f = click.option(
        "--base-url",
        default=api.DEFAULT_BASE_URL,
        show_default=True,
        help="API root; http:// only for loopback (the sandbox).",
    )(f)
    f = click.option("--project-id", required=True, help="The project to create jobs in.")(f)
    return f


def checked_base_url(value: str) -> str:
    """``--base-url`` checked (https, or http on loopback) as a usage error."""
    try:
        return api.check_base_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base-url") from None


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[str], None]) -> Iterator[list[str]]:
    """SIGINT (Ctrl-C) and SIGTERM ask the run to stop: no new requests, the answers in
    flight settled, the ledger and report written. A second signal stops at once. Yields
    the list of signal names received."""
    got: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def handler(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if got:  # the second one: do not wait any more
            raise KeyboardInterrupt
        got.append(name)
        stop(f"interrupted by {name}")

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def run(
    submitter: Submitter, total: int, *, desc: str, quiet: bool, order: tuple[str, ...]
) -> Iterator[tuple[Progress, list[str]]]:
    """The frame of a run on ``submitter``: signals stop it cleanly, and a progress display
    of ``total`` jobs (shown once the ledger and the client are ready, so an error before
    has no bar) counts the outcomes the caller reports and every retry. Yields the display
    and the names of the signals received; the display is closed after the submitter."""
    progress: Progress | None = None
    try:
        with submitter, stop_on_signals(submitter.stop) as signals:
            bar = progress = Progress(total, desc=desc, unit="job", enabled=not quiet, order=order)
            submitter.on_retry = lambda _code: bar.count("retries")
            yield bar, signals
    finally:
        if progress is not None:
            progress.close()


class _Failure(Protocol):
    @property
    def reference_id(self) -> str: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...


def exit_listing_failures(failures: Sequence[_Failure], show_all: bool) -> NoReturn:
    """The end of ``status`` and ``results status``: the failures a ledger records (the
    first 50 unless ``--all``), then exit 1 when there is any, 0 otherwise."""
    shown = failures if show_all else failures[:50]
    for r in shown:
        ref = r.reference_id if len(r.reference_id) <= 200 else r.reference_id[:197] + "..."
        click.echo(printable(f"failed {ref}: {r.error_code}: {r.error_message}"))
    if len(failures) > len(shown):
        click.echo(f"... and {len(failures) - len(shown)} more failures (--all)")
    sys.exit(1 if failures else 0)
