"""The DeepLab entry point under torchrun: 2 CPU processes (Gloo) against one process with the same global batch."""

import os
import socket
import subprocess
import sys

import pytest
import torch

from course_utils.data.minicity import write_minicity

# no BatchNorm (PyTorch has no synchronised BatchNorm on the CPU) and no dropout (each process draws its own
# masks), so that two processes and one process compute the same updates up to the loss normalisation
ARGS = ["deeplab", "--model", "largefov", "--width", "0.0625", "--epochs", "2", "--batch-size", "4",
        "--crop", "32", "64", "--input-scale", "0.5", "--dropout", "0", "--no-batch-norm", "--lr", "0.02",
        "--no-cache", "--no-eval", "--save-all-ranks", "--device", "cpu"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path):
    env = dict(os.environ, SEGCOURSE_DATA=str(tmp_path / "data"), OMP_NUM_THREADS="1", TQDM_DISABLE="1",
               PYTHONHASHSEED="0")
    env.pop("CITYSCAPES_DATASET", None)
    return env


def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=False)["net"]


@pytest.mark.timeout(300)
def test_two_processes_match_one(tmp_path):
    root = write_minicity(tmp_path / "mc", train_images=8, val_images=1, size=(64, 128), progress=False)
    common = ARGS + ["--data-root", str(root)]
    ddp = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(_free_port()), "-m", "course_utils.train", *common, "--out", str(tmp_path / "ddp")],
        env=_env(tmp_path), capture_output=True, text=True, timeout=240)
    assert ddp.returncode == 0, ddp.stdout[-3000:] + ddp.stderr[-3000:]
    single = subprocess.run([sys.executable, "-m", "course_utils.train", *common, "--out", str(tmp_path / "one")],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=240)
    assert single.returncode == 0, single.stderr[-3000:]
    # rank 0 alone logs and writes the checkpoint
    assert ddp.stdout.count("training DeepLab-LargeFOV") == 1 and "2 process(es)" in ddp.stdout
    assert (tmp_path / "ddp" / "checkpoint.pt").exists() and (tmp_path / "ddp" / "final.pt").exists()
    rank0, rank1 = _weights(tmp_path / "ddp" / "final_rank0.pt"), _weights(tmp_path / "ddp" / "final_rank1.pt")
    one = _weights(tmp_path / "one" / "final_rank0.pt")
    torch.manual_seed(0)
    from course_utils.train.deeplab import build_deeplab, deeplab_settings

    start = build_deeplab(deeplab_settings("largefov", width=0.0625, dropout=0.0, batch_norm=False)).state_dict()
    moved = sum(float((one[k] - start[k]).norm() ** 2) for k in one) ** 0.5
    gap = sum(float((rank0[k] - one[k]).norm() ** 2) for k in one) ** 0.5
    for k in rank0:  # the replicas stay identical
        assert torch.equal(rank0[k], rank1[k]), k
    assert moved > 1e-3  # training changed the weights...
    assert gap < 0.05 * moved, (gap, moved)  # ...and two processes changed them as one process did
