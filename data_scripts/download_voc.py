"""Download PASCAL VOC 2012 trainval (and optionally SBD), verify the published MD5s, extract.

    python -m data_scripts.download_voc [--root DIR] [--sbd] [--download-dir DIR] [--mirror URL]

The result is DIR/VOCdevkit/VOC2012 (torchvision's VOCSegmentation layout);
point the notebooks to it with ``export VOC_ROOT=DIR``.  Rerunning resumes an
interrupted download and skips what is already verified and extracted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course_utils.cli import command
from course_utils.data.download import DownloadError, check_url
from course_utils.data.sources import VOC_ENV, fetch_voc
from course_utils.paths import data_root


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_scripts.download_voc", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help=f"destination (default: ${VOC_ENV}, else <data>/voc2012)")
    parser.add_argument("--sbd", action="store_true", help="also fetch the SBD augmented set (1.4 GB)")
    parser.add_argument("--download-dir", type=Path, default=None, help="where archives are kept (default: ROOT/downloads)")
    parser.add_argument("--mirror", default=None, help="another address of VOCtrainval_11-May-2012.tar (same MD5)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    root = args.root or Path(os.environ.get(VOC_ENV) or data_root() / "voc2012")
    if args.mirror is not None:
        check_url(args.mirror, "--mirror")
    try:
        fetch_voc(root, sbd=args.sbd, download_dir=args.download_dir, mirror=args.mirror,
                  progress=not args.no_progress)
    except (DownloadError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130
    print(f"PASCAL VOC 2012 is ready in {root / 'VOCdevkit' / 'VOC2012'}")
    print(f"use it in the notebooks with:  export {VOC_ENV}={root.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
