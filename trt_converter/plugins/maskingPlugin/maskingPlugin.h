// TensorRT plugin "Masking" (version 1, namespace "tftrt_masking"): Keras
// Masking over the shared CUDA kernel (kernels/masking/masking.h).
// See README.md in this folder for inputs, outputs and fields.
#ifndef TFTRT_MASKING_TRT_CONVERTER_PLUGINS_MASKING_PLUGIN_MASKING_PLUGIN_H_
#define TFTRT_MASKING_TRT_CONVERTER_PLUGINS_MASKING_PLUGIN_MASKING_PLUGIN_H_

#include <string>

#include "kernels/masking/masking.h"
#include "trt_converter/plugins/common/pluginBase.h"
#include "trt_converter/plugins/pluginFieldNames.h"

namespace tftrt_masking {
namespace plugin {

constexpr char kMaskingPluginVersion[] = "1";

struct MaskingParams {
  // The number rows are compared against, exactly (kernels/masking/masking.h).
  double maskValue = 0.0;
  MaskedOutputMode outputMode = MaskedOutputMode::kWhere;
  // The TF graph's element type: x runs in it and nothing else, so the mask is
  // decided in the graph's dtype (float32 values rounded to half in FP16 mode
  // could equal the mask value). kFloat32 or kFloat16.
  DType elementType = DType::kFloat32;
  // Read from a format-1 buffer (before element_type): no element type (the
  // engine fixed x's type, float32 or half, when it was built; elementType is
  // unused) and maskValue is a float compared after rounding to x's type, as
  // format 1 did. Written back in format 1, so it keeps that meaning.
  bool formatOne = false;
};

// The one validation of the fields, shared by createPlugin and
// deserializePlugin; throws PluginError saying what is wrong: output_mode 0/1,
// element_type float32/float16 (unless formatOne). Every double is a plausible
// mask_value (NaN or one x's type cannot hold equals nothing: masks nothing).
void validateMaskingParams(MaskingParams const& params);

class MaskingPlugin final : public PluginBase {
 public:
  static constexpr uint32_t kSerialMagic = 0x4B534D54;  // "TMSK"

  // Both constructors throw PluginError on invalid fields (the creator catches it).
  explicit MaskingPlugin(MaskingParams const& params);
  MaskingPlugin(void const* serialData, size_t serialLength);

  MaskingParams const& params() const { return mParams; }

  // IPluginV2
  char const* getPluginType() const noexcept override { return kMaskingPluginName; }
  char const* getPluginVersion() const noexcept override { return kMaskingPluginVersion; }
  int32_t getNbOutputs() const noexcept override { return 2; }
  size_t getSerializationSize() const noexcept override;
  void serialize(void* buffer) const noexcept override;

  // IPluginV2Ext
  nvinfer1::DataType getOutputDataType(int32_t index, nvinfer1::DataType const* inputTypes,
                                       int32_t nbInputs) const noexcept override;

  // IPluginV2DynamicExt
  nvinfer1::IPluginV2DynamicExt* clone() const noexcept override;
  nvinfer1::DimsExprs getOutputDimensions(int32_t outputIndex, nvinfer1::DimsExprs const* inputs,
                                          int32_t nbInputs, nvinfer1::IExprBuilder& exprBuilder) noexcept override;
  bool supportsFormatCombination(int32_t pos, nvinfer1::PluginTensorDesc const* inOut, int32_t nbInputs,
                                 int32_t nbOutputs) noexcept override;
  void configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
                       nvinfer1::DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept override;
  size_t getWorkspaceSize(nvinfer1::PluginTensorDesc const* inputs, int32_t nbInputs,
                          nvinfer1::PluginTensorDesc const* outputs, int32_t nbOutputs) const noexcept override;
  int32_t enqueue(nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
                  void const* const* inputs, void* const* outputs, void* workspace,
                  cudaStream_t stream) noexcept override;

 private:
  MaskingParams mParams;
};

class MaskingPluginCreator final : public PluginCreatorBase {
 public:
  MaskingPluginCreator();
  char const* getPluginName() const noexcept override { return kMaskingPluginName; }
  char const* getPluginVersion() const noexcept override { return kMaskingPluginVersion; }
  nvinfer1::IPluginV2* createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc) noexcept override;
  nvinfer1::IPluginV2* deserializePlugin(char const* name, void const* serialData,
                                         size_t serialLength) noexcept override;
};

}  // namespace plugin
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TRT_CONVERTER_PLUGINS_MASKING_PLUGIN_MASKING_PLUGIN_H_
