"""Download COCO 2017 images and the COCO-stuff stuffthingmaps, verify, extract.

    python -m data_scripts.download_coco_stuff [--root DIR] [--train] [--download-dir DIR]

By default only the val split (5,000 images, 1 GB) and the label maps
(659 MB, both splits) are fetched; ``--train`` adds the 118,287 training
images (18 GB).  The result is DIR/images/{val2017,train2017} and
DIR/annotations/{val2017,train2017} (label PNGs: ids 0-181, 255 = unlabeled;
see course_utils.data.coco_stuff for the 171-class mapping).  Point the
notebooks to it with ``export COCO_STUFF_ROOT=DIR``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course_utils.cli import command
from course_utils.data.download import DownloadError
from course_utils.data.sources import COCO_STUFF_ENV, fetch_coco_stuff
from course_utils.paths import data_root


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_scripts.download_coco_stuff",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help=f"destination (default: ${COCO_STUFF_ENV}, else <data>/coco_stuff)")
    parser.add_argument("--train", action="store_true", help="also fetch train2017.zip (18 GB)")
    parser.add_argument("--download-dir", type=Path, default=None, help="where archives are kept (default: ROOT/downloads)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    root = args.root or Path(os.environ.get(COCO_STUFF_ENV) or data_root() / "coco_stuff")
    splits = ("val", "train") if args.train else ("val",)
    try:
        fetch_coco_stuff(root, splits=splits, download_dir=args.download_dir, progress=not args.no_progress)
    except (DownloadError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130
    print(f"COCO-stuff ({', '.join(splits)}) is ready in {root}")
    print(f"use it in the notebooks with:  export {COCO_STUFF_ENV}={root.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
