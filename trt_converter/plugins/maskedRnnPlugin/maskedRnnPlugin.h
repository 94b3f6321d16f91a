// TensorRT plugin "MaskedRnn" (version 1, namespace "tftrt_masking"): masked
// LSTM / GRU / SimpleRNN over the shared fused kernel (kernels/rnn/masked_rnn.h,
// LaunchMaskedRnn). See README.md in this folder for inputs, outputs and fields.
#ifndef TFTRT_MASKING_TRT_CONVERTER_PLUGINS_MASKED_RNN_PLUGIN_MASKED_RNN_PLUGIN_H_
#define TFTRT_MASKING_TRT_CONVERTER_PLUGINS_MASKED_RNN_PLUGIN_MASKED_RNN_PLUGIN_H_

#include "kernels/rnn/masked_rnn.h"
#include "trt_converter/plugins/common/pluginBase.h"
#include "trt_converter/plugins/pluginFieldNames.h"

namespace tftrt_masking {
namespace plugin {

constexpr char kMaskedRnnPluginVersion[] = "1";

// Plausibility limits on the fields (far above any Keras layer we know of,
// far below what would overflow an index or exhaust a GPU): a field beyond
// them is refused at createPlugin and at deserialization alike.
constexpr int64_t kMaskedRnnMaxUnits = int64_t{1} << 16;
constexpr int64_t kMaskedRnnMaxInputSize = int64_t{1} << 20;
constexpr int64_t kMaskedRnnMaxWeightElements = int64_t{1} << 32;  // kernel + recurrent_kernel

// The one validation of a plugin's configuration (batch = time = 0), shared
// by createPlugin and deserializePlugin: the kernel's own checks plus the
// limits above. Throws PluginError saying what is wrong.
void validateMaskedRnnPluginConfig(MaskedRnnConfig const& config);

// Input / output positions for one configuration: bias and initial_c are
// present only when the configuration has them.
struct MaskedRnnIo {
  explicit MaskedRnnIo(MaskedRnnConfig const& config);
  int32_t x = 0, mask = 1, kernel = 2, recurrentKernel = 3;
  int32_t bias = -1, initialH = -1, initialC = -1;
  int32_t nbInputs = 0;
  int32_t output = 0, finalH = 1, finalC = -1;
  int32_t nbOutputs = 0;
};

class MaskedRnnPlugin final : public PluginBase {
 public:
  static constexpr uint32_t kSerialMagic = 0x4E524D54;  // "TMRN"

  // Both constructors throw PluginError on an invalid configuration
  // (validateMaskedRnnPluginConfig). config.batch and config.time are ignored.
  explicit MaskedRnnPlugin(MaskedRnnConfig const& config);
  MaskedRnnPlugin(void const* serialData, size_t serialLength);

  // batch = time = 0; configFor() fills them for one call.
  MaskedRnnConfig const& config() const { return mConfig; }
  MaskedRnnConfig configFor(int64_t batch, int64_t time) const;

  // IPluginV2
  char const* getPluginType() const noexcept override { return kMaskedRnnPluginName; }
  char const* getPluginVersion() const noexcept override { return kMaskedRnnPluginVersion; }
  int32_t getNbOutputs() const noexcept override { return mIo.nbOutputs; }
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

  // Checks input shapes against MaskedRnnExpectedShapes(); throws PluginError
  // saying what is wrong. Unknown extents (-1, at build time) match anything.
  void checkInputDims(nvinfer1::Dims const* inputDims, int32_t nbInputs) const;

 private:
  MaskedRnnConfig mConfig;
  MaskedRnnIo mIo;
};

class MaskedRnnPluginCreator final : public PluginCreatorBase {
 public:
  MaskedRnnPluginCreator();
  char const* getPluginName() const noexcept override { return kMaskedRnnPluginName; }
  char const* getPluginVersion() const noexcept override { return kMaskedRnnPluginVersion; }
  nvinfer1::IPluginV2* createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc) noexcept override;
  nvinfer1::IPluginV2* deserializePlugin(char const* name, void const* serialData,
                                         size_t serialLength) noexcept override;
};

}  // namespace plugin
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TRT_CONVERTER_PLUGINS_MASKED_RNN_PLUGIN_MASKED_RNN_PLUGIN_H_
