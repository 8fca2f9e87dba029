"""docs/library.md is run, not just read.

- Every ``python`` block runs, in the order of the page, one namespace per section, in a
  scratch folder holding the repository's ``fixtures`` (the examples use those paths). A
  block right after a ``<!-- not run: why -->`` line needs what CI has not (a model file, a
  video, a real project): it is compiled, so it stays valid Python, and not run.
- The API reference lists exactly the names ``prelabel.__all__`` exports, and each listed
  signature names the parameters the real one has, in its order.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import prelabel

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "library.md"
BLOCK = re.compile(r"^(<!-- not run: [^>]*-->\n)?```python\n(.*?)^```", re.S | re.M)


def _sections() -> list[tuple[str, list[tuple[bool, str]]]]:
    parts = re.split(r"^## (.+)$", PAGE.read_text(encoding="utf-8"), flags=re.M)
    out = []
    for i in range(1, len(parts), 2):
        blocks = [(not skip, code) for skip, code in BLOCK.findall(parts[i + 1])]
        if blocks:
            out.append((parts[i], blocks))
    return out


SECTIONS = _sections()


def test_most_examples_run() -> None:
    runs = [run for _, blocks in SECTIONS for run, _ in blocks]
    assert sum(runs) >= 8, "the page's examples are run, but for the few that need a model"
    assert len(runs) - sum(runs) <= 5


@pytest.mark.parametrize(("title", "blocks"), SECTIONS, ids=[t for t, _ in SECTIONS])
def test_section_examples_run(
    title: str, blocks: list[tuple[bool, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if title.startswith("From binary masks"):
        pytest.importorskip("cv2", reason="from_masks needs the masks extra")
    if title.startswith("Closing the loop"):
        pytest.importorskip("PIL", reason="preview needs the preview extra")
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLAYMENT_API_KEY", raising=False)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for run, code in blocks:
        compiled = compile(code, f"docs/library.md ({title})", "exec")
        if run:
            exec(compiled, namespace)


def _reference() -> dict[str, str]:
    """name -> the signature text of its bullet (empty for a name listed without one)."""
    text = PAGE.read_text(encoding="utf-8").split("## API reference", 1)[1]
    return {
        m.group(1): m.group(2) or ""
        for m in re.finditer(r"^- `([A-Za-z_]\w*)(\(.*?\))?`", text, flags=re.M)
    }


def test_api_reference_lists_every_public_name() -> None:
    listed = set(_reference())
    public = {name for name in prelabel.__all__ if name != "__version__"}
    assert sorted(public - listed) == [], "exported but not in the API reference"
    assert sorted(listed - public) == [], "in the API reference but not exported"


def test_api_reference_signatures_name_the_real_parameters() -> None:
    wrong = []
    for name, text in _reference().items():
        if not text:
            continue
        listed = [
            p for p in re.findall(r"(?:^\(|,\s*)\**([A-Za-z_]\w*)(?==|,|\))", text) if p != "_"
        ]
        real = [
            p.name
            for p in inspect.signature(getattr(prelabel, name)).parameters.values()
            if p.name != "self"
        ]
        if listed != real:
            wrong.append(f"{name}: listed {listed}, real {real}")
    assert wrong == []
