"""Polygon annotations and pixel annotations, in the Cityscapes format.

Cityscapes annotators draw **polygons** (``*_gtFine_polygons.json``: image size
plus a list of objects, each a class name and a polygon of ``(x, y)`` points,
drawn in order so later objects cover earlier ones); the **pixel** label maps
(``*_labelIds.png``, ``*_labelTrainIds.png``) are rasterised from them by the
official ``cityscapesscripts.preparation.json2labelImg``.  The 20,000 coarse
annotations are quick rough polygons that leave many pixels unlabeled.

:func:`labels_to_polygons` goes the other way (a label map -> one polygon per
connected region, optionally simplified and shrunk to imitate a coarse
annotation), :func:`polygons_to_annotation` builds the JSON document and
:func:`rasterize_polygons` calls the official rasteriser on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["labels_to_polygons", "polygons_to_annotation", "rasterize_polygons"]


def labels_to_polygons(labels: np.ndarray, class_names: Mapping[int, str] | Sequence[str], *,
                       epsilon: float = 1.0, shrink: int = 0, min_area: int = 8,
                       skip: Sequence[int] = ()) -> list[dict]:
    """Outline each connected region of each class as a polygon.

    Parameters
    ----------
    labels : ndarray, (H, W), integer
        A label map (e.g. Cityscapes label ids).
    class_names : mapping or sequence
        ``class_names[label] -> name`` for every label that is outlined.
    epsilon : float
        Douglas-Peucker tolerance in pixels (``cv2.approxPolyDP``): 1 follows
        the boundary (fine), a few percent of the image size gives rough
        polygons (coarse).
    shrink : int
        Erode each region by this many pixels first: rough polygons stay
        inside objects and leave the boundaries unlabeled, as coarse
        annotations do.
    min_area : int
        Regions smaller than this (pixels, after shrinking) are left out.
    skip : sequence of int
        Labels not to outline (e.g. 0 'unlabeled', 255).

    Returns
    -------
    list of dict
        ``{"label": name, "polygon": [[x, y], ...]}`` sorted by region area,
        largest first (so small objects are drawn over large ones).
    """
    import cv2

    if not isinstance(labels, np.ndarray) or labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be an (H, W) integer array, got {getattr(labels, 'shape', None)}")
    if epsilon < 0 or shrink < 0 or min_area < 1:
        raise ValueError(f"epsilon={epsilon}, shrink={shrink} must be >= 0 and min_area={min_area} >= 1")
    kernel = np.ones((2 * shrink + 1, 2 * shrink + 1), np.uint8) if shrink else None
    found: list[tuple[float, dict]] = []
    for value in np.unique(labels):
        value = int(value)
        if value in skip:
            continue
        try:
            name = class_names[value]
        except (KeyError, IndexError):
            raise ValueError(f"labels holds {value}, which class_names does not name") from None
        mask = (labels == value).astype(np.uint8)
        if kernel is not None:
            mask = cv2.erode(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            area = float(cv2.contourArea(contour)) + len(contour)  # a 1-pixel-wide region has area 0
            if area < min_area:
                continue
            poly = cv2.approxPolyDP(contour, epsilon, True) if epsilon > 0 else contour
            if len(poly) < 3:
                continue
            points = [[int(x), int(y)] for x, y in poly.reshape(-1, 2)]
            found.append((area, {"label": str(name), "polygon": points}))
    found.sort(key=lambda item: -item[0])
    return [obj for _, obj in found]


def polygons_to_annotation(polygons: Sequence[dict], size: tuple[int, int]) -> dict:
    """The ``*_polygons.json`` document: ``{"imgHeight", "imgWidth", "objects"}`` for ``size = (H, W)``."""
    h, w = int(size[0]), int(size[1])
    if h < 1 or w < 1:
        raise ValueError(f"size must be (H, W) with positive sides, got {size!r}")
    for obj in polygons:
        if "label" not in obj or "polygon" not in obj or len(obj["polygon"]) < 3:
            raise ValueError(f"each polygon needs a 'label' and at least 3 points, got {obj!r:.80}")
    return {"imgHeight": h, "imgWidth": w, "objects": [dict(obj) for obj in polygons]}


def rasterize_polygons(annotation: dict, encoding: str = "ids") -> np.ndarray:
    """Rasterise a Cityscapes polygon annotation with the official tool.

    Calls ``cityscapesscripts.preparation.json2labelImg.createLabelImage``
    (what ``createTrainIdLabelImgs`` runs for every file).

    Parameters
    ----------
    annotation : dict
        A ``*_polygons.json`` document (:func:`polygons_to_annotation`).
    encoding : {'ids', 'trainIds'}
        Label ids (0-33; 0 'unlabeled' where no polygon lies) or train ids
        (0-18; 255 where no polygon lies or for classes not evaluated).

    Returns
    -------
    ndarray, (H, W), uint8
    """
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.helpers.labels import name2label
    from cityscapesscripts.preparation.json2labelImg import createLabelImage

    if encoding not in ("ids", "trainIds"):
        raise ValueError(f"encoding={encoding!r}: expected 'ids' or 'trainIds'")
    unknown = sorted({o["label"] for o in annotation.get("objects", [])} - set(name2label)
                     - {n + "group" for n in name2label})
    if unknown:
        raise ValueError(f"annotation has labels that Cityscapes does not define: {unknown}")
    parsed = Annotation()
    parsed.fromJsonText(json.dumps(annotation))
    return np.array(createLabelImage(parsed, encoding), dtype=np.uint8)
