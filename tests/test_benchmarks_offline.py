import json
import subprocess
import sys

import pytest

from benchmarks.core import all_benchmarks, compare, median_time
from course_utils.data.offline import offline_preparers, prepare_all
from tests.notebook_utils import ROOT


def test_benchmark_runner_json_row_at_tiny_size():
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--json", "--tiny", "--only", "image_to_tensor"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    rows = json.loads(proc.stdout)
    assert len(rows) == 1
    assert set(rows[0]) >= {"name", "ours_s", "reference", "reference_s", "ratio", "agreement", "device"}
    assert rows[0]["agreement"] == 1.0 and rows[0]["ours_s"] > 0


def test_benchmark_runner_rejects_unknown_names():
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "nope"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "nope" in proc.stderr


def test_all_benchmarks_have_unique_names_and_compare_computes_ratio():
    assert "image_to_tensor" in all_benchmarks()
    row = compare("x", lambda: 1, lambda: 1, "ref", lambda a, b: float(a == b), repeats=2)
    assert row.agreement == 1.0 and row.ratio is not None
    with pytest.raises(ValueError, match="repeats"):
        median_time(lambda: 0, repeats=0)


def test_offline_preparers_are_discovered_and_unknown_names_refused(tmp_path):
    preparers = offline_preparers()
    assert all(callable(p) for p in preparers.values())
    with pytest.raises(ValueError, match="unknown"):
        prepare_all(tmp_path, only=["no_such_dataset"])
