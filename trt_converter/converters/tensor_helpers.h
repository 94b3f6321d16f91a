// Small network-building helpers the tftrt_masking converters share: 1-D int32
// shape constants, constants of a dtype broadcastable to a rank, and moving
// tensors between bool and the numeric types (TensorRT plugins and reductions
// take no bool; TF-TRT's own converters take int32 where they reject bool).
#ifndef TFTRT_MASKING_TRT_CONVERTER_CONVERTERS_TENSOR_HELPERS_H_
#define TFTRT_MASKING_TRT_CONVERTER_CONVERTERS_TENSOR_HELPERS_H_

#if GOOGLE_CUDA && GOOGLE_TENSORRT

#include <vector>

#include "tensorflow/compiler/tf2tensorrt/convert/convert_nodes.h"
#include "tensorflow/compiler/tf2tensorrt/convert/op_converter.h"
#include "tensorflow/compiler/tf2tensorrt/convert/weights.h"
#include "third_party/tensorrt/NvInfer.h"

namespace tensorflow {
namespace tensorrt {
namespace convert {
namespace tftrt_masking {

// The layer TensorRT just added, named after the node, or an error when it
// refused the layer or gave it no output.
template <typename Layer>
StatusOr<Layer*> Checked(const OpConverterParams* params, Layer* layer, const char* what) {
  if (layer == nullptr || layer->getOutput(0) == nullptr) {
    return errors::Internal("TensorRT could not add the ", what, " layer of ",
                            params->node_def.name());
  }
  params->converter->SetLayerName(layer, params->node_def, what);
  return layer;
}

// A constant layer holding `weights`, or an error when TensorRT refuses it.
StatusOr<nvinfer1::ITensor*> ConstantTensor(const OpConverterParams* params,
                                            const TRT_ShapedWeights& weights);

// A 1-D int32 constant (a shape tensor when used as a layer's shape input).
StatusOr<nvinfer1::ITensor*> Int32Vector(const OpConverterParams* params,
                                         const std::vector<int32_t>& values);

// `value` as a constant of `type` (kFLOAT, kHALF or kINT32) with `rank` unit
// dimensions, which elementwise and select layers broadcast.
StatusOr<nvinfer1::ITensor*> ScalarOfRank(const OpConverterParams* params,
                                          nvinfer1::DataType type, float value,
                                          int rank);

// bool -> `type` (true = 1, false = 0), as TF's Cast does.
StatusOr<nvinfer1::ITensor*> BoolTo(const OpConverterParams* params,
                                    nvinfer1::ITensor* mask,
                                    nvinfer1::DataType type);

// `type` -> bool (nonzero = true, NaN = true), as TF's Cast does.
StatusOr<nvinfer1::ITensor*> NonzeroToBool(const OpConverterParams* params,
                                           nvinfer1::ITensor* tensor);

}  // namespace tftrt_masking
}  // namespace convert
}  // namespace tensorrt
}  // namespace tensorflow

#endif  // GOOGLE_CUDA && GOOGLE_TENSORRT
#endif  // TFTRT_MASKING_TRT_CONVERTER_CONVERTERS_TENSOR_HELPERS_H_
