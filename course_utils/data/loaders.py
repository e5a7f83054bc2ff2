"""In-memory training loaders: tensors of a segmentation set (FCN) and image/mask arrays (saliency).

* :func:`tensor_loader` -- ``(images (N, 3, H, W), labels (N, H, W))`` tensors, random flips;
* :func:`saliency_loader` -- ``(N, H, W, 3)`` uint8 images and ``(N, H, W)`` bool masks as
  float batches, random flips.

Flips draw from torch's global generator, which :func:`course_utils.train.fit` re-seeds every
epoch, so a seeded run is repeatable.
"""

from __future__ import annotations

import numpy as np
import torch

from course_utils._shared import check_int

__all__ = ["saliency_loader", "tensor_loader"]


def tensor_loader(images: torch.Tensor, labels: torch.Tensor, batch_size: int, *, shuffle: bool = True,
                  flip: bool = True) -> torch.utils.data.DataLoader:
    """A DataLoader over in-memory tensors, with random horizontal flips when ``flip``.

    Parameters
    ----------
    images : Tensor (N, 3, H, W) float (normalised)
    labels : Tensor (N, H, W) int64
    """
    if images.ndim != 4 or labels.ndim != 3 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"images (N, 3, H, W) and labels (N, H, W) must agree, got {tuple(images.shape)} "
                         f"and {tuple(labels.shape)}")
    dataset = _FlipTensors(images, labels, flip)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


class _FlipTensors(torch.utils.data.Dataset):
    def __init__(self, images: torch.Tensor, labels: torch.Tensor, flip: bool) -> None:
        self.images, self.labels, self.flip = images, labels, flip

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int):
        x, y = self.images[i], self.labels[i]
        if self.flip and torch.rand(()) < 0.5:  # torch's RNG: re-seeded per epoch by course_utils.train.fit
            x, y = x.flip(-1), y.flip(-1)
        return x, y


class _SaliencyPairs(torch.utils.data.Dataset):
    """Images ``(N, H, W, 3)`` uint8 and masks ``(N, H, W)`` bool as float tensors, with optional flips."""

    def __init__(self, images: np.ndarray, masks: np.ndarray, flip: bool) -> None:
        self.images = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
        self.masks = torch.from_numpy(np.ascontiguousarray(masks)).unsqueeze(1)
        self.flip = flip

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.images[i].float() / 255.0
        y = self.masks[i].float()
        if self.flip and torch.rand(()) < 0.5:  # torch's generator: re-seeded every epoch by train.fit
            x, y = x.flip(-1), y.flip(-1)
        return x, y


def saliency_loader(images: np.ndarray, masks: np.ndarray, *, batch_size: int, shuffle: bool = True,
                    flip: bool = True) -> torch.utils.data.DataLoader:
    """A DataLoader of ``(images (B, 3, H, W) float in [0, 1], masks (B, 1, H, W) float 0/1)``.

    Parameters
    ----------
    images : ndarray, shape (N, H, W, 3), uint8
    masks : ndarray, shape (N, H, W), bool
    batch_size : int
    shuffle : bool
        Shuffle every epoch (torch's global generator, so seeding makes it repeatable).
    flip : bool
        Random horizontal flips (the mask flips with its image).
    """
    images, masks = np.asarray(images), np.asarray(masks)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be (N, H, W, 3) uint8, got shape {images.shape} dtype {images.dtype}")
    if masks.dtype != bool or masks.shape != images.shape[:3]:
        raise ValueError(f"masks must be (N, H, W) bool matching images {images.shape[:3]}, "
                         f"got shape {masks.shape} dtype {masks.dtype}")
    batch_size = check_int(batch_size, "batch_size", 1)
    return torch.utils.data.DataLoader(_SaliencyPairs(images, masks, flip), batch_size=batch_size,
                                       shuffle=shuffle, num_workers=0)
