"""segcourse: the helper library behind the image-segmentation course.

Import what a lesson needs from its module, e.g.
``from course_utils.env import get_device, seed_everything``.
Importing this package itself is cheap: torch is only imported by the modules
that need it.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
