#if GOOGLE_CUDA && GOOGLE_TENSORRT

#include "trt_converter/converters/plugin_layers.h"

#include <memory>
#include <string>

#include "tensorflow/compiler/tf2tensorrt/convert/convert_nodes.h"
#include "trt_converter/converters/tensor_helpers.h"
#include "trt_converter/plugins/common/pluginUtils.h"
#include "trt_converter/plugins/pluginRegistration.h"

namespace tensorflow {
namespace tensorrt {
namespace convert {
namespace tftrt_masking {

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
  return ConstantTensor(params, input.weights());
}

}  // namespace tftrt_masking
}  // namespace convert
}  // namespace tensorrt
}  // namespace tensorflow

#endif  // GOOGLE_CUDA && GOOGLE_TENSORRT
