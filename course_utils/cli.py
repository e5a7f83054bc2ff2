"""What every command does with a user's mistake or a damaged file: one line on stderr, exit status 2.

Every ``python -m ...`` entry point of the course wraps its ``main`` in
:func:`command`: a bad file (missing, empty, truncated, corrupt image, JSON or
checkpoint), a folder where a file is expected (or the reverse), an unavailable
device, an invalid value or a training that diverged (``FloatingPointError``) becomes ``error: <one line naming the file or flag>``
and exit status 2, as each command's ``--help`` promises. Programming errors
(``TypeError``, ``KeyError``, ...) keep their traceback.

Writers use :func:`write_text_atomic` / :func:`atomic_file`: a file appears
whole or not at all, so an interrupted command never leaves half a file behind.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["EXIT_USAGE", "command", "error_line", "write_text_atomic", "write_bytes_atomic", "temporary_path",
           "atomic_file", "check_output_folder", "read_json"]

#: The exit status of a command refused on bad input (argparse's own usage errors exit 2 as well).
EXIT_USAGE = 2


def error_line(err: BaseException) -> str:
    """``err`` as one line that names the file when the exception knows it."""
    text = str(err)
    if isinstance(err, OSError) and getattr(err, "filename", None) is not None:
        reason = err.strerror or text
        if isinstance(err, IsADirectoryError):
            reason = "is a folder, expected a file"
        elif isinstance(err, NotADirectoryError):
            reason = "a file stands where a folder is expected"
        elif isinstance(err, FileExistsError) and not err.strerror:
            reason = text
        text = f"{err.filename}: {reason}"
    text = " ".join((text or type(err).__name__).split())
    return text


def _handled() -> tuple[type[BaseException], ...]:
    import pickle

    from course_utils.env import DeviceError

    return (OSError, ValueError, EOFError, pickle.UnpicklingError, DeviceError, FloatingPointError)


def command(main: Callable[..., int]) -> Callable[..., int]:
    """Decorate a command's ``main(argv) -> int``: handled errors print one line and return 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except _handled() as err:
            print(f"error: {error_line(err)}", file=sys.stderr)
            return EXIT_USAGE

    return wrapper


def temporary_path(path: str | os.PathLike) -> Path:
    """A hidden sibling of ``path`` with its extension (image writers pick the format from it), to write
    first and then rename over ``path`` (same folder, so the rename is atomic)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """``with atomic_file(p) as tmp: write(tmp)``: ``p`` appears whole when the block ends, or not at all."""
    path = Path(path)
    tmp = temporary_path(path)
    try:
        yield tmp
        if not tmp.exists():
            raise OSError(f"could not write {path}")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (a temporary file renamed over it)."""
    path = Path(path)
    tmp = temporary_path(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def check_output_folder(path: str | os.PathLike, name: str = "out") -> Path:
    """``path`` as a folder to write into: refused (ValueError naming ``name``) when a file stands there."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name}={path} is a file, not a folder: choose another {name}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{name}={path} lies under {parent}, which is a file, not a folder")
            break
    return path


def read_json(path: str | os.PathLike, what: str = "file"):
    """The JSON in ``path``; a damaged (empty, truncated, not UTF-8) file raises ValueError naming it."""
    import json

    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{what} {path} is not valid JSON ({' '.join(str(err).split())}); it may be truncated: "
                         "delete it (or its folder) and run again") from err
