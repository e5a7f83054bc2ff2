"""Networks built from small named blocks: FCN (``fcn``), DeepLab (``deeplab``), shared ``blocks``."""
