#include "trt_converter/plugins/maskingPlugin/maskingPlugin.h"

#include <exception>

namespace tftrt_masking {
namespace plugin {
namespace {

using nvinfer1::DataType;
using nvinfer1::TensorFormat;

namespace field = masking_field;

MaskedOutputMode parseOutputMode(int32_t value) {
  if (value != static_cast<int32_t>(MaskedOutputMode::kWhere) &&
      value != static_cast<int32_t>(MaskedOutputMode::kMultiply)) {
    throw PluginError(std::string(kMaskingPluginName) + ": output_mode must be 0 (where) or 1 (multiply), got " +
                      std::to_string(value));
  }
  return static_cast<MaskedOutputMode>(value);
}

// The element types a graph can hand this plugin (TensorRT 8.6: no bfloat16, no float64).
DType parseElementType(int32_t value) {
  if (value != static_cast<int32_t>(DType::kFloat32) && value != static_cast<int32_t>(DType::kFloat16)) {
    throw PluginError(std::string(kMaskingPluginName) + ": element_type must be 0 (float32) or 1 (float16), got " +
                      std::to_string(value));
  }
  return static_cast<DType>(value);
}

DataType trtType(DType elementType) {
  return elementType == DType::kFloat16 ? DataType::kHALF : DataType::kFLOAT;
}

// Payload bytes of each format: 1 {mask_value float32, output_mode};
// 2 {element_type, mask_value float64, output_mode}.
constexpr size_t kPayloadBytesV1 = sizeof(float) + sizeof(int32_t);
constexpr size_t kPayloadBytesV2 = sizeof(int32_t) + sizeof(double) + sizeof(int32_t);

MaskingParams readParams(void const* serialData, size_t serialLength) {
  SerialReader reader(serialData, serialLength, kMaskingPluginName, MaskingPlugin::kSerialMagic);
  MaskingParams params;
  if (reader.version() == 1) {
    // Before element_type: x's type was fixed when the engine was built, and
    // the float mask value is compared after rounding to it (see README).
    params.formatOne = true;
    params.maskValue = reader.read<float>(field::kMaskValue);
  } else {
    // The header's length matched the buffer; a payload of another size is
    // another layout, not damage (format 2 held 8 bytes before element_type).
    if (reader.remaining() != kPayloadBytesV2) {
      throw PluginError(std::string(kMaskingPluginName) + ": format-2 payload is " +
                        std::to_string(reader.remaining()) + " bytes, expected " + std::to_string(kPayloadBytesV2) +
                        " (element_type, mask_value float64, output_mode); rebuild the engine with this library");
    }
    params.elementType = parseElementType(reader.read<int32_t>(field::kElementType));
    params.maskValue = reader.read<double>(field::kMaskValue);
  }
  params.outputMode = parseOutputMode(reader.read<int32_t>(field::kOutputMode));
  reader.expectEnd();
  if (params.formatOne) {
    logWarning(std::string(kMaskingPluginName) + ": serialized with format version 1 (no checksum, no element_type); "
               "fields checked, loaded with format 1's behaviour; rebuild the engine to get an integrity check and "
               "exact mask-value comparison");
  }
  return params;
}

MaskingParams validated(MaskingParams const& params) {
  validateMaskingParams(params);
  return params;
}

}  // namespace

void validateMaskingParams(MaskingParams const& params) {
  parseOutputMode(static_cast<int32_t>(params.outputMode));
  if (!params.formatOne) parseElementType(static_cast<int32_t>(params.elementType));
}

MaskingPlugin::MaskingPlugin(MaskingParams const& params) : mParams(validated(params)) {}

MaskingPlugin::MaskingPlugin(void const* serialData, size_t serialLength)
    : MaskingPlugin(readParams(serialData, serialLength)) {}

size_t MaskingPlugin::getSerializationSize() const noexcept {
  if (mParams.formatOne) return SerialWriter::serializedSize(kPayloadBytesV1, 1);
  return SerialWriter::serializedSize(kPayloadBytesV2);
}

void MaskingPlugin::serialize(void* buffer) const noexcept {
  try {
    // A format-1 plugin (from an old engine) is written back in format 1:
    // format 2 cannot say "x's type as built, value rounded to it".
    SerialWriter writer(buffer, getSerializationSize(), kSerialMagic, mParams.formatOne ? 1 : kSerialFormatVersion);
    if (mParams.formatOne) {
      writer.write(static_cast<float>(mParams.maskValue));
    } else {
      writer.write(static_cast<int32_t>(mParams.elementType));
      writer.write(mParams.maskValue);
    }
    writer.write(static_cast<int32_t>(mParams.outputMode));
    writer.finish();
  } catch (std::exception const& e) {
    logError(std::string("Masking::serialize: ") + e.what());
  }
}

DataType MaskingPlugin::getOutputDataType(int32_t index, DataType const* inputTypes, int32_t nbInputs) const noexcept {
  // Output 0 keeps x's type; output 1 is the mask as int32 (plugins cannot emit bool).
  if (index == 1) return DataType::kINT32;
  if (nbInputs < 1 || inputTypes == nullptr) {
    logError("Masking::getOutputDataType: expected 1 input");
    return DataType::kFLOAT;
  }
  return inputTypes[0];
}

nvinfer1::IPluginV2DynamicExt* MaskingPlugin::clone() const noexcept {
  try {
    auto* copy = new MaskingPlugin(mParams);
    copy->setPluginNamespace(mNamespace.c_str());
    return copy;
  } catch (std::exception const& e) {
    logError(std::string("Masking::clone: ") + e.what());
    return nullptr;
  }
}

nvinfer1::DimsExprs MaskingPlugin::getOutputDimensions(int32_t outputIndex, nvinfer1::DimsExprs const* inputs,
                                                       int32_t nbInputs, nvinfer1::IExprBuilder&) noexcept {
  nvinfer1::DimsExprs result{};
  result.nbDims = -1;
  if (nbInputs != 1 || inputs == nullptr) {
    logError("Masking: expected exactly 1 input (x), got " + std::to_string(nbInputs));
    return result;
  }
  if (inputs[0].nbDims < 2) {
    logError("Masking: x must have rank >= 2 (got rank " + std::to_string(inputs[0].nbDims) + ")");
    return result;
  }
  if (outputIndex == 0) return inputs[0];
  if (outputIndex == 1) {
    result = inputs[0];
    result.nbDims = inputs[0].nbDims - 1;  // mask: x.shape[:-1]
    return result;
  }
  logError("Masking: output index " + std::to_string(outputIndex) + " out of range (2 outputs)");
  return result;
}

bool MaskingPlugin::supportsFormatCombination(int32_t pos, nvinfer1::PluginTensorDesc const* inOut, int32_t nbInputs,
                                              int32_t nbOutputs) noexcept {
  if (inOut == nullptr || nbInputs != 1 || nbOutputs != 2 || pos < 0 || pos >= 3) return false;
  nvinfer1::PluginTensorDesc const& desc = inOut[pos];
  if (desc.format != TensorFormat::kLINEAR) return false;
  switch (pos) {
    case 0:  // x: the graph's element type only (format 1 carried none)
      return mParams.formatOne ? isSupportedFloat(desc.type) : desc.type == trtType(mParams.elementType);
    case 1:  // output: same type as x
      return desc.type == inOut[0].type;
    default:  // mask
      return desc.type == DataType::kINT32;
  }
}

void MaskingPlugin::configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
                                    nvinfer1::DynamicPluginTensorDesc const*, int32_t nbOutputs) noexcept {
  // Nothing to precompute; only report a wiring mistake early.
  if (nbInputs != 1 || nbOutputs != 2 || in == nullptr) {
    logError("Masking::configurePlugin: expected 1 input and 2 outputs");
  } else if (in[0].desc.dims.nbDims < 2) {
    logError("Masking::configurePlugin: x must have rank >= 2");
  }
}

size_t MaskingPlugin::getWorkspaceSize(nvinfer1::PluginTensorDesc const*, int32_t, nvinfer1::PluginTensorDesc const*,
                                       int32_t) const noexcept {
  return 0;
}

int32_t MaskingPlugin::enqueue(nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
                               void const* const* inputs, void* const* outputs, void*, cudaStream_t stream) noexcept {
  try {
    if (inputDesc == nullptr || outputDesc == nullptr || inputs == nullptr || outputs == nullptr) {
      throw PluginError("null tensor descriptors or pointers");
    }
    nvinfer1::Dims const& dims = inputDesc[0].dims;
    if (dims.nbDims < 2) throw PluginError("x must have rank >= 2");
    DType dtype;
    if (!toKernelDType(inputDesc[0].type, &dtype)) throw PluginError("x must be float32 or float16");
    if (!mParams.formatOne && dtype != mParams.elementType) {
      throw PluginError(std::string("x is ") + DTypeName(dtype) + ", the graph's element type is " +
                        DTypeName(mParams.elementType));
    }
    if (outputDesc[0].type != inputDesc[0].type || outputDesc[1].type != DataType::kINT32) {
      throw PluginError("unexpected output types");
    }
    int64_t const rows = volume(dims, 0, dims.nbDims - 1);
    int64_t const features = volume(dims, dims.nbDims - 1, dims.nbDims);
    double const maskValue = mParams.formatOne ? MaskValueRoundedTo(dtype, static_cast<float>(mParams.maskValue))
                                               : mParams.maskValue;
    int const status = LaunchMasking(dtype, inputs[0], rows, features, maskValue, mParams.outputMode,
                                     outputs[0], MaskDType::kInt32, outputs[1], reinterpret_cast<GpuStream>(stream));
    if (status != 0) throw PluginError(std::string("kernel launch failed: ") + GpuErrorString(status));
    return 0;
  } catch (std::exception const& e) {
    logError(std::string("Masking::enqueue: ") + e.what());
    return 1;
  }
}

MaskingPluginCreator::MaskingPluginCreator() {
  setFields({
      nvinfer1::PluginField{field::kMaskValue, nullptr, nvinfer1::PluginFieldType::kFLOAT64, 1},
      nvinfer1::PluginField{field::kOutputMode, nullptr, nvinfer1::PluginFieldType::kINT32, 1},
      nvinfer1::PluginField{field::kElementType, nullptr, nvinfer1::PluginFieldType::kINT32, 1},
  });
}

nvinfer1::IPluginV2* MaskingPluginCreator::createPlugin(char const*, nvinfer1::PluginFieldCollection const* fc) noexcept {
  try {
    PluginFieldReader fields(fc, kMaskingPluginName, fieldNames());
    MaskingParams params;
    params.maskValue = fields.requireFloat(field::kMaskValue);
    params.outputMode = parseOutputMode(fields.int32Or(field::kOutputMode, 0));
    params.elementType = parseElementType(fields.requireInt32(field::kElementType));
    auto* plugin = new MaskingPlugin(params);
    plugin->setPluginNamespace(mNamespace.c_str());
    return plugin;
  } catch (std::exception const& e) {
    logError(std::string("Masking createPlugin: ") + e.what());
    return nullptr;
  }
}

nvinfer1::IPluginV2* MaskingPluginCreator::deserializePlugin(char const*, void const* serialData,
                                                             size_t serialLength) noexcept {
  try {
    auto* plugin = new MaskingPlugin(serialData, serialLength);
    plugin->setPluginNamespace(mNamespace.c_str());
    return plugin;
  } catch (std::exception const& e) {
    logError(std::string("Masking deserializePlugin: ") + e.what());
    return nullptr;
  }
}

}  // namespace plugin
}  // namespace tftrt_masking
