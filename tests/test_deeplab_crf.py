"""DeepLab + dense CRF glue: temperature scaling, parameter scaling, official scores, evaluation with/without CRF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.crf import CRFParams
from course_utils.crf.deeplab import crf_labels, fit_temperature, scaled_crf_params
from course_utils.evaluate.crf import (LECTURE_RESULTS, format_results_table, frame_scores, results_table,
                                       search_crf_params)
from course_utils.evaluate.checkpoints import score_with_crf
from course_utils.evaluate.predict import dcnn_logits


def _scene(h: int = 48, w: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A blocky scene: class regions with distinct noisy colours; labels in train ids (0, 2, 10, 13)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((h, w), np.uint8)  # road
    labels[: h // 3] = 10  # sky
    labels[h // 3: h // 2, : w // 2] = 2  # building
    x0 = int(rng.integers(w // 4, w // 2))
    labels[h // 2: h // 2 + h // 4, x0: x0 + w // 4] = 13  # car
    colours = {0: (90, 90, 95), 10: (120, 170, 230), 2: (150, 80, 60), 13: (200, 30, 30)}
    image = np.zeros((h, w, 3), np.float64)
    for k, c in colours.items():
        image[labels == k] = c
    image += rng.normal(0, 6, image.shape)
    labels[0, :4] = 255  # some ignored pixels
    return np.clip(image, 0, 255).astype(np.uint8), labels


class _BlurryNet(torch.nn.Module):
    """A stand-in for a DCNN: the truth's one-hot scores at stride 8 (what ``forward_coarse`` returns)."""

    def __init__(self, labels: list[np.ndarray], scale: float = 4.0) -> None:
        super().__init__()
        self.labels = labels
        self.index = 0
        self.scale = scale
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward_coarse(self, x: torch.Tensor) -> torch.Tensor:
        lab = torch.from_numpy(np.where(self.labels[self.index] == 255, 0, self.labels[self.index]).astype(np.int64))
        onehot = F.one_hot(lab, 19).permute(2, 0, 1)[None].float()
        small = F.adaptive_avg_pool2d(onehot, (max(1, x.shape[2] // 8), max(1, x.shape[3] // 8)))
        self.index = (self.index + 1) % len(self.labels)
        return self.scale * small


@dataclass
class _Frame:
    stem: str


class _Dataset:
    def __init__(self, scenes):
        self.scenes = scenes
        self.frames = [_Frame(f"test_{i:06d}_000019") for i in range(len(scenes))]

    def __len__(self):
        return len(self.scenes)

    def load(self, i):
        return self.scenes[i]


def test_fit_temperature_recovers_the_true_temperature():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 60, 80, generator=g) * 3.0
    true_t = 2.5
    probs = torch.softmax(logits / true_t, dim=0).permute(1, 2, 0).reshape(-1, 5)
    labels = torch.multinomial(probs, 1, generator=g).reshape(60, 80).numpy()
    t = fit_temperature([logits], [labels])
    assert abs(t - true_t) / true_t < 0.1
    # ignored pixels are skipped: marking half of them 255 keeps the estimate
    half = labels.copy()
    half[:30] = 255
    assert abs(fit_temperature([logits], [half]) - true_t) / true_t < 0.15


def test_fit_temperature_bad_input():
    with pytest.raises(ValueError, match="logits"):
        fit_temperature([], [])
    with pytest.raises(ValueError, match="logits\\[0\\]"):
        fit_temperature([torch.zeros(3, 4, 5)], [np.zeros((4, 6), np.int64)])
    with pytest.raises(ValueError, match="bounds"):
        fit_temperature([torch.zeros(3, 4, 5)], [np.zeros((4, 5), np.int64)], bounds=(2.0, 1.0))
    with pytest.raises(ValueError, match="no labelled pixel"):
        fit_temperature([torch.zeros(3, 4, 5)], [np.full((4, 5), 255)])


def test_scaled_crf_params():
    p = CRFParams(w1=4, sigma_alpha=120, sigma_beta=5, w2=3, sigma_gamma=4)
    q = scaled_crf_params(p, 512, 2048)
    assert (q.sigma_alpha, q.sigma_gamma) == (30.0, 1.0)
    assert (q.w1, q.w2, q.sigma_beta) == (4, 3, 5)
    assert scaled_crf_params(p, 2048, 2048) == p
    up = scaled_crf_params(p, 2048, 512)  # a course checkpoint's widths (512-wide frames) on real Cityscapes
    assert (up.sigma_alpha, up.sigma_gamma) == (480.0, 16.0)
    with pytest.raises(TypeError):
        scaled_crf_params(p, 512)  # no default reference: the frames the settings were chosen for must be named
    with pytest.raises(ValueError, match="width"):
        scaled_crf_params(p, 0, 2048)
    with pytest.raises(TypeError, match="params"):
        scaled_crf_params({"w1": 1}, 512, 2048)


def test_frame_scores_match_the_official_evaluation(tmp_path: Path):
    from PIL import Image

    from course_utils.data.cityscapes import train_ids_to_label_ids
    from course_utils.evaluate.cityscapes import evaluate_cityscapes

    rng = np.random.default_rng(1)
    truth, preds = [], []
    for i in range(2):
        _, lab = _scene(seed=i)
        pred = np.where(lab == 255, 0, lab).copy()
        flip = rng.random(pred.shape) < 0.2
        pred[flip] = rng.integers(0, 19, int(flip.sum()))
        truth.append(lab)
        preds.append(pred.astype(np.uint8))
        gt_ids = np.where(lab == 255, 0, train_ids_to_label_ids(np.where(lab == 255, 0, lab))).astype(np.uint8)
        (tmp_path / "gt" / "test").mkdir(parents=True, exist_ok=True)
        (tmp_path / "pred").mkdir(exist_ok=True)
        Image.fromarray(gt_ids).save(tmp_path / "gt" / "test" / f"test_{i:06d}_000019_gtFine_labelIds.png")
        Image.fromarray(train_ids_to_label_ids(pred)).save(tmp_path / "pred" / f"test_{i:06d}_000019_leftImg8bit.png")
    official = evaluate_cityscapes(tmp_path / "pred", tmp_path / "gt")
    ours = frame_scores(truth, preds, widths=(0, 2))
    assert ours["mean_iou"] == pytest.approx(official["mean_iou"], abs=1e-12)
    assert set(ours["trimap"]) >= {"width", "pixel_acc", "pixels"}
    assert 0 < ours["trimap"]["pixel_acc"][0] < 1
    with pytest.raises(ValueError, match="labels_true"):
        frame_scores(truth, preds[:1])


def test_dcnn_logits_shape_and_scale():
    image, lab = _scene()
    net = _BlurryNet([lab])
    logits = dcnn_logits(net, image, input_scale=0.5)
    assert logits.shape == (19, 48, 64) and logits.dtype == torch.float32
    agree = (logits.argmax(0).numpy() == lab)[lab != 255].mean()
    assert agree > 0.8
    with pytest.raises(ValueError, match="input_scale"):
        dcnn_logits(net, image, input_scale=0)


def test_crf_labels_temperature_checked_and_sharp_unaries_kept():
    image, lab = _scene()
    logits = 20.0 * F.one_hot(torch.from_numpy(np.where(lab == 255, 0, lab).astype(np.int64)), 19).permute(2, 0, 1).float()
    labels, result = crf_labels(image, logits, CRFParams(w1=4, sigma_alpha=10, sigma_beta=10, w2=3, sigma_gamma=1))
    assert labels.dtype == np.uint8 and (labels == np.where(lab == 255, 0, lab)).mean() > 0.99
    assert result.probs.shape == (19, 48, 64)
    with pytest.raises(ValueError, match="temperature"):
        crf_labels(image, logits, CRFParams(), temperature=0)


def test_evaluate_crf_improves_boundaries_of_blurred_scores():
    scenes = [_scene(seed=s) for s in range(2)]
    net = _BlurryNet([lab for _, lab in scenes])
    params = CRFParams(w1=6, sigma_alpha=12, sigma_beta=12, w2=2, sigma_gamma=1)
    ev = score_with_crf(net, _Dataset(scenes), params=params, iterations=5, history_class=13, widths=(1, 2, 16))
    assert ev.frames == ["test_000000_000019", "test_000001_000019"]
    gain = ev.gain(width_max=2)
    assert gain["trimap_small"] > 0.02  # sharp colour edges: the CRF fixes the blurred boundaries
    assert ev.crf["mean_iou"] > ev.dcnn["mean_iou"]
    first = ev.first["result"]
    assert first.scores_history.shape[:2] == (6, 1) and first.history_classes == [13]
    assert np.all(np.diff(first.objective.numpy()) <= 1e-6 * np.abs(first.objective.numpy()[:-1]))
    with pytest.raises(ValueError, match="frames"):
        score_with_crf(net, _Dataset(scenes), params=params, frames=5)


def test_search_crf_params_picks_the_best_candidate():
    scenes = [_scene(seed=s) for s in range(2)]
    net = _BlurryNet([lab for _, lab in scenes])
    images = [im for im, _ in scenes]
    logits = [dcnn_logits(net, im) for im in images]
    good = CRFParams(w1=6, sigma_alpha=12, sigma_beta=12, w2=2, sigma_gamma=1)
    off = CRFParams(w1=0.0, sigma_alpha=12, sigma_beta=12, w2=0.0, sigma_gamma=1)  # no pairwise term: no change
    best, rows = search_crf_params(images, logits, [lab for _, lab in scenes], [off, good], band=2)
    assert best == good
    assert rows[0]["params"] is None and rows[1]["mean_iou"] == pytest.approx(rows[0]["mean_iou"])
    assert rows[2]["trimap"] > rows[0]["trimap"]
    with pytest.raises(ValueError, match="candidates"):
        search_crf_params(images, logits, [lab for _, lab in scenes], [])


def test_results_table_layout():
    ours = {("largefov", False): 0.30, ("largefov", True): 0.31, ("aspp", False): 0.35, ("aspp", True): 0.36}
    rows = results_table(ours, full=False, aug=True)
    assert len(rows) == len(LECTURE_RESULTS) + 4
    assert [r["miou"] for r in rows[: len(LECTURE_RESULTS)]] == [r["miou"] for r in LECTURE_RESULTS]
    mine = {(r["largefov"], r["crf"]): r for r in rows[len(LECTURE_RESULTS):]}
    assert mine[(True, False)]["lecture_miou"] == 62.97 and mine[(True, True)]["lecture_miou"] == 64.18
    assert mine[(False, False)]["lecture_miou"] == 71.0 and mine[(False, True)]["lecture_miou"] == 71.4
    assert mine[(True, False)]["miou"] == pytest.approx(30.0)
    text = format_results_table(rows)
    assert text.count("\n") == len(rows) + 1 and "| lecture | ResNet-101 | yes | yes |  | yes | yes | 71.4 |" in text
    assert "| 62.97 |" in text and "| 30.0 | 62.97 |" in text and "| 35.0 | 71.0 |" in text
    with pytest.raises(ValueError, match="ours"):
        results_table({("fcn", False): 0.1}, full=False, aug=True)


def test_labelling_energy_matches_the_exact_kernel_sum():
    from course_utils.crf.exact import ExactDenseCRF
    from course_utils.crf.deeplab import labelling_energy

    image, lab = _scene(16, 24)
    lab = np.where(lab == 255, 0, lab)
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(19, 16, 24, generator=g)
    params = CRFParams(w1=4, sigma_alpha=6, sigma_beta=15, w2=3, sigma_gamma=1.5)
    exact = ExactDenseCRF(image, params)
    x = torch.from_numpy(lab.reshape(-1).astype(np.int64))
    differ = (x[:, None] != x[None, :]).to(torch.float64)
    pair_exact = float(0.5 * (exact.kernel * differ).sum())
    unary = -torch.log(torch.softmax(logits, 0).clamp(min=1e-5)).reshape(19, -1).t()
    unary_exact = float(unary.gather(1, x[:, None]).sum())
    e_exact = labelling_energy(image, logits, lab, params, crf=exact)
    assert e_exact["pairwise"] == pytest.approx(pair_exact, rel=1e-5)
    assert e_exact["unary"] == pytest.approx(unary_exact, rel=1e-5)
    e_lattice = labelling_energy(image, logits, lab, params)
    assert e_lattice["pairwise"] == pytest.approx(pair_exact, rel=0.1)
    # a labelling with more disagreeing neighbours costs more pairwise energy
    noisy = lab.copy()
    noisy[::2, ::2] = 7
    assert labelling_energy(image, logits, noisy, params, crf=exact)["pairwise"] > pair_exact
    with pytest.raises(ValueError, match="labels"):
        labelling_energy(image, logits, lab[:-1], params)
