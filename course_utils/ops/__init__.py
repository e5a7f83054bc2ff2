"""The primitives of lessons 4 and 5: transposed convolution, bilinear upsampling, unpooling,
dilated convolution, receptive fields. Each module is one lecture concept:

transposed_conv
    Transposed convolution (转置卷积) as a matrix, as scatter-add and as zero insertion;
    output sizes.
bilinear
    Bilinear interpolation kernels and the fixed bilinear deconvolution FCN starts from.
unpooling
    Max pooling that remembers its positions, and max unpooling.
dilated_conv
    Dilated (atrous, 膨胀) convolution three ways, sparse vs dense feature extraction, costs.
receptive_field
    Output sizes, receptive fields (感受野), strides and footprints of layer stacks and modules.

Everything below is exported here: ``from course_utils.ops import bilinear_kernel``.
(``receptive_field`` is both a module and, exported here, its function.)
"""

from course_utils.ops.transposed_conv import (
    conv2d_as_matrix,
    conv_matrix,
    conv_transpose2d_as_matrix,
    conv_transpose2d_scatter,
    conv_transpose2d_zero_insertion,
    conv_transpose_output_size,
    equivalent_direct_padding,
    insert_zeros,
    LECTURE_EXAMPLES,
    scatter_positions,
    TransposedConvExample,
)
from course_utils.ops.bilinear import (
    bilinear_deconv_weight,
    bilinear_kernel,
    bilinear_kernel_size,
    bilinear_upsample,
    BilinearDeconv,
    interior_slice,
)
from course_utils.ops.unpooling import (
    max_pool_with_positions,
    max_unpool,
)
from course_utils.ops.dilated_conv import (
    conv_cost,
    conv_dilated,
    conv_on_subgrids,
    conv_zero_inserted,
    ConvCost,
    dense_extraction,
    dilate_kernel,
    gaussian_derivative_kernel,
    sparse_extraction,
)
from course_utils.ops.receptive_field import (
    conv_output_size,
    deeplab_vgg16_layers,
    effective_kernel_size,
    footprint,
    gradient_footprint,
    Layer,
    LayerField,
    layers_from_module,
    module_receptive_field,
    output_stride,
    receptive_field,
    receptive_field_size,
    vgg16_layers,
)

__all__ = [
    "bilinear_deconv_weight",
    "bilinear_kernel",
    "bilinear_kernel_size",
    "bilinear_upsample",
    "BilinearDeconv",
    "conv2d_as_matrix",
    "conv_cost",
    "conv_dilated",
    "conv_matrix",
    "conv_on_subgrids",
    "conv_output_size",
    "conv_transpose2d_as_matrix",
    "conv_transpose2d_scatter",
    "conv_transpose2d_zero_insertion",
    "conv_transpose_output_size",
    "conv_zero_inserted",
    "ConvCost",
    "deeplab_vgg16_layers",
    "dense_extraction",
    "dilate_kernel",
    "effective_kernel_size",
    "equivalent_direct_padding",
    "footprint",
    "gaussian_derivative_kernel",
    "gradient_footprint",
    "insert_zeros",
    "interior_slice",
    "Layer",
    "LayerField",
    "layers_from_module",
    "LECTURE_EXAMPLES",
    "max_pool_with_positions",
    "max_unpool",
    "module_receptive_field",
    "output_stride",
    "receptive_field",
    "receptive_field_size",
    "scatter_positions",
    "sparse_extraction",
    "TransposedConvExample",
    "vgg16_layers",
]
