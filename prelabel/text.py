"""Characters that text prelabel writes may not hold, defined once.

An id (``reference_id``, ``frame_id``, tracker ``_id``, frame keys) may not contain C0
controls, DEL or C1 controls: they are invisible in a report and a NUL ends the string in C
code. The schema refuses them, the job builder refuses to write them, and the readers refuse
names that would give them, all through :data:`ID_CONTROL`. Printed messages escape the same
set plus Unicode's line and paragraph separators (:data:`LINE_BREAKING`), so a name cannot
split an error into lines.
"""

from __future__ import annotations

import re

ID_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def first_control(text: str) -> str | None:
    """``U+000A at 3`` for the first character an id may not hold, or None."""
    bad = ID_CONTROL.search(text)
    return None if bad is None else f"U+{ord(bad.group()):04X} at {bad.start()}"
