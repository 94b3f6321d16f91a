#if GOOGLE_CUDA && GOOGLE_TENSORRT

#include "trt_converter/converters/tensor_helpers.h"

#include <algorithm>
#include <vector>

#include "tensorflow/compiler/tf2tensorrt/convert/convert_nodes.h"

namespace tensorflow {
namespace tensorrt {
namespace convert {
namespace tftrt_masking {
StatusOr<nvinfer1::ITensor*> ConstantTensor(const OpConverterParams* params,
                                            const TRT_ShapedWeights& weights) {
  // CreateConstantLayer returns a null proxy (not a proxy of a null tensor)
  // when TensorRT refuses the layer.
  ITensorProxyPtr tensor =
      params->converter->CreateConstantLayer(weights, weights.Shape().AsTrtDims());
  if (*tensor == nullptr || tensor->trt_tensor() == nullptr) {
    return errors::Internal("could not add a constant for ", params->node_def.name());
  }
  return tensor->trt_tensor();
}

StatusOr<nvinfer1::ITensor*> Int32Vector(const OpConverterParams* params,
                                         const std::vector<int32_t>& values) {
  TF_ASSIGN_OR_RETURN(
      TRT_ShapedWeights weights,
      params->weight_store->GetTempWeights(
          nvinfer1::DataType::kINT32,
          DimsAdapter(std::vector<int64_t>{static_cast<int64_t>(values.size())})));
  std::copy(values.begin(), values.end(), weights.GetPointer<int32_t>());
  return ConstantTensor(params, weights);
}

StatusOr<nvinfer1::ITensor*> ScalarOfRank(const OpConverterParams* params,
                                          nvinfer1::DataType type, float value,
                                          int rank) {
  TF_ASSIGN_OR_RETURN(TRT_ShapedWeights weights,
                      params->weight_store->GetTempWeights(
                          type, DimsAdapter(std::vector<int64_t>(rank, 1))));
  if (type == nvinfer1::DataType::kINT32) {
    TF_RETURN_IF_ERROR(weights.SetValues(static_cast<int32_t>(value)));
  } else {
    TF_RETURN_IF_ERROR(weights.SetValues(value));
  }
  return ConstantTensor(params, weights);
}

StatusOr<nvinfer1::ITensor*> BoolTo(const OpConverterParams* params,
                                    nvinfer1::ITensor* mask,
                                    nvinfer1::DataType type) {
  if (mask == nullptr) return errors::Internal("null mask for ", params->node_def.name());
  const int rank = mask->getDimensions().nbDims;
  TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * one, ScalarOfRank(params, type, 1, rank));
  TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * zero, ScalarOfRank(params, type, 0, rank));
  TF_ASSIGN_OR_RETURN(
      nvinfer1::ISelectLayer * select,
      Checked(params, params->converter->network()->addSelect(*mask, *one, *zero),
              "bool_to_number"));
  return select->getOutput(0);
}

StatusOr<nvinfer1::ITensor*> NonzeroToBool(const OpConverterParams* params,
                                           nvinfer1::ITensor* tensor) {
  if (tensor == nullptr) return errors::Internal("null tensor for ", params->node_def.name());
  nvinfer1::INetworkDefinition* network = params->converter->network();
  TF_ASSIGN_OR_RETURN(
      nvinfer1::ITensor * zero,
      ScalarOfRank(params, tensor->getType(), 0, tensor->getDimensions().nbDims));
  TF_ASSIGN_OR_RETURN(
      nvinfer1::IElementWiseLayer * equal,
      Checked(params,
              network->addElementWise(*tensor, *zero, nvinfer1::ElementWiseOperation::kEQUAL),
              "equals_zero"));
  TF_ASSIGN_OR_RETURN(
      nvinfer1::IUnaryLayer * nonzero,
      Checked(params, network->addUnary(*equal->getOutput(0), nvinfer1::UnaryOperation::kNOT),
              "nonzero"));
  return nonzero->getOutput(0);
}

}  // namespace tftrt_masking
}  // namespace convert
}  // namespace tensorrt
}  // namespace tensorflow

#endif  // GOOGLE_CUDA && GOOGLE_TENSORRT
