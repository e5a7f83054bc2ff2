"""Our dense CRF against the C++ reference (pydensecrf, an optional extra): same labels (issue 8)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.crf import CRFParams, dense_crf, photo_labels, coarse_probs
from course_utils.data.samples import sample_image
from course_utils.images import resize_image

dcrf = pytest.importorskip("pydensecrf.densecrf", reason="pydensecrf (the 'crf' extra) is not installed")
utils = pytest.importorskip("pydensecrf.utils")


pytestmark = pytest.mark.usefixtures("one_thread")


def _reference(image: np.ndarray, probs: np.ndarray, params: CRFParams, iterations: int) -> np.ndarray:
    c, h, w = probs.shape
    crf = dcrf.DenseCRF2D(w, h, c)
    crf.setUnaryEnergy(utils.unary_from_softmax(probs))
    kw = params.to_pydensecrf()
    crf.addPairwiseGaussian(**kw["gaussian"])
    crf.addPairwiseBilateral(rgbim=np.ascontiguousarray(image), **kw["bilateral"])
    return np.array(crf.inference(iterations)).reshape(c, h, w)


@pytest.mark.parametrize("name, size, classes, params", [
    ("china", (375, 500), 21, CRFParams.pydensecrf_example()),
    ("coffee", (375, 500), 21, CRFParams()),
    ("astronaut", (200, 360), 19, CRFParams(w1=6, sigma_alpha=40, sigma_beta=9, w2=2, sigma_gamma=1.5)),
], ids=["china-500x375x21-readme", "coffee-500x375x21-deeplab", "astronaut-360x200x19"])
def test_same_labels_as_pydensecrf(name, size, classes, params):
    image = resize_image(sample_image(name), size)
    labels = photo_labels(image, classes, segments=80, rng=1)
    probs = coarse_probs(labels, classes, rng=1)[0]
    ref = _reference(image, probs.numpy(), params, 10)
    ours = dense_crf(image, probs, params=params, iterations=10).probs.numpy()
    agree = float((ours.argmax(0) == ref.argmax(0)).mean())
    assert agree >= 0.98, f"labels agree on {agree:.4f} of the pixels"
    assert float(np.abs(ours - ref).mean()) < 1e-3
    # The comparison is not vacuous: the CRF changed many labels.
    assert float((ref.argmax(0) != probs.numpy().argmax(0)).mean()) > 0.02


def test_pydensecrf_potts_sign_and_kernel_without_colours():
    # pydensecrf's PottsCompatibility(w) rewards agreement (-w * filtered Q inside the energy); with
    # only the Gaussian kernel, ours must agree label for label on a noisy map.
    rng = np.random.default_rng(3)
    image = np.zeros((60, 80, 3), np.uint8)
    p = np.ascontiguousarray(rng.dirichlet(np.ones(3) * 0.7, size=(60, 80)).transpose(2, 0, 1).astype(np.float32))
    c, h, w = p.shape
    ref = dcrf.DenseCRF2D(w, h, c)
    ref.setUnaryEnergy(utils.unary_from_softmax(p))
    ref.addPairwiseGaussian(sxy=2, compat=4)
    q_ref = np.array(ref.inference(5)).reshape(c, h, w)
    ours = dense_crf(image, torch.from_numpy(p), params=CRFParams(w1=0, w2=4, sigma_gamma=2), iterations=5).probs
    assert float((ours.numpy().argmax(0) == q_ref.argmax(0)).mean()) >= 0.99
    assert np.abs(ours.numpy() - q_ref).max() < 1e-3
