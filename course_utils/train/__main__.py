"""Training entry points: ``python -m course_utils.train deeplab ...`` (also under ``torchrun``), ``... fcn``.

See ``python -m course_utils.train deeplab --help``.
"""

from __future__ import annotations

import sys

# command -> (module, function)
_COMMANDS = {"deeplab": ("course_utils.train.deeplab", "main"), "fcn": ("course_utils.train.course", "fcn_main"),
             "record": ("course_utils.train.course", "record_main")}


def main(argv: list[str] | None = None) -> int:
    import importlib

    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in _COMMANDS:
        given = repr(argv[0]) if argv else "nothing"
        print(f"usage: python -m course_utils.train {{{','.join(_COMMANDS)}}} ...\n"
              f"error: expected a command ({', '.join(_COMMANDS)}), got {given}", file=sys.stderr)
        return 2
    module, function = _COMMANDS[argv[0]]
    return getattr(importlib.import_module(module), function)(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
