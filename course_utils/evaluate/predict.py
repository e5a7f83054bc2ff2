"""Running a trained network: labels, official-format Cityscapes predictions, DeepLab's logits, saliency maps.

* :func:`predict_labels` -- arg-max labels of a batch (FCN, lesson 4);
* :func:`predict_cityscapes` -- every frame of a Cityscapes-layout dataset written as
  official-format label-id PNGs (scored by :mod:`course_utils.evaluate.cityscapes`);
* :func:`dcnn_logits` -- DeepLab's module 1: the DCNN's logits of a frame, upsampled to it (the CRF's
  unaries; :func:`course_utils.crf.coarse_logits` makes synthetic ones from labels);
* :func:`predict_saliency` -- a saliency net's map of one image (lesson 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from course_utils._shared import check_number
from course_utils.data.cityscapes import read_label_ids
from course_utils.data.transforms import to_tensors
from course_utils.env import get_device
from course_utils.evaluate.cityscapes import write_prediction
from course_utils.images import check_image, image_to_tensor, resize_image

__all__ = ["dcnn_logits", "predict_cityscapes", "predict_labels", "predict_saliency"]


@torch.no_grad()
def predict_labels(net: nn.Module, images: torch.Tensor, *, batch_size: int = 8,
                   device: torch.device | str | None = None) -> torch.Tensor:
    """Arg-max labels of ``net`` for a batch of images, in eval mode.

    Parameters
    ----------
    images : Tensor (N, 3, H, W) float (normalised)

    Returns
    -------
    Tensor (N, H, W) int64, on the CPU
    """
    device = get_device(device, name="device") if device is not None else next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        out = [net(images[i:i + batch_size].to(device)).argmax(1).cpu() for i in range(0, images.shape[0], batch_size)]
    finally:
        net.train(was_training)
    return torch.cat(out)


@torch.no_grad()
def predict_saliency(net: nn.Module, image: np.ndarray, *, size: int | None = None,
                     device: torch.device | str | None = None) -> np.ndarray:
    """Run ``net`` on one RGB image and return its saliency map at the image's size.

    Parameters
    ----------
    net : nn.Module
        Maps ``(1, 3, h, w)`` in [0, 1] to logits ``(1, 1, h, w)``.
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1].
    size : int, optional
        Resize the image to ``size x size`` first (the training size), then
        resize the map back.
    device : torch.device or str, optional
        Default: the device of the net's parameters.

    Returns
    -------
    ndarray, shape (H, W), float32 in [0, 1]
    """
    check_image(image, "image")
    if device is None:
        device = next(net.parameters()).device
    x = image_to_tensor(image).to(device)
    if size is not None:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    was_training = net.training
    net.eval()
    try:
        probs = torch.sigmoid(net(x))
    finally:
        net.train(was_training)
    probs = F.interpolate(probs, size=image.shape[:2], mode="bilinear", align_corners=False)
    return probs[0, 0].clamp(0, 1).cpu().numpy().astype(np.float32)


def predict_cityscapes(net, dataset, out_dir: str | Path, *, device=None, progress: bool = True) -> Path:
    """Run ``net`` on every frame of ``dataset`` and write the official-format predictions.

    Parameters
    ----------
    net : nn.Module
        Maps a normalised ``(1, 3, h, w)`` image to logits ``(1, 19, h, w)`` (train ids).
    dataset : CityscapesSegmentation
        The frames; each is fed at the dataset's ``scale`` and the logits are
        bilinearly resized to the ground truth's full size before the argmax.
    out_dir : path
        Receives ``{city}/{city}_{seq}_{frame}_leftImg8bit.png`` (label ids).

    Returns
    -------
    Path
        ``out_dir``.
    """
    device = get_device() if device is None else get_device(device, name="device")
    out_dir = Path(out_dir)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            for i in tqdm(range(len(dataset)), desc="predict", disable=None if progress else True, leave=False):
                frame = dataset.frames[i]
                image, _ = dataset.load(i)
                full = read_label_ids(frame.label_ids).shape
                x = to_tensors(image)[None].to(device)
                logits = net(x).float()
                if tuple(logits.shape[-2:]) != tuple(full):
                    logits = F.interpolate(logits, size=full, mode="bilinear", align_corners=False)
                train_ids = logits.argmax(1)[0].to(torch.uint8).cpu().numpy()
                write_prediction(out_dir / frame.city / f"{frame.stem}_leftImg8bit.png", train_ids)
    finally:
        net.train(was_training)
    return out_dir


def dcnn_logits(net: torch.nn.Module, image: np.ndarray, *, input_scale: float = 1.0,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """Module 1 of DeepLab: the DCNN's class scores of one frame, bilinearly upsampled to the frame.

    Parameters
    ----------
    net : nn.Module
        A DeepLab network (``forward_coarse`` gives stride-8 logits), in eval mode.
    image : ndarray (H, W, 3) uint8
        The RGB frame at the size the CRF and the evaluation use.
    input_scale : float
        The network sees the frame resized by this factor (its training resolution).
    device : optional
        Where to run the network (default: where its parameters are).

    Returns
    -------
    torch.Tensor, (C, H, W) float32, on the CPU
        Logits (scores before the softmax) at the frame's size.
    """
    check_image(image, "image", allow_float=False)
    input_scale = check_number(input_scale, "input_scale", 0, 4, open_min=True)
    height, width = image.shape[:2]
    small = image
    if input_scale != 1.0:
        small = resize_image(image, (max(8, round(height * input_scale)), max(8, round(width * input_scale))))
    if device is None:
        device = next(net.parameters()).device
    x = to_tensors(small)[None].to(device)
    with torch.no_grad():
        coarse = net.forward_coarse(x) if hasattr(net, "forward_coarse") else net(x)
        logits = F.interpolate(coarse.float(), size=(height, width), mode="bilinear", align_corners=False)
    return logits[0].cpu()
