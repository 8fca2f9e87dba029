"""The README's two set-up commands are the ones CI runs."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    demo = (ROOT / ".ci" / "demo").read_text()
    test_cmd = "pip install -e '.[test]' && python -m pytest -q"
    main_job = (
        "prelabel convert coco fixtures/coco/instances.json --src-prefix "
        "https://images.example.com/ -o out/jobs.jsonl && prelabel validate out/jobs.jsonl"
    )
    assert test_cmd in readme
    assert test_cmd.replace("pip install", "pip install --quiet") in ci
    assert main_job in readme
    assert main_job in demo
