"""Data: sample photos, offline synthetic datasets in the real datasets' layouts, transforms, loaders, downloads.

samples
    The course's sample photos.
voc, cityscapes, coco_stuff
    PASCAL VOC, Cityscapes and COCO-stuff on disk (real or synthetic, the same layout) as datasets.
voc_clipart, voc_scenes (voc_shapes, voc_looks, voc_backdrops), void_band, voc_stats
    The synthetic VOC's drawings: six-class clipart (what the shipped checkpoints learnt) and
    twenty-class overlapping scenes indoors and outdoors; VOC's void band; per-split statistics.
minicity, saliency_synth, grabcut_synth
    Procedural data: MiniCity driving scenes (Cityscapes layout), a DUTS-layout salient-object
    set, the GrabCut benchmark images.
polygons, class_stats
    Polygon annotations and per-class statistics (lesson 7).
transforms
    Joint image/label augmentation (scale, crop, flip) and normalised tensors.
loaders
    In-memory training loaders (FCN tensors, saliency image/mask pairs).
download, sources, offline
    Resumable verified downloads of the real datasets; offline preparation of the synthetic ones.

Nothing is imported here: the modules read different datasets and some import torch, so a
lesson imports what it needs from its module (``from course_utils.data.samples import sample_image``).
"""

__all__: list[str] = []
