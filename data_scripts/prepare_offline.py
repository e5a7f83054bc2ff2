"""Prepare the offline default datasets (procedural data in the real datasets' layouts).

    python -m data_scripts.prepare_offline [--root DIR] [--full] [--only NAME ...]

Existing complete datasets are left as they are.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course_utils.cli import command
from course_utils.data.offline import offline_preparers, prepare_all
from course_utils.env import is_full_mode
from course_utils.paths import data_root


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_scripts.prepare_offline", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="data folder (default: $SEGCOURSE_DATA or ./data)")
    parser.add_argument("--full", action="store_true", help="full-size data (default: follows SEGCOURSE_FULL)")
    parser.add_argument("--only", nargs="*", default=None, help=f"datasets to prepare: {sorted(offline_preparers())}")
    args = parser.parse_args(argv)
    root = args.root or data_root()
    full = args.full or is_full_mode()
    start = time.perf_counter()
    try:
        done = prepare_all(root, full=full, only=args.only)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for name, path in done.items():
        print(f"{name:<12} {path}")
    print(f"offline data ready under {root} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
