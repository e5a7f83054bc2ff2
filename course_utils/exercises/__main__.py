"""Exercise tools for the segcourse notebooks.

``python -m course_utils.exercises student --out DIR [NOTEBOOK ...]``
    Write the student notebooks (solutions replaced by stubs). A student notebook already in
    ``DIR`` that was edited is kept; the new version goes beside it (``NAME.new.ipynb``).
``python -m course_utils.exercises nbgrader-metadata NOTEBOOK ...``
    Stamp nbgrader's cell metadata and an autograded test cell after each exercise into the
    instructor notebooks, in place (idempotent; re-execute the notebooks afterwards).
``python -m course_utils.exercises assignments --out DIR [NOTEBOOK ...]``
    Build an nbgrader course folder (``source/``, ``nbgrader_config.py``) and release every
    lesson with ``nbgrader generate_assignment`` (``release/``).

Notebooks default to every lesson ``notebooks/NN_*.ipynb``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils.cli import check_output_folder, command, error_line
from course_utils.paths import repo_root


def _lessons() -> list[Path]:
    return sorted((repo_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.exercises",
                                     description="Exercise tools for the segcourse notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    student = sub.add_parser("student", help="write student notebooks (solutions replaced by stubs)")
    student.add_argument("--out", type=Path, required=True, help="folder for the student notebooks")
    student.add_argument("notebooks", nargs="*", type=Path,
                         help="instructor notebooks (default: every notebooks/NN_*.ipynb)")
    stamp = sub.add_parser("nbgrader-metadata",
                           help="stamp nbgrader cell metadata and autograded test cells into instructor notebooks")
    stamp.add_argument("notebooks", nargs="+", type=Path, help="instructor notebooks, changed in place")
    course = sub.add_parser("assignments", help="build an nbgrader course folder and release every lesson")
    course.add_argument("--out", type=Path, required=True, help="the course folder (e.g. build/nbgrader)")
    course.add_argument("--no-release", action="store_true", help="write source/ only, skip generate_assignment")
    course.add_argument("notebooks", nargs="*", type=Path,
                        help="instructor notebooks (default: every notebooks/NN_*.ipynb)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or _lessons()
    if not notebooks:
        parser.error("no notebooks found")
    try:
        if args.command == "student":
            from course_utils.exercises.notebook import write_student_notebooks

            check_output_folder(args.out, "--out")
            for written in write_student_notebooks(notebooks, args.out):
                print(written.message())
        elif args.command == "nbgrader-metadata":
            from course_utils.exercises.nbgrader import stamp_file

            for path in notebooks:
                print(f"{'stamped' if stamp_file(path) else 'unchanged'} {path}")
        else:
            from course_utils.exercises.nbgrader import build_course

            check_output_folder(args.out, "--out")
            for line in build_course(notebooks, args.out, release=not args.no_release):
                print(line)
    except (KeyError, RuntimeError) as err:  # an unknown exercise id; nbgrader failing (file errors: @command)
        print(f"error: {error_line(err)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
