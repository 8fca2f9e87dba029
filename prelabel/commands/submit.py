"""``prelabel submit``, ``batch create``, ``status`` and ``sandbox``: the CLI over
:mod:`prelabel.submit`.

Exit codes: 0 every job created or exists; 1 some job failed or the run stopped (resume with
the same command); 2 bad input or options (nothing sent).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click
import orjson

from prelabel.errors import InputError, PrelabelError
from prelabel.submit import api
from prelabel.submit.client import (
    RESUME_HINT,
    JobOutcome,
    Status,
    Submitter,
    load_api_key,
    plan_against,
    prepare_payload,
)
from prelabel.submit.ledger import Ledger, default_ledger_path

MAX_SHOWN = 20


def _fail(exc: PrelabelError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def read_jobs(path: Path) -> Iterator[dict[str, Any]]:
    """The jobs of a JSON Lines file, streamed; a bad line is an InputError naming it."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    with f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                job = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputError(
                    path, f"line {number}", f"invalid JSON at column {exc.colno}: {exc.msg}"
                ) from None
            if not isinstance(job, dict):
                raise InputError(path, f"line {number}", "a job must be a JSON object")
            ref = job.get("reference_id")
            if not isinstance(ref, str) or not ref:
                raise InputError(
                    path, f"line {number}", "$.reference_id: a non-empty string is required"
                )
            yield job


def _check_input(path: Path) -> int:
    """Read the whole file once before sending anything: bad input stops the run at exit 2
    with nothing sent. Returns the number of jobs."""
    return sum(1 for _ in read_jobs(path))


def _base_url(value: str) -> str:
    try:
        return api.check_base_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base-url") from None


def _api_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--api-key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"File holding the API key (default: ${api.API_KEY_ENV}). Never on the command line.",
    )(f)
    f = click.option(
        "--base-url",
        default=api.DEFAULT_BASE_URL,
        show_default=True,
        help="API root; http:// only for loopback (the sandbox).",
    )(f)
    f = click.option("--project-id", required=True, help="The project to create jobs in.")(f)
    return f


class _Progress:
    """A one-line counter on stderr, redrawn at most 5 times a second."""

    def __init__(self, total: int, out: TextIO, enabled: bool) -> None:
        self.total, self.out, self.enabled = total, out, enabled
        self.counts: Counter[str] = Counter()
        self._last = 0.0

    def __call__(self, outcome: JobOutcome) -> None:
        self.counts[outcome.status] += 1
        now = time.monotonic()
        if self.enabled and now - self._last > 0.2:
            self._last = now
            self.draw()

    def draw(self, end: str = "\r") -> None:
        if not self.enabled:
            return
        c = self.counts
        done = sum(c.values())
        width = 24
        filled = int(width * done / self.total) if self.total else width
        bad = c[Status.FAILED] + c[Status.CONFLICT] + c[Status.NOT_SENT]
        self.out.write(
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}  created "
            f"{c[Status.CREATED]}  exists {c[Status.EXISTS]}  done before {c[Status.DONE]}  "
            f"failed {bad}{end}"
        )
        self.out.flush()


@click.command("submit")
@click.argument("jobs", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_api_options
@click.option("--workflow-id", help="work_flow_id for jobs that lack one.")
@click.option("--batch-id", help="batch_id for jobs that lack one.")
@click.option("--batch-name", help="Create the batch of this name, or reuse it if it exists.")
@click.option("--batch-description", default="", help="Description of a batch created.")
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ledger file (default: JOBS.ledger.sqlite beside the input).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON Lines report, one line per job: status, state, attempts, error code, job_id.",
)
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--rate",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Requests per second for the whole run; 0 = unlimited.",
)
@click.option("--max-attempts", default=8, show_default=True, type=click.IntRange(1, 100))
@click.option(
    "--backoff-base",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds; retry n waits up to base * 2^(n-1) (full jitter, capped at 30 s).",
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Deadline for each whole request (connect, send, the whole answer), seconds.",
)
@click.option("--no-validate", is_flag=True, help="Do not check payloads against the schema.")
@click.option("--fsync", is_flag=True, help="Make every ledger commit survive a power cut.")
@click.option("--dry-run", is_flag=True, help="Check every payload, show the plan, send nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
def submit_command(
    jobs: Path,
    project_id: str,
    base_url: str,
    api_key_file: Path | None,
    workflow_id: str | None,
    batch_id: str | None,
    batch_name: str | None,
    batch_description: str,
    ledger: Path | None,
    report: Path | None,
    concurrency: int,
    rate: float,
    max_attempts: int,
    backoff_base: float,
    timeout: float,
    no_validate: bool,
    fsync: bool,
    dry_run: bool,
    quiet: bool,
) -> None:
    """Create the jobs of JOBS (JSON Lines) in a project, exactly once each.

    Rerunning the same command sends only what is not yet created: the ledger remembers
    every job's state. The API key comes from $PLAYMENT_API_KEY or --api-key-file.
    """
    base = _base_url(base_url)
    if batch_id and batch_name:
        raise click.UsageError("give --batch-id or --batch-name, not both")
    ledger_path = ledger or default_ledger_path(jobs)
    try:
        total = _check_input(jobs)
        if dry_run:
            sys.exit(
                _dry_run(jobs, ledger_path, workflow_id, batch_id, batch_name, not no_validate)
            )
        key = load_api_key(api_key_file)
        progress = _Progress(total, sys.stderr, not quiet and sys.stderr.isatty())
        with Submitter(
            project_id,
            key,
            base_url=base,
            ledger=ledger_path,
            concurrency=concurrency,
            rate=rate,
            workflow_id=workflow_id,
            batch_id=batch_id,
            validate=not no_validate,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            timeout=timeout,
            fsync=fsync,
            on_outcome=progress,
        ) as submitter:
            if batch_name:
                info = submitter.create_batch(batch_name, batch_description, reuse=True)
                submitter.batch_id = info.batch_id
                verb = "created" if info.created else "reusing"
                if not quiet:
                    click.echo(f"batch {batch_name!r}: {verb} {info.batch_id}", err=True)
            try:
                result = submitter.submit(read_jobs(jobs), source=str(jobs))
            except KeyboardInterrupt:
                click.echo(f"\ninterrupted; {RESUME_HINT}", err=True)
                sys.exit(1)
        progress.draw(end="\n")
    except PrelabelError as exc:
        _fail(exc)
    if report is not None:
        from prelabel.writer import write_jsonl

        write_jsonl(report, (orjson.dumps(o.to_dict()) for o in result.outcomes))
    click.echo(result.summary(), err=True)
    if result.total < total:
        click.echo(f"{total - result.total} of {total} jobs not reached", err=True)
    problems = [o for o in result.problems if o.status != Status.NOT_SENT or o.error_code]
    for o in problems[:MAX_SHOWN]:
        click.echo(
            f"{o.reference_id}: {o.status}: {o.error_code or '-'}: {o.error_message or ''}",
            err=True,
        )
    if len(problems) > MAX_SHOWN:
        click.echo(f"... and {len(problems) - MAX_SHOWN} more (see --report)", err=True)
    click.echo(f"ledger: {ledger_path}", err=True)
    if result.stop_reason:
        click.echo(f"stopped: {result.stop_reason}; {RESUME_HINT}", err=True)
    sys.exit(0 if result.ok else 1)


def _dry_run(
    jobs: Path,
    ledger_path: Path,
    workflow_id: str | None,
    batch_id: str | None,
    batch_name: str | None,
    validate: bool,
) -> int:
    """Print what a run would do with each job; 0 when every job is sendable or done."""
    ledger = Ledger(ledger_path, readonly=True) if ledger_path.is_file() else None
    counts: Counter[str] = Counter()
    if batch_name:
        batch_id = ledger.batch_id(batch_name) if ledger else None
        if batch_id is None:
            click.echo(f"batch {batch_name!r}: created or reused when sending", err=True)
    try:
        for index, payload in enumerate(read_jobs(jobs)):
            prep = prepare_payload(
                index, payload, workflow_id=workflow_id, batch_id=batch_id, validate=validate
            )
            if isinstance(prep, JobOutcome):
                line, what = f"invalid {prep.reference_id}: {prep.error_message}", "invalid"
            else:
                row = ledger.get(prep.reference_id) if ledger else None
                decided = plan_against(row, prep)
                if decided is not None:
                    what = decided.status
                    line = f"{decided.status} {prep.reference_id}" + (
                        f": {decided.error_message}" if decided.error_message else ""
                    )
                elif prep.problem is not None:
                    line, what = f"invalid {prep.reference_id}: {prep.problem[1]}", "invalid"
                else:
                    what = "send"
                    again = f", resend after {row.state}" if row else ""
                    line = f"send {prep.reference_id} ({len(prep.body)} bytes{again})"
            counts[what] += 1
            click.echo(line)
    finally:
        if ledger is not None:
            ledger.close()
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    click.echo(f"dry run: {summary or 'no jobs'}; nothing sent", err=True)
    return 1 if counts["invalid"] or counts[Status.CONFLICT] else 0


@click.group("batch")
def batch_group() -> None:
    """Batches of a project."""


@batch_group.command("create")
@click.argument("name")
@_api_options
@click.option("--description", default="", help="What the batch holds.")
@click.option("--reuse", is_flag=True, help="Print the id of an existing batch of that name.")
def batch_create(
    name: str,
    project_id: str,
    base_url: str,
    api_key_file: Path | None,
    description: str,
    reuse: bool,
) -> None:
    """Create a batch called NAME and print its batch_id."""
    base = _base_url(base_url)
    try:
        key = load_api_key(api_key_file)
        with Submitter(project_id, key, base_url=base) as s:
            info = s.create_batch(name, description, reuse=reuse)
    except PrelabelError as exc:
        _fail(exc)
    click.echo(info.batch_id)


@click.command("status")
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all", "show_all", is_flag=True, help="List every failure, not the first 50.")
def status_command(ledger: Path, show_all: bool) -> None:
    """Counts by state and the failures recorded in a LEDGER."""
    try:
        with Ledger(ledger, readonly=True) as led:
            counts = led.counts()
            in_doubt = led.count_where("state IN ('pending', 'sending', 'failed') AND maybe_sent")
            no_id = led.count_where("state = 'exists' AND job_id IS NULL")
            failures = list(led.rows("failed"))
            runs = led.runs()
    except PrelabelError as exc:
        _fail(exc)
    width = max(len(k) for k in counts)
    for state, n in counts.items():
        click.echo(f"{state:<{width}}  {n}")
    click.echo(f"{'total':<{width}}  {sum(counts.values())}")
    if in_doubt:
        click.echo(f"{in_doubt} not created may have reached the API (resolved on the next run)")
    if no_id:
        click.echo(f"{no_id} exist without a known job_id (default batch: not listable)")
    if runs:
        last = runs[-1]
        click.echo(
            f"runs: {len(runs)}; last started {last['started_at']}"
            + (f", stopped: {last['stop_reason']}" if last["stop_reason"] else "")
            + ("" if last["finished_at"] else " (did not finish)")
        )
    shown = failures if show_all else failures[:50]
    for r in shown:
        click.echo(f"failed {r.reference_id}: {r.error_code}: {r.error_message}")
    if len(failures) > len(shown):
        click.echo(f"... and {len(failures) - len(shown)} more failures (--all)")


@click.command("sandbox")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0 picks a free port.",
)
@click.option("--api-key", help="The key clients must send (or --api-key-file).")
@click.option("--api-key-file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file to keep jobs and batches in (default: in memory).",
)
@click.option(
    "--fail-rate",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of requests answered 503 or 429 with Retry-After.",
)
@click.option(
    "--reset-rate",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of POSTs handled (job created) and then dropped without an answer.",
)
@click.option("--latency-ms", default=0.0, type=click.FloatRange(0), help="Delay per request.")
@click.option(
    "--retry-after",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds sent in Retry-After.",
)
@click.option("--seed", type=int, help="Seed of the fault draws (reproducible runs).")
@click.option("-q", "--quiet", is_flag=True, help="Do not log requests.")
def sandbox_command(
    port: int,
    api_key: str | None,
    api_key_file: Path | None,
    db: Path | None,
    fail_rate: float,
    reset_rate: float,
    latency_ms: float,
    retry_after: float,
    seed: int | None,
    quiet: bool,
) -> None:
    """Serve a local stand-in of the job API on 127.0.0.1 (for rehearsals and tests)."""
    from prelabel.submit.sandbox import Sandbox

    if api_key_file is not None:
        try:
            api_key = load_api_key(api_key_file).get_secret_value()
        except PrelabelError as exc:
            _fail(exc)
    if not api_key:
        raise click.UsageError("give --api-key or --api-key-file")
    if fail_rate + reset_rate > 1:
        raise click.UsageError("--fail-rate + --reset-rate must be at most 1")
    try:
        sb = Sandbox(
            api_key,
            port=port,
            db=db,
            fail_rate=fail_rate,
            reset_rate=reset_rate,
            latency_ms=latency_ms,
            seed=seed,
            retry_after=retry_after,
            log=None if quiet else (lambda line: click.echo(line, err=True)),
        ).bind()
    except OSError as exc:
        click.echo(f"error: cannot listen on port {port}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo(f"sandbox listening on {sb.url}", err=True)
    click.echo(sb.url)
    sys.stdout.flush()
    try:
        sb.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
