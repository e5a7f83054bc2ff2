"""Training every network in the course: one loop, a cache, a recipe per network family.

loop
    :func:`fit`, the one training loop (checkpoint after every epoch, byte-identical resume,
    mixed precision on CUDA, DistributedDataParallel under ``torchrun``), and :func:`poly_lr`.
cache
    :func:`train_cached`: a notebook re-run with the same settings loads the saved weights.
checkpoint_io
    Atomic saves, readable errors for damaged files, :func:`architecture_signature`.

The recipes, one module per network family, build on this loop:

fcn
    The FCN paper's loss, SGD recipe and staged training (lesson 4).
deeplab
    DeepLab on Cityscapes / MiniCity, with its command line
    ``python -m course_utils.train deeplab ...`` (lesson 7).
saliency
    The saliency net's training (lesson 1).
record
    Shipping a ``--recipe course`` run as a course checkpoint
    (``python -m course_utils.train record {deeplab,fcn} ...``).
seeds
    Every training seed the registry lacks, trained and recorded by one command
    (``python -m course_utils.train seeds [--device cuda]``).
distributed
    ``torchrun`` / DistributedDataParallel helpers.

Running and scoring a trained network is :mod:`course_utils.evaluate.predict` and
:mod:`course_utils.evaluate.checkpoints`.
"""

from course_utils.train.cache import checkpoint_dir, train_cached
from course_utils.train.checkpoint_io import architecture_signature, save_atomic
from course_utils.train.loop import fit, poly_lr

__all__ = ["architecture_signature", "checkpoint_dir", "fit", "poly_lr", "save_atomic", "train_cached"]
