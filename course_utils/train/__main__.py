"""Training entry points: ``python -m course_utils.train deeplab ...`` (also under ``torchrun``).

See ``python -m course_utils.train deeplab --help``.
"""

from __future__ import annotations

import sys

_COMMANDS = {"deeplab": "course_utils.train.deeplab"}


def main(argv: list[str] | None = None) -> int:
    import importlib

    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in _COMMANDS:
        given = repr(argv[0]) if argv else "nothing"
        print(f"usage: python -m course_utils.train {{{','.join(_COMMANDS)}}} ...\n"
              f"error: expected a command ({', '.join(_COMMANDS)}), got {given}", file=sys.stderr)
        return 2
    return importlib.import_module(_COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
