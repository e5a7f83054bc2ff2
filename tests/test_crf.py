"""The dense CRF in PyTorch: lattice filtering, mean field, conventions, bad input (issue 8)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import torch

from course_utils.crf import CRFParams, DenseCRF, PermutohedralLattice, coarse_logits, coarse_probs, dense_crf, photo_labels
from course_utils.crf.exact import ExactDenseCRF, exact_dense_crf, exact_filter
from course_utils.data.samples import sample_image
from course_utils.evaluate.boundary import trimap_scores
from course_utils.images import resize_image


pytestmark = pytest.mark.usefixtures("one_thread")


@lru_cache(maxsize=None)
def _case(name: str, size: tuple[int, int], classes: int, segments: int, seed: int = 0):
    """A real photo, a label map that follows its edges, and a coarse noisy softmax of it (1/8 resolution)."""
    image = resize_image(sample_image(name), size)
    labels = photo_labels(image, classes, segments=segments, rng=seed)
    probs = coarse_probs(labels, classes, stride=8, rng=seed)[0]
    return image, labels, probs


# ---------------------------------------------------------------- the lattice


@pytest.mark.parametrize("d, tol", [(2, 0.005), (3, 0.01), (5, 0.03)])
def test_lattice_matches_exact_gaussian_filter_after_normalisation(d, tol):
    g = torch.Generator().manual_seed(d)
    features = torch.rand(1500, d, generator=g) * 5.0
    values = torch.rand(1500, 3, generator=g)
    lattice = PermutohedralLattice(features)
    approx = lattice.filter(values) / lattice.filter_ones()[:, None]
    exact = exact_filter(features, values) / exact_filter(features, torch.ones(1500, 1))
    rel = float((approx.double() - exact).abs().mean() / exact.abs().mean())
    assert rel < tol, f"d={d}: normalised lattice filter differs from the exact one by {rel:.4f}"
    # A wider or narrower exact Gaussian fits worse: the lattice's kernel has unit width.
    for s in (0.7, 1.5):
        other = exact_filter(features / s, values) / exact_filter(features / s, torch.ones(1500, 1))
        assert float((approx.double() - other).abs().mean() / other.abs().mean()) > rel


def test_lattice_structure_and_linearity():
    g = torch.Generator().manual_seed(1)
    features = torch.rand(800, 5, generator=g) * 3.0
    lattice = PermutohedralLattice(features)
    assert torch.allclose(lattice.weights.sum(dim=1), torch.ones(800), atol=1e-5)
    assert bool((lattice.weights >= -1e-6).all())
    v = lattice.vertices
    assert v.shape == (800, 6) and int(v.min()) >= 1 and int(v.max()) == lattice.num_vertices
    assert all(len(set(row.tolist())) == 6 for row in v[:50])  # d+1 distinct vertices per simplex
    a, b = torch.rand(800, 2, generator=g), torch.rand(800, 2, generator=g)
    assert torch.allclose(lattice.filter(2 * a + b), 2 * lattice.filter(a) + lattice.filter(b), atol=1e-4)
    # The splat entries in vertex order describe the same matrix as (vertices, weights).
    counts, points, flat = lattice.splat_entries(torch.int32)
    assert torch.equal(counts, torch.bincount(v.reshape(-1), minlength=lattice.num_vertices + 1))
    assert points.dtype == flat.dtype == torch.int32 and torch.equal(flat.long() // 6, points.long())
    dense = torch.zeros(lattice.num_vertices + 1, 800)
    dense[v.reshape(-1), torch.arange(800).repeat_interleave(6)] = lattice.weights.reshape(-1)
    order = torch.repeat_interleave(torch.arange(lattice.num_vertices + 1), counts)
    assert torch.allclose(dense[order, points.long()], lattice.weights.reshape(-1)[flat.long()])


def test_lattice_identical_points_share_one_simplex():
    features = torch.tensor([[0.3, 1.2]] * 50 + [[5.0, -2.0]] * 30)
    lattice = PermutohedralLattice(features)
    assert lattice.num_simplices == 2 and lattice.num_vertices == 6
    out = lattice.filter(torch.ones(80, 1))[:, 0]
    assert torch.allclose(out[:50], out[0].expand(50)) and float(out[0]) > float(out[60])


def test_lattice_bad_input():
    with pytest.raises(ValueError, match="features"):
        PermutohedralLattice(torch.zeros(10))
    with pytest.raises(TypeError, match="features"):
        PermutohedralLattice(torch.zeros(10, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="NaN"):
        PermutohedralLattice(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="values"):
        PermutohedralLattice(torch.rand(10, 2)).filter(torch.rand(9, 1))


# ---------------------------------------------------------------- mean field against the exact O(N^2) version


@pytest.mark.parametrize("params", [CRFParams(w1=5, sigma_alpha=10, sigma_beta=20, w2=3, sigma_gamma=2),
                                    CRFParams(w1=4, sigma_alpha=30, sigma_beta=8, w2=1, sigma_gamma=1)],
                         ids=["moderate", "sharp-colour"])
def test_lattice_crf_matches_exact_crf_on_a_tiny_image(params):
    image, labels, probs = _case("chelsea", (40, 56), 4, 14)
    ours = dense_crf(image, probs, params=params, iterations=5)
    exact = exact_dense_crf(image, probs, params=params, iterations=5)
    agree = float((ours.labels == exact.labels).float().mean())
    assert agree >= 0.97, f"labels agree on {agree:.3f}"
    assert float((ours.probs - exact.probs).abs().mean()) < 0.02
    # ... and the CRF did something: it changed labels relative to the unaries.
    assert float((exact.labels != probs.argmax(0)).float().mean()) > 0.01


def test_exact_crf_plain_energy_and_limits():
    image, _, probs = _case("chelsea", (12, 16), 3, 6)
    plain = ExactDenseCRF(image, CRFParams(w1=2, sigma_alpha=3, sigma_beta=10, w2=1, sigma_gamma=1),
                          normalization="none", include_self=False)
    k = plain.kernel
    assert torch.allclose(torch.diagonal(k), torch.zeros(192, dtype=k.dtype))
    # The lecture's kernel, by hand, for two pixels: positions (x, y) and colours in 0-255 units.
    i, j = 5, 37  # (y=0, x=5) and (y=2, x=5)
    pi, pj = np.array([5, 0]), np.array([5, 2])
    ci, cj = image.reshape(-1, 3)[i].astype(float), image.reshape(-1, 3)[j].astype(float)
    want = 2 * np.exp(-((pi - pj) ** 2).sum() / (2 * 3**2) - ((ci - cj) ** 2).sum() / (2 * 10**2)) \
        + np.exp(-((pi - pj) ** 2).sum() / 2)
    assert float(k[i, j]) == pytest.approx(want, rel=1e-6)
    with pytest.raises(ValueError, match="max_pixels"):
        ExactDenseCRF(np.zeros((70, 70, 3), np.uint8))
    with pytest.raises(ValueError, match="normalization"):
        ExactDenseCRF(image, normalization="after")
    assert exact_dense_crf(image, probs, iterations=2).probs.shape == probs.shape


# ---------------------------------------------------------------- properties of the mean field


def test_objective_never_increases_and_crf_helps_near_boundaries():
    image, labels, probs = _case("astronaut", (120, 160), 6, 30)
    params = CRFParams(w1=5, sigma_alpha=10, sigma_beta=8, w2=1, sigma_gamma=1)  # widths for a 120x160 image
    result = dense_crf(image, probs, params=params, iterations=8, objective=True)
    obj = result.objective.numpy()
    assert obj.shape == (9,)
    steps = np.diff(obj)
    assert np.all(steps <= 1e-4 * np.abs(obj[:-1])), f"objective went up: {obj}"
    assert obj[-1] < obj[0] - 1.0
    coarse = probs.argmax(0).numpy()
    refined = result.labels.numpy()
    assert (refined == labels).mean() > (coarse == labels).mean()
    before = trimap_scores(labels, coarse, 6, widths=(1, 3))["pixel_acc"]
    after = trimap_scores(labels, refined, 6, widths=(1, 3))["pixel_acc"]
    assert np.all(after > before + 0.02), (before, after)


def test_potts_sign_smooths_an_isolated_pixel():
    image = np.full((21, 21, 3), 120, np.uint8)
    probs = torch.full((2, 21, 21), 0.0)
    probs[0] = 0.7
    probs[1] = 0.3
    probs[:, 10, 10] = torch.tensor([0.4, 0.6])  # one pixel prefers class 1, its neighbourhood class 0
    without = dense_crf(image, probs, params=CRFParams(w1=0, w2=0), iterations=3)
    assert int(without.labels[10, 10]) == 1
    assert torch.allclose(without.probs, probs, atol=1e-6)  # no pairwise term: the unaries' softmax
    smoothed = dense_crf(image, probs, params=CRFParams(w1=0, w2=3, sigma_gamma=2), iterations=3)
    assert int(smoothed.labels[10, 10]) == 0
    assert float(smoothed.probs[0].min()) > 0.7  # agreeing neighbours reinforce each other


def test_colour_edges_stop_the_appearance_kernel():
    # Left half dark, right half bright; the unaries are right on the left, uncertain on the right.
    image = np.zeros((16, 32, 3), np.uint8)
    image[:, 16:] = 230
    probs = torch.empty(2, 16, 32)
    probs[0, :, :16], probs[1, :, :16] = 0.9, 0.1
    probs[0, :, 16:], probs[1, :, 16:] = 0.45, 0.55
    params = CRFParams(w1=8, sigma_alpha=40, sigma_beta=5, w2=0)
    result = dense_crf(image, probs, params=params, iterations=5)
    assert bool((result.labels[:, 16:] == 1).all()) and bool((result.labels[:, :16] == 0).all())
    blind = dense_crf(image, probs, params=CRFParams(w1=8, sigma_alpha=40, sigma_beta=1000, w2=0), iterations=5)
    assert float((blind.labels[:, 16:] == 0).float().mean()) > 0.5  # without colours it bleeds over


def test_batch_equals_single_and_logits_equal_probs():
    image_a, _, probs_a = _case("chelsea", (48, 64), 3, 10)
    image_b, _, probs_b = _case("coffee", (48, 64), 3, 10)
    params = CRFParams(w1=4, sigma_alpha=20, sigma_beta=10)
    batch = dense_crf(np.stack([image_a, image_b]), torch.stack([probs_a, probs_b]), params=params, iterations=4,
                      history=True, history_classes=[1], objective=True)
    single = dense_crf(image_b, probs_b, params=params, iterations=4, history=True, history_classes=[1],
                       objective=True)
    assert batch.probs.shape == (2, 3, 48, 64)
    assert torch.allclose(batch.probs[1], single.probs, atol=1e-6)
    assert batch.scores_history.shape == (2, 5, 1, 48, 64) and batch.objective.shape == (2, 5)
    assert torch.allclose(batch.objective[1], single.objective)
    logits = torch.log(probs_b) + 3.0  # any per-pixel shift of log-probabilities is the same logits
    from_logits = dense_crf(image_b, logits=logits, params=params, iterations=4)
    assert torch.allclose(from_logits.probs, single.probs, atol=1e-5)
    from_numpy = dense_crf(image_b, probs_b.numpy(), params=params, iterations=4)
    assert torch.equal(from_numpy.labels, single.labels)


def test_history_holds_scores_before_and_probabilities_after_the_softmax():
    image, _, probs = _case("chelsea", (30, 40), 3, 8)
    result = dense_crf(image, probs, iterations=3, history=True)
    assert result.scores_history.shape == (4, 3, 30, 40) and result.history_classes == [0, 1, 2]
    unary = -torch.log(probs.clamp(min=1e-5))
    assert torch.allclose(result.scores_history[0], -unary)
    assert torch.allclose(result.probs_history, torch.softmax(result.scores_history, dim=1), atol=1e-5)
    assert torch.allclose(result.probs_history[-1], result.probs)
    assert torch.equal(result.labels, result.probs.argmax(0))
    crf = DenseCRF(image)
    u = unary.permute(1, 2, 0).reshape(-1, 3)
    q0 = result.probs_history[0].permute(1, 2, 0).reshape(-1, 3)
    scores, q1 = crf.step(u, q0)
    assert torch.allclose(q1, result.probs_history[1].permute(1, 2, 0).reshape(-1, 3), atol=1e-5)
    assert torch.allclose(scores, result.scores_history[1].permute(1, 2, 0).reshape(-1, 3), atol=1e-4)


def test_runs_on_every_device(device):
    image, _, probs = _case("chelsea", (40, 56), 4, 14)
    cpu = dense_crf(image, probs, iterations=3)
    there = dense_crf(image, probs.to(device), iterations=3)
    assert there.probs.device.type == device.type
    assert float((there.labels.cpu() == cpu.labels).float().mean()) > 0.995


def test_params_names_and_validation():
    p = CRFParams(w1=10, sigma_alpha=80, sigma_beta=13, w2=3, sigma_gamma=3)
    kw = p.to_pydensecrf()
    assert kw == {"gaussian": {"sxy": 3.0, "compat": 3.0}, "bilateral": {"sxy": 80.0, "srgb": 13.0, "compat": 10.0}}
    back = CRFParams.from_pydensecrf(gaussian_sxy=3, gaussian_compat=3, bilateral_sxy=80, bilateral_srgb=13,
                                     bilateral_compat=10)
    assert back == p == CRFParams.pydensecrf_example()
    for name in ("sigma_alpha", "sigma_beta", "sigma_gamma"):
        with pytest.raises(ValueError, match=name):
            CRFParams(**{name: -3.0})
        with pytest.raises(ValueError, match=name):
            CRFParams(**{name: 0.0})
    with pytest.raises(ValueError, match="w1"):
        CRFParams(w1=-1.0)
    with pytest.raises(ValueError, match="w2"):
        CRFParams(w2="3")
    assert CRFParams.from_config() == CRFParams()


def test_bad_input_is_named():
    image, _, probs = _case("chelsea", (30, 40), 3, 8)
    with pytest.raises(ValueError, match="same size"):
        dense_crf(image, probs[:, :20])
    with pytest.raises(ValueError, match="sum to one"):
        dense_crf(image, probs * 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dense_crf(image, probs * 3 - 1)
    with pytest.raises(ValueError, match="image"):
        dense_crf(image[..., 0], probs)  # grey
    with pytest.raises(ValueError, match="image"):
        dense_crf(np.concatenate([image, image[..., :1]], axis=-1), probs)  # RGBA
    with pytest.raises(ValueError, match="exactly one"):
        dense_crf(image, probs, logits=probs)
    with pytest.raises(ValueError, match="exactly one"):
        dense_crf(image)
    with pytest.raises(ValueError, match="iterations"):
        dense_crf(image, probs, iterations=-1)
    with pytest.raises(ValueError, match="probs"):
        dense_crf(image, probs[0])
    with pytest.raises(ValueError, match="batch"):
        dense_crf(np.stack([image, image]), probs)
    with pytest.raises(ValueError, match="2 images"):
        dense_crf(np.stack([image, image]), torch.stack([probs] * 3))
    with pytest.raises(ValueError, match="history_classes"):
        dense_crf(image, probs, history=True, history_classes=[3])
    with pytest.raises(ValueError, match="logits"):
        dense_crf(image, logits=torch.full_like(probs, float("nan")))
    with pytest.raises(ValueError, match="sigma_beta"):
        dense_crf(image, probs, params=CRFParams(sigma_beta=-5))


def test_test_unaries_are_realistic():
    image, labels, probs = _case("chelsea", (64, 96), 5, 20)
    assert labels.shape == (64, 96) and set(np.unique(labels)) == set(range(5))
    assert torch.allclose(probs.sum(0), torch.ones(64, 96), atol=1e-5)
    acc = (probs.argmax(0).numpy() == labels).mean()
    assert 0.6 < acc < 0.99  # mostly right, wrong near boundaries
    edges = trimap_scores(labels, probs.argmax(0).numpy(), 5, widths=(1,))["pixel_acc"][0]
    assert edges < acc - 0.1
    again = coarse_logits(labels, 5, rng=0)
    assert torch.equal(again, coarse_logits(labels, 5, rng=0))
    assert not torch.equal(again, coarse_logits(labels, 5, rng=1))


def test_lattice_handles_feature_ranges_too_wide_to_pack():
    # Keys spanning more than 62 bits take the unpacked path (unique rows); results must not change.
    g = torch.Generator().manual_seed(4)
    near = torch.rand(300, 5, generator=g) * 3.0
    far = near[:50] + 1e5 * torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])
    features = torch.cat([near, far])
    values = torch.rand(350, 2, generator=g)
    lattice = PermutohedralLattice(features)
    approx = lattice.filter(values) / lattice.filter_ones()[:, None]
    exact = exact_filter(features, values) / exact_filter(features, torch.ones(350, 1))
    assert float((approx.double() - exact).abs().mean() / exact.abs().mean()) < 0.03
    reference = PermutohedralLattice(near)  # the near points alone: the far ones do not reach them
    assert torch.allclose(lattice.filter(values)[:300], reference.filter(values[:300]), atol=1e-4)
