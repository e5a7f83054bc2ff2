"""Generate the synthetic PASCAL VOC 2012 layout (the offline stand-in for PASCAL VOC).

    python -m data_scripts.make_voc_synthetic [--root DIR] [--seed S] [--train N] [--val N] [--size H W] [--workers N]
                                              [--style clipart|scenes]

The defaults are those of the data the course's FCN recipe trains on (``--style`` defaults to
``COURSE_FCN["data"]``; the counts, size and seed are ``course_utils.data.voc.COURSE_VOC`` for the
clipart, ``COURSE_VOC_SCENES`` for the scenes), so another ``--seed`` gives new images of the same kind
to check the checkpoints on (``python -m course_utils.evaluate fcn --checkpoint fcn-8s --data-root DIR``,
or ``--data-seed S``, which generates them itself). A rerun verifies every file against the manifest
(size and checksum): missing files are drawn, changed or truncated ones are named and left as they are;
a folder made with other arguments, or holding a real VOC, is refused. ``--style scenes`` draws the
VOC-like scenes (2-4 objects of all 20 classes in rooms and outdoors), ``--style clipart`` one clipart
object on a blurred background.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course_utils._shared import check_choice, check_int
from course_utils.cli import check_output_folder, command
from course_utils.data.voc import COURSE_VOC, COURSE_VOC_SCENES, write_synthetic_voc
from course_utils.images import check_size
from course_utils.paths import data_root
from course_utils.train.fcn import COURSE_FCN


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_scripts.make_voc_synthetic",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help="folder that gets VOCdevkit/VOC2012 (default: <data root>/voc_synthetic/seed<S>, "
                             "scenes-seed<S> for the scenes)")
    parser.add_argument("--seed", type=int, default=None, help="default: the course data's seed")
    parser.add_argument("--train", type=int, default=None, help="training images (default: the course data's)")
    parser.add_argument("--val", type=int, default=None, help="validation images (default: the course data's)")
    parser.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), default=None,
                        help="image size in pixels (default: the course data's)")
    parser.add_argument("--workers", type=int, default=1, help="processes drawing in parallel")
    parser.add_argument("--style", default=COURSE_FCN["data"],
                        help=f"clipart (one object on a blurred background) or scenes (VOC-like scenes); default "
                             f"{COURSE_FCN['data']}, the data of the course's FCN recipe")
    args = parser.parse_args(argv)
    check_choice(args.style, "--style", ("clipart", "scenes"))
    course = COURSE_VOC if args.style == "clipart" else COURSE_VOC_SCENES  # the defaults of that data
    for flag, key in (("seed", "seed"), ("train", "n_train"), ("val", "n_val"), ("size", "size")):
        if getattr(args, flag) is None:
            setattr(args, flag, course[key])
    # every flag checked before anything is written, each error naming the flag
    check_int(args.seed, "--seed", 0)
    check_int(args.train, "--train", 0)
    check_int(args.val, "--val", 0)
    if args.train + args.val == 0:
        raise ValueError("--train and --val are both 0: nothing to generate")
    check_size(args.size, "--size", 8)
    check_int(args.workers, "--workers", 1, 256)
    if args.root is not None:
        check_output_folder(args.root, "--root")
    default_name = f"seed{args.seed}" if args.style == "clipart" else f"scenes-seed{args.seed}"
    root = args.root or data_root() / "voc_synthetic" / default_name
    start = time.perf_counter()
    write_synthetic_voc(root, n_train=args.train, n_val=args.val, size=tuple(args.size), seed=args.seed,
                        workers=args.workers, style=args.style)
    print(f"synthetic VOC ready in {root} ({time.perf_counter() - start:.1f} s); "
          f"export VOC_ROOT={root} to use it as PASCAL VOC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
