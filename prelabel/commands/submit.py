"""``prelabel submit``, ``batch create``/``batch list``, ``status`` and ``sandbox``: the CLI
over :mod:`prelabel.submit`.

Exit codes: 0 every job created or exists; 1 some job failed or the run stopped (resume with
the same command); 2 bad input or options (nothing sent). Errors are raised to the CLI's one
handler (``prelabel.cli``), which prints one line, or the traceback under ``--debug``.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson

from prelabel.commands._api import (
    Transport,
    api_options,
    checked_base_url,
    exit_listing_failures,
    quiet_option,
    run,
    transport_options,
)
from prelabel.commands._outputs import refuse_replacing
from prelabel.errors import InputError, SubmitError
from prelabel.submit.client import RESUME_HINT, Submitter, load_api_key
from prelabel.submit.ledger import JobState, Ledger, default_ledger_path
from prelabel.submit.outcomes import JobOutcome, Status, SubmitResult
from prelabel.submit.plan import plan_against, prepare_payload

MAX_SHOWN = 20
PROGRESS_ORDER = (*(s.value for s in Status), "retries")


class JobsFile:
    """A jobs file read once: the bytes are a snapshot taken before anything is sent, so a
    file rewritten or truncated during the run never mixes old and new payloads.

    Construction checks every line (JSON object with a reference_id): a bad line is an
    InputError naming it, raised before anything is sent.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data = path.read_bytes()
        except OSError as exc:
            raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
        self.lines: list[tuple[int, int, int]] = []  # (line number, start, end)
        start = 0
        number = 0
        data = self.data
        while start < len(data):
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            number += 1
            if data[start:end].strip():
                self._check(number, data[start:end])
                self.lines.append((number, start, end))
            start = end + 1

    def _check(self, number: int, line: bytes) -> None:
        try:
            job = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(
                self.path, f"line {number}", f"invalid JSON at column {exc.colno}: {exc.msg}"
            ) from None
        if not isinstance(job, dict):
            raise InputError(self.path, f"line {number}", "a job must be a JSON object")
        ref = job.get("reference_id")
        if not isinstance(ref, str) or not ref:
            raise InputError(
                self.path, f"line {number}", "$.reference_id: a non-empty string is required"
            )

    def __len__(self) -> int:
        return len(self.lines)

    def reference_id(self, index: int) -> str:
        """The reference_id of job ``index`` (checked at construction)."""
        _, start, end = self.lines[index]
        return str(orjson.loads(self.data[start:end])["reference_id"])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """The jobs, parsed from the snapshot one at a time (never the file again)."""
        for _, start, end in self.lines:
            job: dict[str, Any] = orjson.loads(self.data[start:end])
            yield job


@click.command("submit")
@click.argument("jobs", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@api_options
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
@transport_options()
@click.option("--no-validate", is_flag=True, help="Do not check payloads against the schema.")
@click.option("--fsync", is_flag=True, help="Make every ledger commit survive a power cut.")
@click.option("--dry-run", is_flag=True, help="Check every payload, show the plan, send nothing.")
@quiet_option
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
    transport: Transport,
    no_validate: bool,
    fsync: bool,
    dry_run: bool,
    quiet: bool,
) -> None:
    """Create the jobs of JOBS (JSON Lines) in a project, exactly once each.

    Rerunning the same command sends only what is not yet created: the ledger remembers
    every job's state. The API key comes from $PLAYMENT_API_KEY or --api-key-file.
    Ctrl-C or SIGTERM stops cleanly (ledger and report written); rerun to resume.
    """
    base = checked_base_url(base_url)
    if batch_id and batch_name:
        raise click.UsageError("give --batch-id or --batch-name, not both")
    ledger_path = ledger or default_ledger_path(jobs)
    refuse_replacing("--report", report, [("the ledger", ledger_path), ("the jobs file", jobs)])
    source = JobsFile(jobs)  # read once, every line checked: exit 2 with nothing sent
    if dry_run:
        sys.exit(_dry_run(source, ledger_path, workflow_id, batch_id, batch_name, not no_validate))
    key = load_api_key(api_key_file)
    result: SubmitResult | None = None
    submitter = Submitter(
        project_id,
        key,
        base_url=base,
        ledger=ledger_path,
        workflow_id=workflow_id,
        batch_id=batch_id,
        validate=not no_validate,
        fsync=fsync,
        **transport.settings(),
    )
    with run(submitter, len(source), desc="submit", quiet=quiet, order=PROGRESS_ORDER) as (
        bar,
        signals,
    ):
        submitter.on_outcome = lambda o: bar.update(1, **{o.status.value: 1})
        if batch_name:
            try:
                info = submitter.create_batch(batch_name, batch_description, reuse=True)
            except SubmitError:
                if not signals:  # a signal ends the batch's creation: said below
                    raise
            else:
                submitter.batch_id = info.batch_id
                verb = "created" if info.created else "reusing"
                if not quiet:
                    click.echo(f"batch {batch_name!r}: {verb} {info.batch_id}", err=True)
        if signals:
            click.echo(f"interrupted by {signals[0]}; nothing sent", err=True)
            sys.exit(1)
        result = submitter.submit(source, source=str(jobs))
    assert result is not None
    _finish(result, len(source), report, ledger_path, source)


def _finish(
    result: SubmitResult,
    total: int,
    report: Path | None,
    ledger_path: Path,
    source: JobsFile | None = None,
) -> None:
    """Report, summary and exit code of a submit run (interrupted runs included). The
    report has a line for every job of ``source``: those the run never reached are
    ``not_sent``."""
    if report is not None:
        from prelabel.writer import write_jsonl

        outcomes = list(result.outcomes)
        if source is not None and len(outcomes) < len(source):
            reached = {o.index for o in outcomes}
            outcomes += [
                JobOutcome(index=i, reference_id=source.reference_id(i), status=Status.NOT_SENT)
                for i in range(len(source))
                if i not in reached
            ]
            outcomes.sort(key=lambda o: o.index)
        write_jsonl(report, (orjson.dumps(o.to_dict()) for o in outcomes))
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
    click.echo(f"ledger: {ledger_path}" + (f"; report: {report}" if report else ""), err=True)
    if result.input_error is not None and result.requests == 0:
        click.echo(f"error: {result.input_error}", err=True)
        sys.exit(2)  # nothing was sent: the documented meaning of exit 2
    if result.stop_reason:
        click.echo(f"stopped: {result.stop_reason}; {RESUME_HINT}", err=True)
    sys.exit(0 if result.ok else 1)


def _dry_run(
    jobs: JobsFile,
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
        for index, payload in enumerate(jobs):
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
@api_options
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
    base = checked_base_url(base_url)
    key = load_api_key(api_key_file)
    with Submitter(project_id, key, base_url=base) as s:
        info = s.create_batch(name, description, reuse=reuse)
    click.echo(info.batch_id)


@batch_group.command("list")
@api_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per batch.")
def batch_list(project_id: str, base_url: str, api_key_file: Path | None, as_json: bool) -> None:
    """List the project's batches (the default one included): id, name, jobs."""
    base = checked_base_url(base_url)
    key = load_api_key(api_key_file)
    with Submitter(project_id, key, base_url=base) as s:
        batches = s.batches()
    for b in batches:
        if as_json:
            click.echo(orjson.dumps(b).decode())
            continue
        default = "  (default)" if b.get("is_default") is True else ""
        jobs = b.get("total_jobs")
        count = f"  {jobs} jobs" if isinstance(jobs, int) else ""
        click.echo(f"{b['id']}  {b.get('name')}{count}{default}")
    if not as_json:
        click.echo(f"{len(batches)} batches in project {project_id}", err=True)


@click.command("status")
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all", "show_all", is_flag=True, help="List every failure, not the first 50.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def status_command(ledger: Path, show_all: bool, as_json: bool) -> None:
    """Counts by state and the failures recorded in a LEDGER.

    Exit 1 when any job failed, 0 otherwise."""
    with Ledger(ledger, readonly=True) as led:
        counts = led.counts()
        in_doubt = led.in_doubt()
        missing = led.rows_missing_job_id()
        failures = list(led.rows(JobState.FAILED))
        runs = led.runs()
    if as_json:
        doc = {
            "ledger": str(ledger),
            "counts": counts,
            "total": sum(counts.values()),
            "in_doubt": in_doubt,
            "missing_job_id": [
                {"reference_id": r.reference_id, "state": r.state, "reason": r.error_message}
                for r in missing
            ],
            "failed": [
                {"reference_id": r.reference_id, "code": r.error_code, "message": r.error_message}
                for r in failures
            ],
            "runs": runs,
        }
        click.echo(orjson.dumps(doc).decode())
        sys.exit(1 if failures else 0)
    width = max(len(k) for k in counts)
    for state, n in counts.items():
        click.echo(f"{state:<{width}}  {n}")
    click.echo(f"{'total':<{width}}  {sum(counts.values())}")
    if in_doubt:
        click.echo(f"{in_doubt} not created may have reached the API (resolved on the next run)")
    if missing:
        reasons = Counter(r.error_message or "not yet looked up" for r in missing)
        why = "; ".join(f"{n}: {m}" for m, n in reasons.most_common(5))
        click.echo(
            f"{len(missing)} created or existing without a known job_id (the next run looks "
            f"them up in their batch's listing): {why}"
        )
    if runs:
        last = runs[-1]
        click.echo(
            f"runs: {len(runs)}; last started {last['started_at']}"
            + (f", stopped: {last['stop_reason']}" if last["stop_reason"] else "")
            + ("" if last["finished_at"] else " (did not finish)")
        )
    exit_listing_failures(failures, show_all)


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
@click.option(
    "--seed",
    type=int,
    help="Seed of the fault draws and of the annotator (reproducible runs; annotator: 0).",
)
@click.option(
    "--annotate",
    type=click.FloatRange(0),
    metavar="SECONDS",
    help="Complete each job SECONDS after its creation and serve a result made from its "
    "pre-labels (nudged, deleted, added, relabelled; see docs/results.md).",
)
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
    annotate: float | None,
    quiet: bool,
) -> None:
    """Serve a local stand-in of the job API on 127.0.0.1 (for rehearsals and tests)."""
    from prelabel.submit.sandbox import Sandbox

    if api_key_file is not None:
        api_key = load_api_key(api_key_file).get_secret_value()
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
            annotate=annotate,
            annotate_seed=seed or 0,
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
