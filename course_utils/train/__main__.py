"""Training entry points (``deeplab`` also runs under ``torchrun``)::

    python -m course_utils.train deeplab [--recipe course] --model {largefov,vgg_aspp,aspp,largefov_wide} ...
    python -m course_utils.train fcn --recipe course [--out DIR] ...
    python -m course_utils.train fcn-select --data scenes [--device cuda] [--jobs N] [--out DIR]
    python -m course_utils.train epoch-check [--write]
    python -m course_utils.train record {deeplab,fcn} --run DIR --device-note TEXT [--seed-run]
    python -m course_utils.train record unseen --checkpoint NAME... [--data-seeds S ...]
    python -m course_utils.train report [--write README.md | --check README.md]
    python -m course_utils.train seeds [--seeds 0 1 2] [--device cuda] [--jobs N] [--dry-run]

``record`` ships a ``--recipe course`` run as a course checkpoint (:mod:`course_utils.checkpoints`).
"""

from __future__ import annotations

import importlib
import sys

# command -> (module, function); modules are imported on demand (each pulls in its own stack)
_COMMANDS = {
    "deeplab": ("course_utils.train.deeplab", "main"),
    "fcn": ("course_utils.train.fcn", "main"),
    "fcn-select": ("course_utils.train.fcn_select", "main"),
    "epoch-check": ("course_utils.train.epoch_check", "main"),
    "record deeplab": ("course_utils.train.record", "record_deeplab_main"),
    "record fcn": ("course_utils.train.record", "record_fcn_main"),
    "record unseen": ("course_utils.train.record", "record_unseen_main"),
    "report": ("course_utils.train.report", "main"),
    "seeds": ("course_utils.train.seeds", "main"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    key = " ".join(argv[:2]) if argv[:1] == ["record"] else (argv[0] if argv else "")
    if key not in _COMMANDS:
        given = repr(key) if key else "nothing"
        print(f"usage: python -m course_utils.train {{{', '.join(_COMMANDS)}}} ...\n"
              f"error: expected a command ({', '.join(_COMMANDS)}), got {given}", file=sys.stderr)
        return 2
    module, function = _COMMANDS[key]
    return getattr(importlib.import_module(module), function)(argv[len(key.split()):])


if __name__ == "__main__":
    sys.exit(main())
