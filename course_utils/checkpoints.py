"""The course checkpoints: networks trained once by the course's own commands, shipped with the package.

Quick mode cannot train a network that really segments in the minutes a notebook
has, so lessons 4 and 7 load these instead (and keep a short training cell as a
demonstration). Every entry of :data:`REGISTRY` (``weights/registry.json`` beside
this file) records:

``file`` / ``sha256``   the float16 state dict in ``weights/`` and its SHA-256;
``command`` / ``seed``  the command that trained it (``--recipe course`` of :mod:`course_utils.train.deeplab`
                        and :mod:`course_utils.train.fcn`);
``data``                the data it was trained on (generator, version, seed, counts, size);
``architecture``        the builder and its arguments (:func:`build_net` rebuilds the network);
``train_seconds``, ``device``  how long the training took, and where;
``figures``             the validation figures measured on the shipped (float16) weights, and
                        the frames they were measured on; ``tolerance`` is how far a re-measure
                        may differ (``tests/test_checkpoints.py`` checks it);
``crf`` (DeepLab)       the CRF's temperature and kernel parameters found by the held-out search;
``seed_runs``           every training seed of the same recipe (the shipped one included): its seed,
                        command, device, time and validation figures (:func:`seed_summary` gives
                        mean, sd, min and max over them; extra seeds' weights are not shipped);
``unseen``              the figures on data generated with seeds the training never used, by seed;
``provenance``          the code commit, the full argument list as run, the epochs, the settings and
                        the data parameters read from the run folder.

Python::

    net = load_checkpoint("deeplab-vgg_aspp")        # verified, float32, eval mode, on the CPU
    curves = checkpoint_curves("fcn-32s")            # {"train_loss": [...], "val_loss": [...], ...}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course_utils.cli import atomic_file, write_text_atomic
from course_utils.nets.deeplab import deeplab_resnet_aspp, deeplab_vgg16_aspp, deeplab_vgg16_largefov
from course_utils.nets.fcn import fcn_vgg16

__all__ = [
    "WEIGHTS_DIR",
    "CheckpointEntry",
    "REGISTRY",
    "registry",
    "build_net",
    "load_checkpoint",
    "checkpoint_curves",
    "SeedSummary",
    "seed_values",
    "seed_summary",
    "sha256_file",
    "save_checkpoint_file",
    "write_entry",
    "update_entry",
]

#: The folder holding the shipped weights and ``registry.json``.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
_REGISTRY_FILE = WEIGHTS_DIR / "registry.json"

# builder name -> function (only these may be named by an entry)
_BUILDERS = {
    "deeplab_vgg16_largefov": deeplab_vgg16_largefov,
    "deeplab_vgg16_aspp": deeplab_vgg16_aspp,
    "deeplab_resnet_aspp": deeplab_resnet_aspp,
    "fcn_vgg16": fcn_vgg16,
}
# earlier names of a builder, as files written before the rename record them (the shipped
# deeplab-aspp.pt says "deeplab_resnet101_aspp"): read as the current name, never written
_BUILDER_ALIASES = {"deeplab_resnet101_aspp": "deeplab_resnet_aspp"}
# state-dict keys not stored in the file: the fixed bilinear last deconvolution of an FCN
# (not learnt; the builder initialises it), so the file holds only what training changed
_FIXED_KEYS = {"fcn_vgg16": ("upscore.weight", "upscore16.weight", "upscore8.weight")}


@dataclass(frozen=True)
class CheckpointEntry:
    """One shipped network (see the module docstring for the fields)."""

    name: str
    family: str
    file: str
    sha256: str
    command: str
    seed: int
    data: dict
    architecture: dict
    train_seconds: float
    device: str
    figures: dict
    tolerance: float
    crf: dict = field(default_factory=dict)
    seed_runs: list = field(default_factory=list)
    unseen: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return WEIGHTS_DIR / self.file


def registry() -> dict[str, CheckpointEntry]:
    """Every entry of ``weights/registry.json``, by name."""
    if not _REGISTRY_FILE.is_file():
        return {}
    raw = _read_registry_file()
    try:
        return {name: CheckpointEntry(name=name, **fields) for name, fields in raw.items()}
    except (TypeError, AttributeError) as err:
        raise ValueError(f"checkpoint registry {_REGISTRY_FILE} has an entry of the wrong form ({err}); "
                         "restore the file from the repository") from None


def _read_registry_file() -> dict:
    """``registry.json`` as a dict; a truncated or damaged file raises a ValueError naming it."""
    try:
        raw = json.loads(_REGISTRY_FILE.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"checkpoint registry {_REGISTRY_FILE} cannot be read ({err}); it may be truncated "
                         "or damaged: restore the file from the repository") from None
    if not isinstance(raw, dict):
        raise ValueError(f"checkpoint registry {_REGISTRY_FILE} must hold a JSON object of entries by name, "
                         f"got {type(raw).__name__}; restore the file from the repository")
    return raw


REGISTRY: dict[str, CheckpointEntry] = registry()


def _entry(name: str) -> CheckpointEntry:
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"checkpoint={name!r} is unknown; expected one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def build_net(architecture: dict) -> nn.Module:
    """The untrained network an entry's ``architecture`` describes (``{"builder": ..., "kwargs": {...}}``)."""
    builder = _BUILDER_ALIASES.get(architecture.get("builder"), architecture.get("builder"))
    if builder not in _BUILDERS:
        raise ValueError(f"architecture builder={builder!r} is unknown; expected one of {sorted(_BUILDERS)}")
    kwargs = dict(architecture.get("kwargs", {}))
    for key in ("rates",):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])
    args = architecture.get("args", [])
    return _BUILDERS[builder](*args, **kwargs)


def _canonical(architecture) -> object:
    """``architecture`` with its builder under the current name (see ``_BUILDER_ALIASES``)."""
    if not isinstance(architecture, dict) or architecture.get("builder") not in _BUILDER_ALIASES:
        return architecture
    return {**architecture, "builder": _BUILDER_ALIASES[architecture["builder"]]}


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint_file(net: nn.Module, architecture: dict, path: str | Path, *, curves: dict | None = None) -> str:
    """Write ``net``'s weights as a compact float16 file (the fixed layers left out); return its SHA-256.

    The file holds ``{"architecture", "net" (float16 state dict), "curves"}`` and is written
    atomically (a temporary file, then renamed).
    """
    path = Path(path)
    fixed = _FIXED_KEYS.get(architecture.get("builder"), ())
    state = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu())
             for k, v in net.state_dict().items() if k not in fixed}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        torch.save({"architecture": architecture, "net": state, "curves": curves or {}}, tmp)
    return sha256_file(path)


def _read(entry: CheckpointEntry) -> dict:
    path = entry.path
    rebuild = f"rebuild it with: {entry.command}"
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {path} is missing; {rebuild}")
    digest = sha256_file(path)
    if digest != entry.sha256:
        raise ValueError(f"checkpoint file {path} has SHA-256 {digest[:12]}..., the registry expects "
                         f"{entry.sha256[:12]}...: the file is damaged or from another run; {rebuild}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a file that passed the hash but does not unpickle: say which one
        raise ValueError(f"checkpoint file {path} cannot be read ({err}); {rebuild}") from None


def load_checkpoint(name: str, *, device: torch.device | str | None = None) -> nn.Module:
    """The shipped network ``name``: SHA-256 verified, float32, in eval mode.

    Raises
    ------
    ValueError
        An unknown name, a file whose SHA-256 differs from the registry's, or weights that do
        not fit the registry's architecture (the message names the file and the command that
        rebuilds it).
    FileNotFoundError
        The file is missing.
    """
    entry = _entry(name)
    state = _read(entry)
    if _canonical(state.get("architecture")) != _canonical(entry.architecture):
        raise ValueError(f"checkpoint file {entry.path} holds architecture {state.get('architecture')}, the "
                         f"registry says {entry.architecture}; rebuild it with: {entry.command}")
    net = build_net(entry.architecture)
    fixed = set(_FIXED_KEYS.get(entry.architecture["builder"], ()))
    expected = {k: v for k, v in net.state_dict().items() if k not in fixed}
    weights = state["net"]
    wrong = sorted(set(expected) ^ set(weights)) + sorted(
        k for k in set(expected) & set(weights) if tuple(expected[k].shape) != tuple(weights[k].shape))
    if wrong:
        raise ValueError(f"checkpoint file {entry.path} does not fit {type(net).__name__} "
                         f"({len(wrong)} keys differ, e.g. {wrong[:3]}); rebuild it with: {entry.command}")
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in weights.items()}, strict=False)
    net.eval()
    if device is not None:
        net = net.to(device)
    return net


def checkpoint_curves(name: str) -> dict[str, Any]:
    """The training curves stored with ``name`` (e.g. ``train_loss``, ``val_loss``, ``val_mean_iu`` per epoch)."""
    return dict(_read(_entry(name)).get("curves", {}))


@dataclass(frozen=True)
class SeedSummary:
    """One figure over a checkpoint's training seeds: ``values`` by seed, their mean, sd (n - 1), min, max."""

    name: str
    key: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(sum(self.values) / len(self.values))

    @property
    def sd(self) -> float:
        """Sample standard deviation (``nan`` for a single seed)."""
        if len(self.values) < 2:
            return float("nan")
        m = self.mean
        return float((sum((v - m) ** 2 for v in self.values) / (len(self.values) - 1)) ** 0.5)

    @property
    def min(self) -> float:
        return float(min(self.values))

    @property
    def max(self) -> float:
        return float(max(self.values))

    def __str__(self) -> str:
        if self.n < 2:
            return f"{100 * self.mean:.1f} (1 seed)"
        return (f"{100 * self.mean:.1f} ± {100 * self.sd:.1f} (min {100 * self.min:.1f}, max {100 * self.max:.1f}, "
                f"{self.n} seeds)")


def seed_values(name: str, key: str = "mean_iou") -> dict[int, float]:
    """``key`` of ``figures`` for each training seed of checkpoint ``name`` (the shipped seed included).

    Raises
    ------
    ValueError
        An unknown checkpoint, or a key that a recorded seed run lacks.
    """
    entry = _entry(name)
    runs = entry.seed_runs or [{"seed": entry.seed, "figures": entry.figures}]
    values = {}
    for run in runs:
        if key not in run["figures"]:
            raise ValueError(f"key={key!r} is not a figure of {name}'s seed {run['seed']}; "
                             f"it has {sorted(run['figures'])}")
        values[int(run["seed"])] = float(run["figures"][key])
    return dict(sorted(values.items()))


def seed_summary(name: str, key: str = "mean_iou") -> SeedSummary:
    """Mean, sd, min and max of ``key`` over the training seeds of ``name`` (see :func:`seed_values`)."""
    values = seed_values(name, key)
    return SeedSummary(name, key, tuple(values), tuple(values.values()))


def write_entry(name: str, fields: dict[str, Any]) -> CheckpointEntry:
    """Add or replace entry ``name`` in ``weights/registry.json`` (written atomically, keys sorted) and
    in :data:`REGISTRY`; return the entry."""
    CheckpointEntry(name=name, **fields)  # refuses unknown or missing fields before the lock is taken
    return update_entry(name, lambda _current: fields, missing_ok=True)


def update_entry(name: str, change: Callable[[dict[str, Any] | None], dict[str, Any]], *,
                 missing_ok: bool = False) -> CheckpointEntry:
    """Rewrite entry ``name`` as ``change(fields it has on disk now)`` under the registry's lock.

    Several record commands may run at once and add to the same entry (a seed run, unseen figures): each
    change is applied to what the others have written, never to a copy read earlier, so none is lost.
    ``change`` gets ``None`` for an entry not on disk (allowed with ``missing_ok``).

    Raises
    ------
    KeyError
        ``name`` is not in the registry file and ``missing_ok`` is false.
    """
    import fcntl  # POSIX only, like the commands that record checkpoints

    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    with open(WEIGHTS_DIR / ".registry.lock", "w") as lock:  # several record commands may run at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = _read_registry_file() if _REGISTRY_FILE.is_file() else {}
        if name not in entries and not missing_ok:
            raise KeyError(f"checkpoint {name!r} is not in {_REGISTRY_FILE}; expected one of {sorted(entries)}")
        fields = change(entries.get(name))
        entry = CheckpointEntry(name=name, **fields)  # refuses unknown or missing fields
        entries[name] = fields
        write_text_atomic(_REGISTRY_FILE, json.dumps(dict(sorted(entries.items())), indent=1) + "\n")
    REGISTRY[name] = entry
    return entry
