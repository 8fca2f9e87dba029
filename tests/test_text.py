"""The one definition of the characters ids may not hold."""

from __future__ import annotations

import pytest

from prelabel.errors import printable
from prelabel.schema import _id
from prelabel.text import ID_CONTROL, first_control

CHARS = [chr(i) for i in range(0x250)] + ["\u2028", "\u2029", "\ufeff"]


def test_ids_may_not_hold_c0_del_or_c1() -> None:
    # C0 is U+0000..U+001F, DEL U+007F, C1 U+0080..U+009F: 32 + 1 + 32 = 65 characters
    refused = [c for c in CHARS if ID_CONTROL.search(c)]
    assert len(refused) == 65
    assert refused == [chr(i) for i in [*range(0x20), *range(0x7F, 0xA0)]]


def test_the_schema_refuses_exactly_those() -> None:
    def schema_refuses(c: str) -> bool:
        try:
            _id(f"a{c}")
        except ValueError:
            return True
        return False

    assert [c for c in CHARS if schema_refuses(c)] == [c for c in CHARS if ID_CONTROL.search(c)]


@pytest.mark.parametrize(("text", "where"), [("ab\ncd", "U+000A at 2"), ("\x00", "U+0000 at 0")])
def test_first_control_names_the_character_and_its_place(text: str, where: str) -> None:
    assert first_control(text) == where


def test_printable_also_escapes_line_separators() -> None:
    # U+2028 is no control character for ids, but a terminal breaks the line there
    assert first_control("a\u2028b") is None
    assert printable("a\u2028b\nc") == "a\\u2028b\\nc"
