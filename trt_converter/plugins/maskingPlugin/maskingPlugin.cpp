#include "trt_converter/plugins/maskingPlugin/maskingPlugin.h"

#include <cstring>
#include <exception>

namespace tftrt_masking {
namespace plugin {
namespace {

using nvinfer1::DataType;
using nvinfer1::TensorFormat;

constexpr char kFieldMaskValue[] = "mask_value";
constexpr char kFieldOutputMode[] = "output_mode";
constexpr char kFieldElementType[] = "element_type";

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

// mask_value: kFLOAT64 (exact), or kFLOAT32 (the same number, widened).
double readMaskValue(nvinfer1::PluginFieldCollection const* fc) {
  for (int32_t i = 0; i < fc->nbFields; ++i) {
    nvinfer1::PluginField const& field = fc->fields[i];
    if (std::strcmp(field.name, kFieldMaskValue) != 0) continue;
    if (field.length != 1 || field.data == nullptr) {
      throw PluginError(std::string(kMaskingPluginName) + ": field 'mask_value' must hold exactly one value (length " +
                        std::to_string(field.length) + ")");
    }
    if (field.type == nvinfer1::PluginFieldType::kFLOAT64) return *static_cast<double const*>(field.data);
    if (field.type == nvinfer1::PluginFieldType::kFLOAT32) return *static_cast<float const*>(field.data);
    throw PluginError(std::string(kMaskingPluginName) + ": field 'mask_value' must be kFLOAT64 or kFLOAT32 (got type " +
                      std::to_string(static_cast<int32_t>(field.type)) + ")");
  }
  throw PluginError(std::string(kMaskingPluginName) + ": missing required field 'mask_value'");
}

}  // namespace

MaskingPlugin::MaskingPlugin(MaskingParams const& params) : mParams(params) {}

MaskingPlugin::MaskingPlugin(void const* serialData, size_t serialLength) {
  SerialReader reader(serialData, serialLength, kMaskingPluginName);
  if (reader.readHeader(kSerialMagic, kSerialVersion) == 1) {
    mParams.formatOne = true;
    mParams.maskValue = reader.read<float>("mask_value");
  } else {
    mParams.elementType = parseElementType(reader.read<int32_t>("element_type"));
    mParams.maskValue = reader.read<double>("mask_value");
  }
  mParams.outputMode = parseOutputMode(reader.read<int32_t>("output_mode"));
  reader.expectEnd();
}

size_t MaskingPlugin::getSerializationSize() const noexcept {
  if (mParams.formatOne) return sizeof(SerialHeader) + sizeof(float) + sizeof(int32_t);
  return sizeof(SerialHeader) + sizeof(int32_t) + sizeof(double) + sizeof(int32_t);
}

void MaskingPlugin::serialize(void* buffer) const noexcept {
  try {
    SerialWriter writer(buffer, getSerializationSize());
    // A format-1 plugin (deserialized from an old engine) is written back as it was read.
    if (mParams.formatOne) {
      writer.write(SerialHeader{kSerialMagic, 1});
      writer.write(static_cast<float>(mParams.maskValue));
    } else {
      writer.write(SerialHeader{kSerialMagic, kSerialVersion});
      writer.write(static_cast<int32_t>(mParams.elementType));
      writer.write(mParams.maskValue);
    }
    writer.write(static_cast<int32_t>(mParams.outputMode));
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
      nvinfer1::PluginField{kFieldMaskValue, nullptr, nvinfer1::PluginFieldType::kFLOAT64, 1},
      nvinfer1::PluginField{kFieldOutputMode, nullptr, nvinfer1::PluginFieldType::kINT32, 1},
      nvinfer1::PluginField{kFieldElementType, nullptr, nvinfer1::PluginFieldType::kINT32, 1},
  });
}

nvinfer1::IPluginV2* MaskingPluginCreator::createPlugin(char const*, nvinfer1::PluginFieldCollection const* fc) noexcept {
  try {
    PluginFieldReader fields(fc, kMaskingPluginName, fieldNames());
    MaskingParams params;
    params.maskValue = readMaskValue(fc);
    params.outputMode = parseOutputMode(fields.int32Or(kFieldOutputMode, 0));
    params.elementType = parseElementType(fields.requireInt32(kFieldElementType));
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
