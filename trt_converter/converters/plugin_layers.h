// Adding one of our TensorRT plugins to the network (plugins carry masks as
// int32: tensor_helpers.h moves them from and to TF's bool).
#ifndef TFTRT_MASKING_TRT_CONVERTER_CONVERTERS_PLUGIN_LAYERS_H_
#define TFTRT_MASKING_TRT_CONVERTER_CONVERTERS_PLUGIN_LAYERS_H_

#if GOOGLE_CUDA && GOOGLE_TENSORRT

#include <vector>

#include "tensorflow/compiler/tf2tensorrt/convert/op_converter.h"
#include "third_party/tensorrt/NvInfer.h"

namespace tensorflow {
namespace tensorrt {
namespace convert {
namespace tftrt_masking {

// Creates plugin `plugin_name` (namespace "tftrt_masking", registering our
// creators first if needed) from `fields` and adds it on `inputs`.
StatusOr<nvinfer1::IPluginV2Layer*> AddTftrtMaskingPlugin(
    const OpConverterParams* params, const char* plugin_name,
    const std::vector<nvinfer1::PluginField>& fields,
    const std::vector<nvinfer1::ITensor*>& inputs);

// The tensor itself, or a constant layer holding the weights.
StatusOr<nvinfer1::ITensor*> AsTrtTensor(const OpConverterParams* params,
                                         const TRT_TensorOrWeights& input);

}  // namespace tftrt_masking
}  // namespace convert
}  // namespace tensorrt
}  // namespace tensorflow

#endif  // GOOGLE_CUDA && GOOGLE_TENSORRT
#endif  // TFTRT_MASKING_TRT_CONVERTER_CONVERTERS_PLUGIN_LAYERS_H_
