"""segcourse: the helper library behind the image-segmentation course.

Import what a lesson needs from its module, e.g.
``from course_utils.env import get_device, seed_everything``.
Importing this package itself is cheap: torch is only imported by the modules
that need it.

The packages are layers; a module imports only from the layers below it (the
import-linter contracts in ``pyproject.toml`` check it; ``CONTRIBUTING.md`` explains them):

=================================  ===================================================
``classroom``, ``exercises``,      slides/HTML/handout; exercise checks; figures and
``viz``                            widgets
``train``                          the fit loop, the notebook cache, DDP, one recipe per
                                   network family (``fcn``, ``deeplab``, ``saliency``),
                                   shipping checkpoints (``record``)
``evaluate``                       every segmentation score: FCN's four, trimaps,
                                   official Cityscapes, DeepLab with/without the CRF;
                                   running networks (``predict``), scoring them and the
                                   shipped checkpoints (``checkpoints``)
``saliency``, ``graphcut``,        the algorithms of lessons 1-3 and 6
``crf``
``checkpoints``                    the shipped networks: registry, verified loading
``nets``                           models only: FCN, DeepLab, the saliency net, shared
                                   blocks
``data``                           datasets on disk, synthetic data, transforms, loaders
``ops``                            transposed conv, bilinear, unpooling, dilated conv,
                                   receptive fields
``config``, ``images``,            settings, image checks and resizing, label palettes;
``palettes``, ``cli``, ``env``,    commands' one-line errors and atomic writes; device,
``paths``, ``_shared``             seeding, modes and threads; folders; shared constants,
                                   checks and memory bounds
=================================  ===================================================
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
