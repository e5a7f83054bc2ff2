"""Download Cityscapes with your account, verify the site's MD5s, extract, optionally make train ids.

    python -m data_scripts.download_cityscapes [--root DIR] [--train-ids] [--packages NAME ...]

Needs a Cityscapes account (https://www.cityscapes-dataset.com/register/).
The username and password are read from CITYSCAPES_USERNAME and
CITYSCAPES_PASSWORD or, in a terminal, asked for (the password is not
echoed); they are never stored and never printed.  By default it fetches
gtFine_trainvaltest.zip (packageID 1, 241 MB) and leftImg8bit_trainvaltest.zip
(packageID 3, 11 GB).  ``--train-ids`` then writes *_gtFine_labelTrainIds.png
with the official cityscapesscripts.preparation.createTrainIdLabelImgs.
Point the notebooks (and cityscapesscripts) to it with
``export CITYSCAPES_DATASET=DIR``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course_utils.cli import command
from course_utils.data.download import DownloadError
from course_utils.data.sources import CITYSCAPES_ENV, CITYSCAPES_PACKAGES, create_cityscapes_train_ids, fetch_cityscapes
from course_utils.paths import data_root


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_scripts.download_cityscapes",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help=f"destination (default: ${CITYSCAPES_ENV}, else <data>/cityscapes)")
    parser.add_argument("--packages", nargs="+", default=list(CITYSCAPES_PACKAGES),
                        help=f"package names as the site lists them (default: {' '.join(CITYSCAPES_PACKAGES)})")
    parser.add_argument("--train-ids", action="store_true",
                        help="write *_labelTrainIds.png with cityscapesscripts' createTrainIdLabelImgs")
    parser.add_argument("--train-ids-only", action="store_true",
                        help="only convert an already extracted dataset (no login, no download)")
    parser.add_argument("--download-dir", type=Path, default=None, help="where archives are kept (default: ROOT/downloads)")
    parser.add_argument("--site", default=None, help=argparse.SUPPRESS)  # tests point this at a local server
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    root = args.root or Path(os.environ.get(CITYSCAPES_ENV) or data_root() / "cityscapes")
    try:
        if args.train_ids_only:
            count = create_cityscapes_train_ids(root)
            print(f"wrote {count} *_labelTrainIds.png files under {root}")
            return 0
        extra = {"site": args.site} if args.site else {}
        fetch_cityscapes(root, packages=args.packages, train_ids=args.train_ids, download_dir=args.download_dir,
                         progress=not args.no_progress, **extra)
    except (DownloadError, FileExistsError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130
    print(f"Cityscapes is ready in {root}")
    print(f"use it in the notebooks with:  export {CITYSCAPES_ENV}={root.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
