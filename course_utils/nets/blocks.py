"""Building blocks shared by the network families (FCN, DeepLab, the plain VGG).

Each family (:mod:`course_utils.nets.fcn`, :mod:`course_utils.nets.deeplab`,
:mod:`course_utils.nets.saliency`) is independent of the others; what they share lives here.

* :func:`scaled_channels` -- the channel count of a narrow ("quick") network: the paper's count
  times a width factor.
"""

from __future__ import annotations

from course_utils._shared import check_int, check_number

__all__ = ["scaled_channels"]


def scaled_channels(channels: int, width: float) -> int:
    """``channels * width`` rounded, at least 1: the channel count of a narrow ("quick") network.

    Parameters
    ----------
    channels : int
        The paper's channel count (at width 1), >= 1.
    width : float
        Channel factor, > 0 (1.0: the paper's network).

    Returns
    -------
    int
        ``max(1, round(channels * width))``.
    """
    channels = check_int(channels, "channels", 1)
    width = check_number(width, "width", 0, open_min=True)
    return max(1, int(round(channels * width)))
