"""Pair our DeepLab figures with the lecture's Cityscapes table, row by row, or say why a row cannot be paired.

The lecture's table (DeepLab, TPAMI 2018, Table 6; :data:`course_utils.evaluate.crf.LECTURE_RESULTS`)
has a column **Full**: "yes" means the network was trained and tested on full-resolution Cityscapes
frames, 1024 x 2048; "no" means frames downsampled by 2, 512 x 1024. A row can only be paired with one
of ours of the same frame size, the same augmentation (**Aug**: random scaling), and a network with the
same LargeFOV / ASPP choice on a backbone of the same family. Our MiniCity frames are 256 x 512, a
quarter of Cityscapes' width: neither Full nor the lecture's halved frames. :func:`pair_with_lecture`
therefore marks every row whose frame size differs from ours as not comparable and says so.

(This replaces, for lesson 7, the pairing of :func:`course_utils.evaluate.crf.results_table`, which
treated frames seen at their own size as "Full".)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from course_utils._shared import check_int, check_sequence

__all__ = ["LECTURE_FRAME_SIZE", "lecture_frame_size", "pair_with_lecture", "format_pairing"]

#: Frame size (H, W) of the lecture's rows: Full = full-resolution Cityscapes, otherwise halved.
LECTURE_FRAME_SIZE: dict[bool, tuple[int, int]] = {True: (1024, 2048), False: (512, 1024)}


def lecture_frame_size(full: bool) -> tuple[int, int]:
    """The frame size (H, W) of a lecture row with the given Full flag."""
    if not isinstance(full, bool):
        raise ValueError(f"full must be a bool, got {full!r}")
    return LECTURE_FRAME_SIZE[full]


def _family(backbone: str) -> str:
    return backbone.split("-")[0].rstrip("0123456789").lower()


def _arch(row: Mapping) -> str:
    return "LargeFOV" if row["largefov"] else "ASPP" if row["aspp"] else "neither LargeFOV nor ASPP"


def pair_with_lecture(ours: Sequence[Mapping], *, frame_size: tuple[int, int],
                      lecture: Sequence[Mapping] | None = None) -> list[dict]:
    """Each lecture row with our row of the same configuration, or the reasons there is none.

    Parameters
    ----------
    ours : sequence of mapping
        Our rows, each with ``title`` (str), ``backbone`` (e.g. ``"VGG-16"``, ``"ResNet-18"``),
        ``largefov``, ``aspp``, ``aug``, ``crf`` (bools) and ``miou`` (a string or number to show).
    frame_size : (int, int)
        The (H, W) our networks were trained and evaluated at.
    lecture : sequence of mapping, optional
        The lecture's rows (default :data:`course_utils.evaluate.crf.LECTURE_RESULTS`).

    Returns
    -------
    list of dict
        One per lecture row: the row's fields, ``frame_size``, ``ours`` (our matching row or ``None``)
        and ``reasons`` (why it cannot be paired; empty when paired).
    """
    if lecture is None:
        from course_utils.evaluate.crf import LECTURE_RESULTS

        lecture = LECTURE_RESULTS
    frame_size = check_sequence(frame_size, "frame_size (H, W)", lambda v, n: check_int(v, n, 1), min_length=2,
                                what="positive ints")
    if len(frame_size) != 2:
        raise ValueError(f"frame_size must be (H, W), got {frame_size!r}")
    needed = {"title", "backbone", "largefov", "aspp", "aug", "crf", "miou"}
    for k, row in enumerate(ours):
        missing = needed - set(row)
        if missing:
            raise ValueError(f"ours[{k}] lacks {sorted(missing)}")
    out = []
    for row in lecture:
        size = lecture_frame_size(row["full"])
        reasons = []
        if size != frame_size:
            scale = size[1] / frame_size[1]
            reasons.append(f"its frames are {size[0]}x{size[1]} ({'Full' if row['full'] else 'halved'}), ours "
                           f"{frame_size[0]}x{frame_size[1]} ({scale:g}x smaller)")
        same = [o for o in ours if _family(o["backbone"]) == _family(row["backbone"])
                and (bool(o["largefov"]), bool(o["aspp"])) == (row["largefov"], row["aspp"])
                and bool(o["crf"]) == row["crf"]]
        if not same:
            reasons.append(f"we trained no {row['backbone'].split('-')[0]} with {_arch(row)}")
        elif not any(bool(o["aug"]) == row["aug"] for o in same):
            reasons.append("ours were trained with random scaling (Aug), this row without"
                           if not row["aug"] else "this row used random scaling (Aug), ours did not")
        match = next((o for o in same if bool(o["aug"]) == row["aug"]), None) if not reasons else None
        out.append({**row, "frame_size": size, "ours": match, "reasons": reasons})
    return out


def format_pairing(pairs: Sequence[Mapping], ours: Sequence[Mapping], *, frame_size: tuple[int, int]) -> str:
    """A Markdown table: the lecture's rows (with the pairing or the reasons), then ours (Full: no)."""

    def mark(v: bool) -> str:
        return "yes" if v else ""

    lines = ["| source | backbone | Full | Aug | LargeFOV | ASPP | CRF | mIOU (%) | paired with / why not |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in pairs:
        paired = p["ours"]["title"] if p["ours"] is not None else "not comparable: " + "; ".join(p["reasons"])
        lines.append(f"| lecture | {p['backbone']} | {mark(p['full'])} | {mark(p['aug'])} | {mark(p['largefov'])} | "
                     f"{mark(p['aspp'])} | {mark(p['crf'])} | {p['miou']} | {paired} |")
    paired_titles = {p["ours"]["title"] for p in pairs if p["ours"] is not None}
    for o in ours:
        note = "paired above" if o["title"] in paired_titles else "no lecture row at our frame size"
        lines.append(f"| ours: {o['title']} | {o['backbone']} | no ({frame_size[0]}x{frame_size[1]}) | "
                     f"{mark(o['aug'])} | {mark(o['largefov'])} | {mark(o['aspp'])} | {mark(o['crf'])} | "
                     f"{o['miou']} | {note} |")
    return "\n".join(lines)
