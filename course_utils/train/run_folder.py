"""A training command's output folder, claimed: a marker records which command wrote it.

``python -m course_utils.train deeplab --out F`` and ``python -m course_utils.train fcn --out F``
write checkpoints and a ``result.json`` into ``F``. Before anything is trained, :func:`claim_run_folder`
makes sure ``F`` is theirs: a new or empty folder gets the marker ``segcourse-run.json``
(``{"command": ...}``); a folder holding the same command's marker is theirs again; anything else (a
user's files, another command's run) is refused, so nothing a user made is overwritten.

:func:`code_commit` and :func:`write_provenance` record in the folder how the run was made (the
arguments as run, the commit of the code of every process that trained it).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from course_utils.cli import check_output_folder, write_text_atomic

__all__ = ["RUN_MARKER", "RECORDED_DATA", "claim_run_folder", "match_run_settings", "code_commit", "write_provenance"]

#: The file that records which command wrote a run folder.
RUN_MARKER = "segcourse-run.json"


def claim_run_folder(folder: str | Path, command: str, *, name: str = "--out", legacy: str | None = None,
                     finished: str | None = None, hold: bool = True) -> Path:
    """Claim ``folder`` for a run of ``command`` (e.g. ``"python -m course_utils.train fcn"``); return it.

    Parameters
    ----------
    folder : path
        The run folder; created if missing.
    command : str
        What writes the folder; recorded in its marker and compared on the next run.
    name : str
        The argument that named the folder, for the error messages.
    legacy : str, optional
        A file by which runs written before the marker existed are recognised as this command's
        (``settings.json`` of ``train deeplab``): such a folder is claimed and gets the marker.
    finished : str, optional
        A file that marks a finished run of this command (``result.json`` of ``train fcn``, which
        cannot resume): a folder holding it is refused rather than overwritten.
    hold : bool
        Lock the folder for this process (False: only check and mark it, for a process that trains one
        part of a run whose own process holds the lock, each part in a sub-folder it claims).

    Raises
    ------
    ValueError
        A file stands at ``folder``; the folder holds files but no marker (a user's folder), another
        command's marker, a damaged marker, or a finished run; another process is training into it
        (the folder stays locked by the process that claimed it until that process exits).
    """
    folder = check_output_folder(folder, name)
    marker = folder / RUN_MARKER
    if marker.exists():
        try:
            record = json.loads(marker.read_text())
        except (ValueError, UnicodeDecodeError) as err:
            raise ValueError(f"{marker} is not valid JSON ({err}); it may be truncated: choose another {name} "
                             "or delete that folder") from None
        owner = record.get("command") if isinstance(record, dict) else None
        if owner != command:
            raise ValueError(f"{name}={folder} holds a run of {owner!r}, not of {command!r}: choose another {name}")
        if finished is not None and (folder / finished).exists():
            raise ValueError(f"{name}={folder} holds a finished run of {command} ({folder / finished}); it is "
                             f"not overwritten: choose another {name} or delete that folder")
        if hold:
            _hold(folder, name)
        return folder
    if folder.is_dir() and any(p.name != _LOCK for p in folder.iterdir()):
        if legacy is None or not (folder / legacy).is_file():
            found = sorted(p.name for p in folder.iterdir() if p.name != _LOCK)
            raise ValueError(f"{name}={folder} holds files that {command} did not write ({', '.join(found[:4])}"
                             f"{', ...' if len(found) > 4 else ''}): choose a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    if hold:
        _hold(folder, name)
    write_text_atomic(marker, json.dumps({"command": command}, indent=1) + "\n")
    return folder


_LOCK = ".segcourse-run.lock"
_HELD: dict[Path, object] = {}  # run folders this process trains into, each with its open lock file


def match_run_settings(folder: Path, settings: dict, name: str = "--out") -> None:
    """Record ``settings`` (JSON-ready) in ``folder/settings.json``, or check that the run there has the same.

    A run folder's per-epoch checkpoints resume only a run of the same settings; call this after
    :func:`claim_run_folder` and before anything is trained.

    Raises
    ------
    ValueError
        ``settings.json`` is damaged, not a dict, or records other settings (naming the keys that differ).
    """
    record = folder / "settings.json"
    wanted = json.loads(json.dumps(settings))  # tuples as lists, as they are read back
    if record.is_file():
        try:
            old = json.loads(record.read_text())
        except (ValueError, UnicodeDecodeError) as err:
            raise ValueError(f"{record} is not valid JSON ({err}); it may be truncated: delete that folder "
                             f"or choose another {name}") from None
        if not isinstance(old, dict):
            raise ValueError(f"{record} is not a run's settings: choose another {name}")
        if old != wanted:
            diff = sorted(k for k in set(old) | set(wanted) if old.get(k) != wanted.get(k))
            raise ValueError(f"{name}={folder} holds a run with other settings (differing: {diff}); its checkpoint "
                             f"cannot be resumed: choose another {name} or delete that folder")
        return
    write_text_atomic(record, json.dumps(wanted, indent=1, sort_keys=True))


def _hold(folder: Path, name: str) -> None:
    """Lock ``folder`` for this process (released when it exits): a second process training into the
    same folder would interleave its checkpoints with this one's."""
    import fcntl  # POSIX only, like the training commands' run folders

    key = folder.resolve()
    if key in _HELD:
        return
    lock = open(folder / _LOCK, "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise ValueError(f"{name}={folder} is being trained by another process right now: wait for it, or choose "
                         f"another {name}") from None
    except OSError as err:  # a file system without locks (some network mounts): train, but say it is unguarded
        warnings.warn(f"{name}={folder}: cannot lock the run folder ({err}); make sure no other process trains "
                      "into it", RuntimeWarning, stacklevel=3)
    _HELD[key] = lock


#: What the record commands write in the checkout (the shipped weights and their registry): data, not code,
#: so a change there does not make a run's code "dirty" (``train seeds`` records one run while the next trains).
RECORDED_DATA = "course_utils/weights"


def code_commit(root: str | Path | None = None) -> tuple[str | None, bool | None]:
    """The git commit of the library's checkout (or of ``root``) and whether it has uncommitted changes outside
    :data:`RECORDED_DATA` (None, None outside git)."""
    import subprocess

    from course_utils.paths import repo_root

    root = str(repo_root() if root is None else root)
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None, None
        status = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", ".",
                                 f":(exclude){RECORDED_DATA}"], capture_output=True, text=True, timeout=10)
        return head.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def write_provenance(out: Path, argv: list[str], code: tuple[str | None, bool | None]) -> None:
    """``out/provenance.json``: the arguments as run and the commit(s) of the code that trained the run.

    ``code`` is :func:`code_commit` read when the process started (the code it imported), not when it
    finished: the checkout may have moved on during a long run. A resumed run keeps the commits of the
    processes before it (``commits``) and any ``note`` already there; ``commit`` is the last.
    """
    record = out / "provenance.json"
    old = json.loads(record.read_text()) if record.is_file() else {}
    commit, dirty = code
    commits = [c for c in old.get("commits", [old["commit"]] if old.get("commit") else []) if c != commit] + [commit]
    new = {"commit": commit, "dirty": dirty, "commits": commits, "argv": argv}
    if old.get("note"):
        new["note"] = old["note"]
    write_text_atomic(record, json.dumps(new, indent=1))
