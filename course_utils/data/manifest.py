"""What a generator wrote, checked on every rerun: the size and BLAKE2b digest of each file.

A generator of offline data (the synthetic VOC, the DUTS-layout saliency set) keeps a
:class:`Manifest` in the folder it owns. On a rerun every file it claims is verified against its
record: a missing file is drawn again; a file that was truncated or changed is never trusted and
never overwritten either, but refused with an error naming it. New files are written through a
per-process temporary file (:func:`course_utils.cli.atomic_file`), so two runs on one folder never
share a temporary name and a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from course_utils.cli import atomic_file, read_json, write_text_atomic

__all__ = ["MANIFEST_NAME", "Manifest", "file_record"]

#: The manifest's file name, in the folder the generator owns.
MANIFEST_NAME = "SEGCOURSE_MANIFEST.json"


def file_record(path: str | Path) -> dict:
    """``{"size": bytes, "blake2b": hex digest}`` of the file at ``path``."""
    digest = hashlib.blake2b(digest_size=16)
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "blake2b": digest.hexdigest()}


class Manifest:
    """The records of the files under ``folder`` that a generator wrote (paths relative to ``folder``).

    A damaged manifest counts as empty: its files are then drawn again, never trusted.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / MANIFEST_NAME
        self.records: dict[str, dict] = {}
        self.refused: list[str] = []
        if self.path.is_file():
            try:
                found = read_json(self.path, "manifest")
            except ValueError:
                found = {}
            if isinstance(found, dict):
                self.records = {k: v for k, v in found.get("files", {}).items() if isinstance(v, dict)}

    def verified(self, relative: str) -> bool:
        """Whether the file exists with the recorded size and digest."""
        record = self.records.get(relative)
        path = self.folder / relative
        if record is None or not path.is_file() or path.stat().st_size != record.get("size"):
            return False
        return file_record(path) == record

    def adopt(self, relative: str, check: Callable[[Path], bool]) -> bool:
        """Record a file that has no record yet if ``check(path)`` accepts it (e.g. it decodes fully).

        For files written before manifests existed, or by a run stopped before saving its manifest
        (whole either way: files are renamed into place). A file with a record is never adopted.
        """
        path = self.folder / relative
        if relative in self.records or not path.is_file() or not check(path):
            return False
        self.records[relative] = file_record(path)
        return True

    def ensure(self, relative: str, write: Callable[[Path], None], check: Callable[[Path], bool] | None = None) -> bool:
        """Make sure ``relative`` is the file this generator wrote; write it if it is missing. True if written.

        A file with a record must match it; a file without one is adopted if ``check`` accepts it
        (:meth:`adopt`). A file that does neither is never overwritten: it was changed or damaged
        (truncated) since it was written, or is someone else's; it is listed in :attr:`refused`,
        and :meth:`close` raises a ValueError naming it once every other file is in place.
        """
        path = self.folder / relative
        if self.verified(relative) or (check is not None and self.adopt(relative, check)):
            return False
        if path.exists() or path.is_symlink():
            why = ("differs from what segcourse wrote there (size or checksum): it was changed or damaged"
                   if relative in self.records else "was not written by segcourse, or is damaged")
            self.refused.append(f"{path} {why}")
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path) as tmp:
            write(tmp)
            record = file_record(tmp)
        self.records[relative] = record
        return True

    def update(self, records: dict[str, dict]) -> None:
        """Add records made elsewhere (a worker process)."""
        self.records.update(records)

    def close(self) -> Path:
        """Save the manifest; then raise ValueError naming the refused files, if any."""
        path = self.save()
        if self.refused:
            shown = "; ".join(self.refused[:5]) + (f"; and {len(self.refused) - 5} more" if len(self.refused) > 5 else "")
            raise ValueError(f"{len(self.refused)} generated file(s) cannot be trusted and were left as they are: "
                             f"{shown}. Move or delete them, then run again to have them generated afresh")
        return path

    def save(self) -> Path:
        """Write the manifest (atomically)."""
        body = {"note": "written by segcourse: size and BLAKE2b-128 of every generated file",
                "files": dict(sorted(self.records.items()))}
        return write_text_atomic(self.path, json.dumps(body, indent=0) + "\n")
