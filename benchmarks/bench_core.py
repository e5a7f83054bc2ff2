"""Foundation rows: image conversion against torchvision."""

from __future__ import annotations

import numpy as np

from benchmarks.core import Benchmark, Row, compare


def _to_tensor(tiny: bool) -> Row:
    import torch
    from torchvision.transforms.functional import to_tensor

    from course_utils.data.samples import sample_image
    from course_utils.images import image_to_tensor, resize_image

    image = sample_image("astronaut")
    if tiny:
        image = resize_image(image, (64, 64))

    def agreement(ours, ref) -> float:
        return float(torch.isclose(ours[0], ref, atol=1e-6).float().mean())

    return compare("image_to_tensor", lambda: image_to_tensor(image), lambda: to_tensor(image),
                   "torchvision to_tensor", agreement, repeats=3 if tiny else 20,
                   note=f"{image.shape[0]}x{image.shape[1]} uint8")


BENCHMARKS = [Benchmark("image_to_tensor", _to_tensor)]
