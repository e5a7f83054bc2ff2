"""The real photos that ship with scikit-image and scikit-learn, by name.

These need no download (``skimage.data`` bundles them; scikit-learn ships two
JPEGs).  Every function returns an RGB ``uint8`` image ``(H, W, 3)``; grey
photos are stacked to three channels so that every method gets the same kind
of input.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SAMPLE_IMAGES", "sample_image", "sample_image_names"]

# name -> (source, loader name, note)
SAMPLE_IMAGES: dict[str, tuple[str, str, str]] = {
    "astronaut": ("skimage", "astronaut", "Eileen Collins, 512x512 colour"),
    "chelsea": ("skimage", "chelsea", "a cat, 300x451 colour"),
    "coffee": ("skimage", "coffee", "a coffee cup, 400x600 colour"),
    "rocket": ("skimage", "rocket", "a rocket on its pad, 427x640 colour"),
    "immunohistochemistry": ("skimage", "immunohistochemistry", "stained tissue, 512x512 colour"),
    "retina": ("skimage", "retina", "a human retina, 1411x1411 colour"),
    "hubble": ("skimage", "hubble_deep_field", "Hubble deep field, 872x1000 colour"),
    "camera": ("skimage", "camera", "the cameraman, 512x512 grey"),
    "coins": ("skimage", "coins", "coins on a table, 303x384 grey"),
    "moon": ("skimage", "moon", "the moon's surface, 512x512 grey"),
    "china": ("sklearn", "china.jpg", "a Chinese temple, 427x640 colour"),
    "flower": ("sklearn", "flower.jpg", "a flower, 427x640 colour"),
}


def sample_image_names() -> list[str]:
    """The valid names for :func:`sample_image`, sorted."""
    return sorted(SAMPLE_IMAGES)


def sample_image(name: str) -> np.ndarray:
    """Return the sample photo ``name`` as an RGB uint8 array ``(H, W, 3)``.

    Raises
    ------
    ValueError
        If ``name`` is not one of :func:`sample_image_names`; the message lists them.
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"name={name!r} is not a sample image; valid names: {', '.join(sample_image_names())}")
    source, key, _ = SAMPLE_IMAGES[name]
    if source == "skimage":
        import skimage.data

        image = getattr(skimage.data, key)()
    else:
        from sklearn.datasets import load_sample_image

        image = load_sample_image(key)
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.dtype != np.uint8:
        raise RuntimeError(f"sample {name!r} came as {image.dtype}; expected uint8")  # pragma: no cover
    return np.ascontiguousarray(image[..., :3])
