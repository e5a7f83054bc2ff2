"""Figures over training seeds and unseen data seeds, and the orderings a lesson may assert from them.

A checkpoint's registry entry records one or more training seeds (``seed_runs``) and, for the shipped
weights, figures on data generated with seeds the training never used (``unseen``). A claim such as
"ASPP beats LargeFOV" is a statement about every such run, not about one number:

* :func:`run_values` -- one figure of a checkpoint for each run (``"training seed 0"``, ``"data seed 7"``);
* :func:`gain_values` -- the difference of two figures per run (e.g. what the CRF adds);
* :func:`ordering_verdict` -- whether ``a`` beats ``b`` by more than a margin on *every* run both were
  measured on, and a plain sentence saying so (or saying why not, or that one seed cannot tell);
* :func:`capacity_verdict` -- LargeFOV, LargeFOV widened to ASPP's parameter count, and ASPP: is ASPP's
  gain multi-scale context or capacity?
* :func:`spread_text`, :func:`class_iou_table`, :func:`parameter_count` -- what a lesson prints beside
  each figure (mean ± sd and min-max over seeds, parameter counts).

Figures are fractions (0.532); the sentences give them in points (53.2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from course_utils._shared import check_number

__all__ = [
    "Ordering",
    "CapacityVerdict",
    "run_values",
    "gain_values",
    "spread_text",
    "ordering_verdict",
    "capacity_verdict",
    "class_iou_runs",
    "class_iou_table",
    "parameter_count",
]

_TRAINING = "training seed"
_EPS = 1e-9  # a difference must exceed the margin by more than float round-off to count
_DATA = "data seed"


def _entry(name: str):
    from course_utils.checkpoints import REGISTRY

    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"name={name!r} is not a recorded checkpoint; expected one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def _unseen_figures(value: object) -> Mapping:
    """The figures dict of one ``unseen`` item (stored flat or under ``"figures"``)."""
    if isinstance(value, Mapping) and isinstance(value.get("figures"), Mapping):
        return value["figures"]
    return value if isinstance(value, Mapping) else {}


def run_values(name: str, key: str = "mean_iou", *, unseen: bool = True) -> dict[str, float]:
    """``key`` of checkpoint ``name`` on each recorded run, by run label.

    Parameters
    ----------
    name : str
        A registry entry (``course_utils.checkpoints.REGISTRY``), e.g. ``"deeplab-vgg_aspp"``.
    key : str
        A scalar figure, e.g. ``"mean_iou"`` or ``"crf_mean_iou"`` (fractions).
    unseen : bool
        Also include the shipped weights' figures on unseen data seeds (those that record ``key``).

    Returns
    -------
    dict
        ``{"training seed 0": 0.532, ..., "data seed 7": 0.527}``: the training seeds first (every
        one recorded, the shipped one included), then the unseen data seeds. Empty if ``name`` is
        not recorded.
    """
    from course_utils.checkpoints import REGISTRY, seed_values

    if name not in REGISTRY:
        return {}
    out = {f"{_TRAINING} {seed}": value for seed, value in seed_values(name, key).items()}
    if unseen:
        for seed, value in sorted(_entry(name).unseen.items(), key=lambda kv: int(kv[0])):
            figures = _unseen_figures(value)
            if key in figures and figures[key] is not None:
                out[f"{_DATA} {int(seed)}"] = float(figures[key])
    return out


def gain_values(name: str, after: str = "crf_mean_iou", before: str = "mean_iou", *,
                unseen: bool = True) -> dict[str, float]:
    """``after - before`` of checkpoint ``name`` on each run that records both (e.g. the CRF's gain)."""
    a, b = run_values(name, after, unseen=unseen), run_values(name, before, unseen=unseen)
    return {label: a[label] - b[label] for label in a if label in b}


def _counts(labels: Sequence[str]) -> tuple[int, int]:
    return (sum(label.startswith(_TRAINING) for label in labels), sum(label.startswith(_DATA) for label in labels))


def _runs_phrase(labels: Sequence[str]) -> str:
    training, data = _counts(labels)
    parts = []
    if training:
        parts.append(f"{training} training seed{'s' if training > 1 else ''}")
    if data:
        parts.append(f"{data} unseen data seed{'s' if data > 1 else ''}")
    return " and ".join(parts) or "no run"


def spread_text(values: Mapping[str, float], *, training_only: bool = True) -> str:
    """``"53.2 ± 1.0 (min 52.1, max 54.0, 3 seeds)"`` over the training seeds of ``values`` (points).

    With one seed: ``"53.2 (1 seed)"``; with none: ``"not recorded"``.
    """
    items = [v for k, v in values.items() if k.startswith(_TRAINING) or not training_only]
    if not items:
        return "not recorded"
    mean = sum(items) / len(items)
    if len(items) == 1:
        return f"{100 * mean:.1f} (1 seed)"
    sd = math.sqrt(sum((v - mean) ** 2 for v in items) / (len(items) - 1))
    return f"{100 * mean:.1f} ± {100 * sd:.1f} (min {100 * min(items):.1f}, max {100 * max(items):.1f}, {len(items)} seeds)"


@dataclass(frozen=True)
class Ordering:
    """Whether ``better`` beats ``worse`` by more than ``margin`` on every run both were measured on.

    Attributes
    ----------
    differences : dict
        ``better - worse`` per common run label (fractions).
    holds : bool
        Every difference exceeds ``margin`` (and there is at least one).
    established : bool
        ``holds`` over at least two training seeds: the only case in which a lesson may call the
        ordering a finding rather than one run's outcome.
    text : str
        The sentence a lesson renders.
    """

    better: str
    worse: str
    margin: float
    measure: str
    differences: dict

    @property
    def n_training_seeds(self) -> int:
        return _counts(list(self.differences))[0]

    @property
    def holds(self) -> bool:
        return bool(self.differences) and all(d > self.margin + _EPS for d in self.differences.values())

    @property
    def established(self) -> bool:
        return self.holds and self.n_training_seeds >= 2

    @property
    def text(self) -> str:
        d = self.differences
        if not d:
            return (f"{self.better} and {self.worse} were never measured on the same run, so their {self.measure} "
                    f"cannot be compared.")
        lo, hi = 100 * min(d.values()), 100 * max(d.values())
        span = f"{lo:+.1f} points" if len(d) == 1 else f"{lo:+.1f} to {hi:+.1f} points"
        runs = _runs_phrase(list(d))
        margin = (f"the {100 * self.margin:.1f}-point margin" if self.margin > 0
                  else "zero" if self.margin == 0 else f"{100 * self.margin:.1f} points")
        if not self.holds:
            short = [k for k, v in d.items() if not v > self.margin + _EPS]
            return (f"{self.better} against {self.worse}, {self.measure}: {span} over {runs}, not above "
                    f"{margin} on {', '.join(short)}. The ordering does **not** hold for every run, so it is "
                    f"not claimed.")
        if self.n_training_seeds < 2:
            return (f"{self.better} leads {self.worse} in {self.measure} by {span} on {runs}, above {margin}; but "
                    f"only one training seed is recorded, so how much of it is seed-to-seed noise is unknown: "
                    f"one run's outcome, not an established ordering.")
        return (f"{self.better} leads {self.worse} in {self.measure} on every one of the {len(d)} runs ({runs}), "
                f"by {span}, always above {margin}.")


def ordering_verdict(better_values: Mapping[str, float], worse_values: Mapping[str, float], *, better: str,
                     worse: str, margin: float = 0.0, measure: str = "mean IoU") -> Ordering:
    """Compare two networks run by run (the runs both were measured on; see :func:`run_values`).

    Parameters
    ----------
    better_values, worse_values : mapping run label -> figure (fraction)
        E.g. ``run_values("deeplab-vgg_aspp")`` and ``run_values("deeplab-largefov")``.
    better, worse : str
        The networks' names in the sentence.
    margin : float
        The lead (fraction; 0.01 = 1 point) that every run must exceed.
    measure : str
        What the figures are, for the sentence.

    Returns
    -------
    Ordering
        ``holds`` is true only if ``better - worse > margin`` on every common run; ``text`` says so,
        or says on which runs it fails, or that one training seed cannot establish it.
    """
    margin = check_number(margin, "margin", -1.0, 1.0)
    for arg, values in (("better_values", better_values), ("worse_values", worse_values)):
        if not isinstance(values, Mapping):
            raise ValueError(f"{arg} must be a mapping run label -> figure, got {type(values).__name__}")
    common = [k for k in better_values if k in worse_values]
    diffs = {k: float(better_values[k]) - float(worse_values[k]) for k in common}
    return Ordering(better, worse, float(margin), measure, diffs)


@dataclass(frozen=True)
class CapacityVerdict:
    """What the capacity control says: ``status`` is one of ``not recorded``, ``context``, ``capacity``,
    ``undecided``; ``recovered`` the share of ASPP's gain over LargeFOV that widening LargeFOV recovers
    (mean over common runs; ``nan`` without the control); ``text`` the sentence."""

    status: str
    recovered: float
    text: str


def capacity_verdict(largefov: Mapping[str, float], wide: Mapping[str, float], aspp: Mapping[str, float], *,
                     margin: float, parameters: Mapping[str, int] | None = None) -> CapacityVerdict:
    """Is ASPP's gain over LargeFOV multi-scale context or capacity? Decided by the capacity control.

    Parameters
    ----------
    largefov, wide, aspp : mapping run label -> mean IoU (fraction)
        LargeFOV, LargeFOV with its head widened to ASPP's parameter count (empty if not recorded),
        ASPP on the same backbone.
    margin : float
        The lead (fraction) that counts as a difference on every run.
    parameters : mapping, optional
        Parameter counts under the keys ``"largefov"``, ``"wide"``, ``"aspp"`` for the sentence.

    Returns
    -------
    CapacityVerdict
        ``context`` if ASPP beats the widened LargeFOV by more than ``margin`` on every run;
        ``capacity`` if the widened LargeFOV beats LargeFOV and comes within ``margin`` of ASPP (or
        above it) on every run; otherwise ``undecided``, with the figures.
    """
    p = dict(parameters or {})

    def count(key: str) -> str:
        return f" ({p[key]:,} parameters)" if key in p else ""

    aspp_gain = ordering_verdict(aspp, largefov, better="ASPP-VGG", worse="LargeFOV", margin=0.0)
    gains = sorted(100 * v for v in aspp_gain.differences.values())
    gain_text = ("an unmeasured number of" if not gains else f"{gains[0]:+.1f}" if len(gains) == 1
                 else f"{gains[0]:+.1f} to {gains[-1]:+.1f}")
    if not wide:
        return CapacityVerdict("not recorded", float("nan"),
                               f"The capacity control, LargeFOV widened to ASPP-VGG's size{count('wide') or count('aspp')}, "
                               f"has not been recorded yet. Until it is, ASPP-VGG's lead over LargeFOV{count('largefov')} "
                               f"({gain_text} points) cannot be credited to multi-scale context: ASPP-VGG also has "
                               f"more parameters.")
    context = ordering_verdict(aspp, wide, better="ASPP-VGG", worse="LargeFOV-wide", margin=margin)
    closes = ordering_verdict(wide, aspp, better="LargeFOV-wide", worse="ASPP-VGG", margin=-margin)
    above = ordering_verdict(wide, largefov, better="LargeFOV-wide", worse="LargeFOV", margin=margin)
    common = [k for k in aspp_gain.differences if k in above.differences and abs(aspp_gain.differences[k]) > 1e-12]
    recovered = (sum(above.differences[k] / aspp_gain.differences[k] for k in common) / len(common)
                 if common else float("nan"))
    figures = (f"LargeFOV {spread_text(largefov)}{count('largefov')}, LargeFOV-wide {spread_text(wide)}{count('wide')}, "
               f"ASPP-VGG {spread_text(aspp)}{count('aspp')}")
    share = ("" if math.isnan(recovered) else
             f" Widening LargeFOV alone recovers {100 * recovered:.0f} % of ASPP-VGG's gain over it (mean over runs): "
             f"that part is capacity.")
    if context.holds:
        caveat = "" if context.established else " (on one training seed only: a first indication, not a finding)"
        return CapacityVerdict("context", recovered,
                               f"{figures}. With as many parameters, ASPP-VGG still beats the widened LargeFOV on "
                               f"every run{caveat}: at equal capacity, its lead is **multi-scale context**.{share} "
                               + context.text)
    if closes.holds and above.holds:
        caveat = "" if above.established else " (on one training seed only: a first indication, not a finding)"
        return CapacityVerdict("capacity", recovered,
                               f"{figures}. Widening LargeFOV to ASPP-VGG's size brings it within "
                               f"{100 * margin:.1f} points of ASPP-VGG (or above) on every run{caveat}: the gain is "
                               f"**capacity**, not multi-scale context.{share}")
    return CapacityVerdict("undecided", recovered,
                           f"{figures}. The figures do not settle it: ASPP-VGG does not beat the widened LargeFOV by "
                           f"more than {100 * margin:.1f} points on every run, and the widened LargeFOV does not close "
                           f"the gap on every run either.{share} " + context.text)


def class_iou_runs(name: str, *, crf: bool = False) -> dict[str, list[float | None]]:
    """Per-class IoU of checkpoint ``name`` on each recorded training seed: ``{class: [iou per seed]}``.

    ``None`` stands for a class absent from both truth and prediction on that seed's frames.
    """
    entry = _entry(name)
    key = "crf_class_iou" if crf else "class_iou"
    runs = entry.seed_runs or [{"seed": entry.seed, "figures": entry.figures}]
    out: dict[str, list[float | None]] = {}
    for run in sorted(runs, key=lambda r: int(r["seed"])):
        table = run["figures"].get(key)
        if table is None:
            raise ValueError(f"{name}'s training seed {run['seed']} records no {key!r}")
        for cls, value in table.items():
            out.setdefault(cls, []).append(None if value is None else float(value))
    return out


def _cell(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "–"
    mean = 100 * sum(known) / len(known)
    if len(known) == 1:
        return f"{mean:.1f}"
    return f"{mean:.1f} ({100 * min(known):.0f}–{100 * max(known):.0f})"


def class_iou_table(names: Mapping[str, str]) -> str:
    """A Markdown table of per-class IoU (%), without and with the CRF, for each checkpoint in ``names``.

    Each cell is the mean over the recorded training seeds, with the min–max in brackets when there are
    several. ``names`` maps registry names to column titles.
    """
    if not names:
        raise ValueError("names must name at least one checkpoint")
    tables = {name: (class_iou_runs(name), class_iou_runs(name, crf=True)) for name in names}
    classes = list(next(iter(tables.values()))[0])
    seeds = {name: len(next(iter(t[0].values()))) for name, t in tables.items()}
    header = "| class | " + " | ".join(f"{title} ({seeds[n]} seed{'s' if seeds[n] > 1 else ''}) | + CRF"
                                       for n, title in names.items()) + " |"
    lines = [header, "|---|" + "---|---|" * len(names)]
    for cls in classes:
        lines.append(f"| {cls} | " + " | ".join(f"{_cell(tables[n][0][cls])} | {_cell(tables[n][1][cls])}"
                                                 for n in names) + " |")
    return "\n".join(lines)


def parameter_count(name: str) -> int:
    """The number of parameters of checkpoint ``name``'s network (rebuilt from its architecture, no weights read)."""
    from course_utils.checkpoints import build_net

    net = build_net(_entry(name).architecture)
    return int(sum(p.numel() for p in net.parameters()))
