"""The options ``submit`` and ``results fetch`` share (prelabel/commands/_api.py): each is
accepted by both commands, declared the same way, and reaches the library's settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from prelabel.commands._api import (
    RATE_HELP,
    Transport,
    api_key_file_option,
    exit_listing_failures,
    quiet_option,
    transport_options,
)
from prelabel.commands.results import fetch_command
from prelabel.commands.submit import batch_create, batch_list, submit_command
from prelabel.submit.config import MAX_RESULT_BYTES, Limits, Retries, Timeouts


def _probe(*decorators: Any) -> click.Command:
    """A command with only the shared options; its callback returns what it is given."""

    def callback(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    for d in reversed(decorators):
        callback = d(callback)
    return click.command("probe")(callback)


SHARED = _probe(transport_options(), api_key_file_option, quiet_option).params


def _other_value(p: click.Parameter) -> tuple[list[str], Any]:
    """Command-line words giving ``p`` a value other than its default, and that value."""
    assert isinstance(p, click.Option)
    if p.is_flag:
        return [p.opts[-1]], True
    if isinstance(p.type, click.Path):
        return [p.opts[-1], "key.txt"], Path("key.txt")
    value = p.default + 1  # within every range declared (checked by click below)
    return [p.opts[-1], str(value)], value


def _commands(tmp_path: Path) -> dict[str, tuple[click.Command, list[str]]]:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("")
    ledger = tmp_path / "l.sqlite"
    ledger.write_bytes(b"")
    return {
        "submit": (submit_command, [str(jobs), "--project-id", "p"]),
        "results fetch": (fetch_command, [str(ledger), "-o", str(tmp_path / "out")]),
    }


def test_the_shared_set_is_what_the_decorators_declare() -> None:
    names = {p.name for p in SHARED}
    transport = {"concurrency", "rate", "max_attempts", "backoff_base", "timeout"}
    assert names == transport | {"api_key_file", "quiet"}


@pytest.mark.parametrize("param", SHARED, ids=lambda p: p.name)
@pytest.mark.parametrize("command", ["submit", "results fetch"])
def test_both_commands_accept_each_shared_option(
    tmp_path: Path, command: str, param: click.Parameter
) -> None:
    cmd, required = _commands(tmp_path)[command]
    mine = {p.name: p for p in cmd.params}
    assert param.name in mine, f"{command} lacks {param.opts}"
    theirs = mine[param.name]
    assert theirs.opts == param.opts
    assert theirs.type.to_info_dict() == param.type.to_info_dict()
    assert theirs.default == param.default
    words, value = _other_value(param)
    ctx = cmd.make_context(command, [*required, *words])
    assert ctx.params[str(param.name)] == value


def test_shared_option_texts_are_the_same_in_both_but_the_rate(tmp_path: Path) -> None:
    by_command = {
        name: {p.name: p for p in cmd.params if isinstance(p, click.Option)}
        for name, (cmd, _) in _commands(tmp_path).items()
    }
    submit, fetch = by_command["submit"], by_command["results fetch"]
    for p in SHARED:
        assert isinstance(p, click.Option)
        if p.name == "rate":  # fetch says which requests it paces
            assert submit["rate"].help == RATE_HELP
            assert fetch["rate"].help == "API requests per second for the whole run; 0 = unlimited."
        else:
            assert submit[str(p.name)].help == fetch[str(p.name)].help == p.help


def test_batch_commands_share_the_api_options() -> None:
    for cmd in (batch_create, batch_list):
        names = {p.name for p in cmd.params}
        assert {"project_id", "base_url", "api_key_file"} <= names
        assert not {"concurrency", "rate", "quiet"} & names


def test_transport_values_reach_the_command_as_one_argument() -> None:
    probe = _probe(transport_options())
    ctx = probe.make_context("probe", ["--concurrency", "7", "--rate", "0", "--timeout", "2.5"])
    got = probe.invoke(ctx)
    assert got == {
        "transport": Transport(
            concurrency=7, rate=0.0, max_attempts=8, backoff_base=0.5, timeout=2.5
        )
    }


def test_transport_settings_are_the_library_settings() -> None:
    t = Transport(concurrency=3, rate=1.5, max_attempts=2, backoff_base=0.25, timeout=9.0)
    s = t.settings()
    assert s["retries"] == Retries(max_attempts=2, backoff=0.25)
    assert s["limits"] == Limits(concurrency=3, rate=1.5)
    assert s["limits"].result_bytes == MAX_RESULT_BYTES
    assert s["timeouts"] == Timeouts(request=9.0)
    capped = t.settings(result_bytes=1234)["limits"]
    assert capped == Limits(concurrency=3, rate=1.5, result_bytes=1234)


def test_a_value_out_of_range_is_refused_by_both(tmp_path: Path) -> None:
    for name, (cmd, required) in _commands(tmp_path).items():
        with pytest.raises(click.BadParameter) as caught:
            cmd.make_context(name, [*required, "--concurrency", "0"])
        assert caught.value.param is not None
        assert caught.value.param.name == "concurrency"


@dataclass(frozen=True)
class _Row:
    reference_id: str
    error_code: str | None
    error_message: str | None


@pytest.mark.parametrize(
    ("n", "show_all", "lines", "code"),
    [(0, False, 0, 0), (51, False, 51, 1), (51, True, 51, 1), (3, False, 3, 1)],
)
def test_both_status_commands_end_by_listing_failures(
    capsys: pytest.CaptureFixture[str], n: int, show_all: bool, lines: int, code: int
) -> None:
    rows = [_Row(f"r{i}", "http_400", f"bad {i}") for i in range(n)]
    with pytest.raises(SystemExit) as ended:
        exit_listing_failures(rows, show_all)
    assert ended.value.code == code
    out = capsys.readouterr().out.splitlines()
    # 51 without --all: the first 50 and one line counting the rest
    assert len(out) == lines
    if n:
        assert out[0] == "failed r0: http_400: bad 0"
    if n > 50 and not show_all:
        assert out[-1] == "... and 1 more failures (--all)"
    elif n:
        assert out[-1] == f"failed r{n - 1}: http_400: bad {n - 1}"
