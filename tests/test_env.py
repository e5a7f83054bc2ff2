import numpy as np
import pytest
import torch

from course_utils import config, env


def test_full_mode_reads_the_variable(monkeypatch):
    monkeypatch.delenv(env.FULL_ENV, raising=False)
    assert env.is_full_mode() is False
    monkeypatch.setenv(env.FULL_ENV, "1")
    assert env.is_full_mode() is True
    monkeypatch.setenv(env.FULL_ENV, "0")
    assert env.is_full_mode() is False
    monkeypatch.setenv(env.FULL_ENV, "maybe")
    with pytest.raises(ValueError, match="SEGCOURSE_FULL"):
        env.is_full_mode()


def test_setting_switches_with_mode(monkeypatch):
    monkeypatch.setenv(env.FULL_ENV, "0")
    quick = config.setting("fcn", "image_size")
    monkeypatch.setenv(env.FULL_ENV, "1")
    full = config.setting("fcn", "image_size")
    assert (quick, full) == config.SETTINGS["fcn"]["image_size"]
    assert quick < full


def test_setting_unknown_names_the_valid_ones():
    with pytest.raises(KeyError, match="fcn"):
        config.setting("nope", "x")
    with pytest.raises(KeyError, match="image_size"):
        config.setting("fcn", "nope")


def test_every_setting_is_a_quick_full_pair():
    for lesson, section in config.SETTINGS.items():
        for key, value in section.items():
            assert isinstance(value, tuple) and len(value) == 2, (lesson, key)


def test_get_device_default_and_override(monkeypatch):
    monkeypatch.delenv(env.DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        expected = "mps"  # pragma: no cover
    assert env.get_device().type == expected
    monkeypatch.setenv(env.DEVICE_ENV, "cpu")
    assert env.get_device() == torch.device("cpu")
    assert env.get_device("cpu") == torch.device("cpu")


def test_get_device_bad_values(monkeypatch):
    monkeypatch.setenv(env.DEVICE_ENV, "gpu0")
    with pytest.raises(ValueError, match="SEGCOURSE_DEVICE"):
        env.get_device()
    if not torch.cuda.is_available():
        with pytest.raises(env.DeviceError, match="not available"):
            env.get_device("cuda")


@pytest.fixture
def restore_determinism():
    """seed_everything switches torch's deterministic mode on: put it back however the test ends."""
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    yield
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2], before[3]


def test_seed_everything_is_reproducible(restore_determinism):
    env.seed_everything(3)
    a = (np.random.rand(3), torch.rand(3))
    env.seed_everything(3)
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed"):
        env.seed_everything(-1)


def test_describe_environment_lists_versions_device_mode():
    text = env.describe_environment()
    for word in ("torch", "torchvision", "opencv", "device", "mode"):
        assert word in text
