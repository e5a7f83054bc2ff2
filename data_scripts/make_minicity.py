"""Generate MiniCity, the offline Cityscapes stand-in, in the exact Cityscapes layout.

    python -m data_scripts.make_minicity [--root DIR] [--full] [--train N] [--val N] [--size H W] [--seed S]

Without ``--root`` it writes ``<data root>/minicity`` (quick size) or
``<data root>/minicity_full`` (``--full``: 1024x2048, as Cityscapes). Existing
files are kept, so an interrupted run continues; a folder generated with other
parameters is refused. Point ``$CITYSCAPES_DATASET`` at the folder to use it
with the official cityscapesscripts tools.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course_utils.cli import check_output_folder, command
from course_utils.data.minicity import default_params, write_minicity
from course_utils.env import is_full_mode
from course_utils.paths import data_root


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_scripts.make_minicity", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="dataset folder (default: <data root>/minicity[_full])")
    parser.add_argument("--full", action="store_true", help="full size and counts (default: follows SEGCOURSE_FULL)")
    parser.add_argument("--train", type=int, default=None, help="training frames")
    parser.add_argument("--val", type=int, default=None, help="validation frames")
    parser.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), default=None, help="frame size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes rendering in parallel")
    args = parser.parse_args(argv)
    full = args.full or is_full_mode()
    params = default_params(full)
    root = data_root() / ("minicity_full" if full else "minicity") if args.root is None else args.root
    if args.root is not None:
        check_output_folder(args.root, "--root")
    size = tuple(args.size) if args.size else params["size"]
    start = time.perf_counter()
    try:
        write_minicity(root, train_images=params["train_images"] if args.train is None else args.train,
                       val_images=params["val_images"] if args.val is None else args.val, size=size,
                       seed=args.seed, progress=True, workers=args.workers)
    except (ValueError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"MiniCity ready in {root} ({time.perf_counter() - start:.1f} s); "
          f"export CITYSCAPES_DATASET={root} to use it with cityscapesscripts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
