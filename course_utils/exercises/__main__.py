"""``python -m course_utils.exercises student --out DIR [NOTEBOOK ...]``: write the student notebooks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils.cli import command
from course_utils.exercises.notebook import write_student_notebooks
from course_utils.paths import repo_root


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.exercises",
                                     description="Exercise tools for the segcourse notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    student = sub.add_parser("student", help="write student notebooks (solutions replaced by stubs)")
    student.add_argument("--out", type=Path, required=True, help="folder for the student notebooks")
    student.add_argument("notebooks", nargs="*", type=Path,
                         help="instructor notebooks (default: every notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((repo_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        parser.error("no notebooks found")
    try:
        written = write_student_notebooks(notebooks, args.out)
    except (FileNotFoundError, FileExistsError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
