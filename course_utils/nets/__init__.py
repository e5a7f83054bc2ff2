"""Networks only, built from small named blocks (torchvision's ``models/`` is the model): no training,
no data, no scoring (those are :mod:`course_utils.train`, :mod:`course_utils.data`,
:mod:`course_utils.evaluate`).

fcn
    FCN-32s/16s/8s on VGG16 and AlexNet (Long et al. 2015), Caffe's coordinate mapping and crops.
deeplab
    DeepLab v2: dilated VGG16 and ResNet backbones, the LargeFOV head and ASPP (Chen et al. 2018).
saliency
    A small saliency network modified from VGG (lesson 1).
convolutionalize
    Fully connected layers rewritten as convolutions (卷积化).
plain_vgg
    A plain VGG16 scoring network with named layers and DeepLab's hole algorithm (孔算法) on it
    (lesson 5's dilation surgery).
"""

from course_utils.nets.fcn import (
    AlexNetBackbone,
    coord_map,
    CoordMap,
    crop_offset,
    FCN,
    fcn_alexnet,
    fcn_shapes,
    fcn_vgg16,
    freeze_backbone,
    load_matching_weights,
    VARIANTS,
    VGG16_CFG,
    VGG16Backbone,
)
from course_utils.nets.deeplab import (
    ASPP,
    deeplab_resnet_aspp,
    deeplab_vgg16_aspp,
    deeplab_vgg16_largefov,
    DeepLabV2,
    DeepLabVGG16Features,
    DilatedBasicBlock,
    DilatedResNet,
    LargeFOVHead,
    VGG16_STAGES,
)
from course_utils.nets.blocks import scaled_channels
from course_utils.nets.saliency import (
    FuseBlock,
    saliency_vgg,
    SaliencyDecoder,
    SaliencyNet,
    VGGEncoder,
)
from course_utils.nets.plain_vgg import (
    hole_algorithm,
    plain_vgg16,
)
from course_utils.nets.convolutionalize import (
    convolutionalize_classifier,
    convolutionalize_linear,
    fully_convolutional,
)

__all__ = [
    "AlexNetBackbone",
    "ASPP",
    "convolutionalize_classifier",
    "convolutionalize_linear",
    "coord_map",
    "CoordMap",
    "crop_offset",
    "deeplab_resnet_aspp",
    "deeplab_vgg16_aspp",
    "deeplab_vgg16_largefov",
    "DeepLabV2",
    "DeepLabVGG16Features",
    "DilatedBasicBlock",
    "DilatedResNet",
    "FCN",
    "fcn_alexnet",
    "fcn_shapes",
    "fcn_vgg16",
    "freeze_backbone",
    "fully_convolutional",
    "FuseBlock",
    "hole_algorithm",
    "LargeFOVHead",
    "load_matching_weights",
    "plain_vgg16",
    "saliency_vgg",
    "SaliencyDecoder",
    "SaliencyNet",
    "scaled_channels",
    "VARIANTS",
    "VGG16_CFG",
    "VGG16_STAGES",
    "VGG16Backbone",
    "VGGEncoder",
]
