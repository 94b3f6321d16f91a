// What every tftrt_masking plugin and creator shares: namespace bookkeeping and
// the no-op lifecycle methods (our plugins hold no device memory of their own:
// scratch memory comes from TensorRT's workspace).
#ifndef TFTRT_MASKING_TRT_CONVERTER_PLUGINS_COMMON_PLUGIN_BASE_H_
#define TFTRT_MASKING_TRT_CONVERTER_PLUGINS_COMMON_PLUGIN_BASE_H_

#include <string>
#include <vector>

#include "NvInferRuntime.h"
#include "trt_converter/plugins/common/pluginUtils.h"

namespace tftrt_masking {
namespace plugin {

class PluginBase : public nvinfer1::IPluginV2DynamicExt {
 public:
  int32_t initialize() noexcept override { return 0; }
  void terminate() noexcept override {}
  void destroy() noexcept override { delete this; }
  void setPluginNamespace(char const* pluginNamespace) noexcept override {
    try {
      mNamespace = pluginNamespace == nullptr ? "" : pluginNamespace;
    } catch (...) {
      logError("setPluginNamespace: out of memory");
    }
  }
  char const* getPluginNamespace() const noexcept override { return mNamespace.c_str(); }

 protected:
  std::string mNamespace = kPluginNamespace;
};

class PluginCreatorBase : public nvinfer1::IPluginCreator {
 public:
  nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override { return &mFieldCollection; }
  void setPluginNamespace(char const* pluginNamespace) noexcept override {
    try {
      mNamespace = pluginNamespace == nullptr ? "" : pluginNamespace;
    } catch (...) {
      logError("setPluginNamespace: out of memory");
    }
  }
  char const* getPluginNamespace() const noexcept override { return mNamespace.c_str(); }

 protected:
  void setFields(std::vector<nvinfer1::PluginField> fields) {
    mFields = std::move(fields);
    mFieldCollection.nbFields = static_cast<int32_t>(mFields.size());
    mFieldCollection.fields = mFields.data();
  }
  std::vector<std::string> fieldNames() const {
    std::vector<std::string> names;
    for (auto const& field : mFields) names.emplace_back(field.name);
    return names;
  }

  std::string mNamespace = kPluginNamespace;
  std::vector<nvinfer1::PluginField> mFields;
  nvinfer1::PluginFieldCollection mFieldCollection{0, nullptr};
};

}  // namespace plugin
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TRT_CONVERTER_PLUGINS_COMMON_PLUGIN_BASE_H_
