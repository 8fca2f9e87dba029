"""``prelabel results fetch`` and ``results status``: the CLI over
:mod:`prelabel.submit.results`.

Exit codes: 0 every created job's result is fetched (now or before) or the job is still
waiting; 1 some result could not be fetched, a job has no job_id, or the run stopped (rerun
the same command); 2 bad input or options (nothing fetched).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from prelabel.commands._api import (
    FiniteRange,
    Transport,
    api_key_file_option,
    exit_listing_failures,
    quiet_option,
    run,
    transport_options,
)
from prelabel.commands._outputs import refuse_replacing
from prelabel.errors import InputError, printable
from prelabel.submit.client import RESUME_HINT, Submitter, load_api_key
from prelabel.submit.ledger import Ledger, ResultState
from prelabel.submit.results import FetchOutcome, FetchResult, FetchStatus, said

MAX_SHOWN = 20
MAX_REF_SHOWN = 200
PROGRESS_ORDER = (*(s.value for s in FetchStatus), "retries")
# ``results status`` lines: count key -> label
STATUS_LINES = (
    ("created", "created"),
    ("not_checked", "not checked yet"),
    ("waiting", "not completed"),
    ("completed", "completed, not fetched"),
    ("fetched", "fetched"),
    ("failed", "failed"),
    ("no_job_id", "no job_id"),
)


@click.group("results")
def results_group() -> None:
    """Results of completed jobs: fetch them, count them."""


@results_group.command(
    "fetch", short_help="Save every completed job's result as DIR/<reference_id>.json."
)
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Folder for the results, one <reference_id>.json per job (created if missing).",
)
@api_key_file_option
@click.option(
    "--base-url",
    help="API root (default: the one the ledger records; another one is refused).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON Lines report, one line per job: status, job status, file, error code.",
)
@transport_options(rate_help="API requests per second for the whole run; 0 = unlimited.")
@click.option(
    "--max-result-mb",
    default=256.0,
    show_default=True,
    type=FiniteRange(0, min_open=True),
    metavar="M",
    help="A result file longer than this (MiB) is refused, not saved.",
)
@quiet_option
def fetch_command(
    ledger: Path,
    output_dir: Path,
    api_key_file: Path | None,
    base_url: str | None,
    report: Path | None,
    transport: Transport,
    max_result_mb: float,
    quiet: bool,
) -> None:
    """Save the result of every completed job of LEDGER as DIR/<reference_id>.json.

    Jobs not completed yet are listed and left for the next run; results fetched before
    are not fetched again. The project and the API are the ones the ledger records; the
    key comes from $PLAYMENT_API_KEY or --api-key-file and never goes to the storage host
    the attachments API redirects to.

    Exit 0 when every job is fetched or still waiting, 1 when some failed or the run
    stopped (rerun the same command), 2 for bad input or options.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(output_dir, None, "--output-dir is not a folder")
    if report is not None:
        _check_report(report, ledger, output_dir)
    key = load_api_key(api_key_file)
    result: FetchResult | None = None
    with Ledger(ledger, lock=True) as led:
        project_id, bound_url = led.bound()
        total = len(led.fetchable())
        submitter = Submitter(
            project_id,
            key,
            base_url=base_url or bound_url,
            ledger=led,
            **transport.settings(result_bytes=max(1, int(max_result_mb * (1 << 20)))),
        )
        with run(submitter, total, desc="fetch", quiet=quiet, order=PROGRESS_ORDER) as (bar, _):
            result = submitter.fetch_results(
                output_dir, on_outcome=lambda o: bar.update(1, **{o.status.value: 1})
            )
    assert result is not None
    _finish(result, report, ledger, output_dir)


def _check_report(report: Path, ledger: Path, output_dir: Path) -> None:
    """Refuse, before any request, a report that would replace the ledger or sit among the
    results (it is written after the run by replacing its file)."""
    from prelabel.writer import check_output

    check_output(report, "--report")
    refuse_replacing("--report", report, [("the ledger", ledger)])
    if output_dir.resolve() in report.resolve().parents:
        raise InputError(
            report,
            None,
            "--report is inside --output-dir, which holds the results only",
        )


def _finish(result: FetchResult, report: Path | None, ledger: Path, out: Path) -> None:
    if report is not None:
        from prelabel.writer import write_jsonl

        write_jsonl(report, (orjson.dumps(o.to_dict()) for o in result.outcomes))
    click.echo(printable(result.summary()), err=True)
    _listed("waiting", result.waiting, report)
    _listed("problem", result.problems, report)
    where = f"results: {out}; ledger: {ledger}" + (f"; report: {report}" if report else "")
    click.echo(printable(where), err=True)
    if result.stop_reason:
        click.echo(printable(f"stopped: {result.stop_reason}; {RESUME_HINT}"), err=True)
    sys.exit(0 if result.ok else 1)


def _listed(what: str, outcomes: list[FetchOutcome], report: Path | None) -> None:
    for o in outcomes[:MAX_SHOWN]:
        ref = said(o.reference_id, MAX_REF_SHOWN)  # the report has it whole
        if o.status is FetchStatus.WAITING:
            line = f"waiting {ref} (job status: {o.job_status})"
        else:
            line = f"{ref}: {o.status}: {o.error_code or '-'}: {o.error_message or ''}"
        click.echo(printable(line), err=True)
    more = len(outcomes) - MAX_SHOWN
    if more > 0:
        hint = "see --report" if report is None else f"see {report}"
        click.echo(f"... and {more} more {what} lines ({hint})", err=True)


@results_group.command(
    "status", short_help="Count the ledger's jobs by result: waiting, fetched, failed."
)
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all", "show_all", is_flag=True, help="List every failure, not the first 50.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def status_command(ledger: Path, show_all: bool, as_json: bool) -> None:
    """Counts of LEDGER's created jobs by result: not completed, completed but not
    fetched, fetched, failed. Exit 1 when any result failed, 0 otherwise."""
    with Ledger(ledger, readonly=True) as led:
        counts = led.result_counts()
        failures = led.result_rows(ResultState.FAILED)
    if as_json:
        doc = {
            "ledger": str(ledger),
            "counts": counts,
            "failed": [
                {
                    "reference_id": r.reference_id,
                    "job_status": r.job_status,
                    "code": r.error_code,
                    "message": r.error_message,
                }
                for r in failures
            ],
        }
        click.echo(orjson.dumps(doc).decode())
        sys.exit(1 if failures else 0)
    width = max(len(label) for _, label in STATUS_LINES)
    for k, label in STATUS_LINES:
        click.echo(f"{label:<{width}}  {counts[k]}")
    exit_listing_failures(failures, show_all)
