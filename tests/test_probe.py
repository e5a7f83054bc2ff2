"""Issue 25, item 5: the library's own input probe, at a small size (see ``tests/probe.py``).

Every probed call must end as a clear error (ValueError/TypeError naming the argument) or a
correct result (checked by an independent oracle); the census is printed (``pytest -s``) and
written to ``$SEGCOURSE_PROBE_CENSUS`` when that is set, for the release note.
"""

from __future__ import annotations

import os

import pytest

from tests.probe import OTHER, run_case, table
from tests.probe_cases import cases

CASES = cases()
ROWS: list = []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_input_gets_a_clear_error_or_a_correct_result(case):
    rows = run_case(case)
    ROWS.extend(rows)
    others = [f"{arg} [{cls}]: {detail}" for _, arg, cls, verdict, detail in rows if verdict == OTHER]
    assert not others, f"{case.name}: " + "\n".join(others)


def test_census():
    """Print (and optionally record) the census of the calls above; every class must be exercised."""
    if not ROWS:
        pytest.skip("run together with the probe cases")
    text = table(ROWS)
    print("\n" + text)
    if os.environ.get("SEGCOURSE_PROBE_CENSUS"):
        with open(os.environ["SEGCOURSE_PROBE_CENSUS"], "w") as f:
            f.write(text + "\n")
    classes = {r[2] for r in ROWS}
    assert {"dtype", "shape", "range", "empty", "huge", "nan", "device", "order", "valid"} <= classes
