#if GOOGLE_CUDA && GOOGLE_TENSORRT

#include "trt_converter/converters/plugin_layers.h"

#include <memory>
#include <string>

#include "tensorflow/compiler/tf2tensorrt/convert/convert_nodes.h"
#include "trt_converter/plugins/common/pluginUtils.h"
#include "trt_converter/plugins/pluginRegistration.h"

namespace tensorflow {
namespace tensorrt {
namespace convert {
namespace tftrt_masking {
namespace {

// A constant layer of `weights`; CreateConstantLayer returns a null proxy
// (not a proxy of a null tensor) when TensorRT refuses the layer.
StatusOr<nvinfer1::ITensor*> ConstantTensor(const OpConverterParams* params,
                                            const TRT_ShapedWeights& weights,
                                            const char* what) {
  ITensorProxyPtr tensor =
      params->converter->CreateConstantLayer(weights, weights.Shape().AsTrtDims());
  if (*tensor == nullptr || tensor->trt_tensor() == nullptr) {
    return errors::Internal("could not add ", what, " for ", params->node_def.name());
  }
  return tensor->trt_tensor();
}

// A constant of `value` with `rank` unit dimensions, broadcast by elementwise
// and select layers against a tensor of that rank.
StatusOr<nvinfer1::ITensor*> Int32Scalar(const OpConverterParams* params,
                                         int32_t value, int rank) {
  StatusOr<TRT_ShapedWeights> weights = params->weight_store->GetTempWeights(
      nvinfer1::DataType::kINT32, DimsAdapter(std::vector<int64_t>(rank, 1)));
  TF_RETURN_IF_ERROR(weights.status());
  TF_RETURN_IF_ERROR(weights->SetValues(value));
  return ConstantTensor(params, *weights, "an int32 constant");
}

// The single output of a layer TensorRT just added, or an error naming it.
StatusOr<nvinfer1::ITensor*> OnlyOutput(const OpConverterParams* params,
                                        nvinfer1::ILayer* layer, const char* what) {
  nvinfer1::ITensor* output = layer->getOutput(0);
  if (output == nullptr) {
    return errors::Internal("TensorRT gave no output for ", what, " of ",
                            params->node_def.name());
  }
  return output;
}

}  // namespace

StatusOr<nvinfer1::IPluginV2Layer*> AddTftrtMaskingPlugin(
    const OpConverterParams* params, const char* plugin_name,
    const std::vector<nvinfer1::PluginField>& fields,
    const std::vector<nvinfer1::ITensor*>& inputs) {
  std::string error;
  nvinfer1::IPluginCreator* creator =
      ::tftrt_masking::plugin::FindTftrtMaskingPluginCreator(plugin_name, &error);
  if (creator == nullptr) {
    return errors::Internal("TensorRT plugin ", plugin_name, " for ",
                            params->node_def.name(), " is unavailable: ", error);
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i] == nullptr) {
      return errors::Internal("input ", i, " of TensorRT plugin ", plugin_name,
                              " for ", params->node_def.name(), " is null");
    }
  }
  nvinfer1::PluginFieldCollection collection;
  collection.nbFields = static_cast<int32_t>(fields.size());
  collection.fields = fields.data();
  ::tftrt_masking::plugin::clearLastPluginError();
  // The network clones the plugin in addPluginV2; ours is released on return.
  struct PluginDestroyer {
    void operator()(nvinfer1::IPluginV2* plugin) const { plugin->destroy(); }
  };
  std::unique_ptr<nvinfer1::IPluginV2, PluginDestroyer> plugin(
      creator->createPlugin(params->node_def.name().c_str(), &collection));
  if (plugin == nullptr) {
    return errors::Internal("creating TensorRT plugin ", plugin_name, " for ",
                            params->node_def.name(), " failed: ",
                            ::tftrt_masking::plugin::lastPluginError());
  }
  nvinfer1::IPluginV2Layer* layer = params->converter->network()->addPluginV2(
      inputs.data(), static_cast<int32_t>(inputs.size()), *plugin);
  if (layer == nullptr) {
    return errors::Internal("TensorRT refused plugin layer ", plugin_name,
                            " for ", params->node_def.name());
  }
  for (int32_t i = 0; i < layer->getNbOutputs(); ++i) {
    if (layer->getOutput(i) == nullptr) {
      return errors::Internal("TensorRT plugin layer ", plugin_name, " for ",
                              params->node_def.name(), " has no output ", i);
    }
  }
  params->converter->SetLayerName(layer, params->node_def, plugin_name);
  return layer;
}

StatusOr<nvinfer1::ITensor*> AsTrtTensor(const OpConverterParams* params,
                                         const TRT_TensorOrWeights& input) {
  if (input.is_tensor()) {
    nvinfer1::ITensor* tensor = input.tensor()->trt_tensor();
    if (tensor == nullptr) {
      return errors::Internal("an input of ", params->node_def.name(),
                              " has no TensorRT tensor");
    }
    return tensor;
  }
  return ConstantTensor(params, input.weights(), "a constant for an input");
}

StatusOr<nvinfer1::ITensor*> Int32MaskToBool(const OpConverterParams* params,
                                             nvinfer1::ITensor* mask) {
  if (mask == nullptr) return errors::Internal("null mask for ", params->node_def.name());
  TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * zero,
                      Int32Scalar(params, 0, mask->getDimensions().nbDims));
  nvinfer1::IElementWiseLayer* layer = params->converter->network()->addElementWise(
      *mask, *zero, nvinfer1::ElementWiseOperation::kGREATER);
  if (layer == nullptr) {
    return errors::Internal("could not convert the mask of ",
                            params->node_def.name(), " to bool");
  }
  params->converter->SetLayerName(layer, params->node_def, "mask_to_bool");
  return OnlyOutput(params, layer, "the mask conversion to bool");
}

StatusOr<nvinfer1::ITensor*> BoolMaskToInt32(const OpConverterParams* params,
                                             nvinfer1::ITensor* mask) {
  if (mask == nullptr) return errors::Internal("null mask for ", params->node_def.name());
  const int rank = mask->getDimensions().nbDims;
  TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * one, Int32Scalar(params, 1, rank));
  TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * zero, Int32Scalar(params, 0, rank));
  nvinfer1::ISelectLayer* layer =
      params->converter->network()->addSelect(*mask, *one, *zero);
  if (layer == nullptr) {
    return errors::Internal("could not convert the mask of ",
                            params->node_def.name(), " to int32");
  }
  params->converter->SetLayerName(layer, params->node_def, "mask_to_int32");
  return OnlyOutput(params, layer, "the mask conversion to int32");
}

}  // namespace tftrt_masking
}  // namespace convert
}  // namespace tensorrt
}  // namespace tensorflow

#endif  // GOOGLE_CUDA && GOOGLE_TENSORRT
