#include "trt_converter/plugins/maskedRnnPlugin/maskedRnnPlugin.h"

#include <exception>
#include <string>

namespace tftrt_masking {
namespace plugin {
namespace {

using nvinfer1::DataType;
using nvinfer1::TensorFormat;

constexpr char kFieldCell[] = "cell";
constexpr char kFieldUnits[] = "units";
constexpr char kFieldInputSize[] = "input_size";
constexpr char kFieldActivation[] = "activation";
constexpr char kFieldRecurrentActivation[] = "recurrent_activation";
constexpr char kFieldUseBias[] = "use_bias";
constexpr char kFieldResetAfter[] = "reset_after";
constexpr char kFieldGoBackwards[] = "go_backwards";
constexpr char kFieldReturnSequences[] = "return_sequences";
constexpr char kFieldZeroOutputForMask[] = "zero_output_for_mask";

std::string prefix() { return std::string(kMaskedRnnPluginName) + ": "; }

RnnCell toCell(int32_t value) {
  if (value < 0 || value > static_cast<int32_t>(RnnCell::kSimpleRnn)) {
    throw PluginError(prefix() + "cell must be 0 (LSTM), 1 (GRU) or 2 (SimpleRNN), got " + std::to_string(value));
  }
  return static_cast<RnnCell>(value);
}

Activation toActivation(int32_t value, char const* what) {
  auto const activation = static_cast<Activation>(value);
  if (std::string(ActivationName(activation)) == "unknown") {
    throw PluginError(prefix() + what + " " + std::to_string(value) + " is not a known activation");
  }
  return activation;
}

// Validates parameters through the kernel's own checks (batch/time set to 0).
void validateParams(MaskedRnnParams const& params) {
  if (params.inputSize <= 0) throw PluginError(prefix() + "input_size must be > 0");
  MaskedRnnConfig config;
  config.cell = params.cell;
  config.units = params.units;
  config.input_size = params.inputSize;
  config.activation = params.activation;
  config.recurrent_activation = params.recurrentActivation;
  if (char const* error = ValidateMaskedRnnConfig(config)) throw PluginError(prefix() + error);
}

std::string dimsString(nvinfer1::Dims const& dims) {
  std::string text = "[";
  for (int32_t i = 0; i < dims.nbDims; ++i) text += (i ? "," : "") + std::to_string(dims.d[i]);
  return text + "]";
}

}  // namespace

MaskedRnnIo::MaskedRnnIo(MaskedRnnParams const& params) {
  int32_t next = 4;
  if (params.hasBias) bias = next++;
  initialH = next++;
  if (params.cell == RnnCell::kLstm) initialC = next++;
  nbInputs = next;
  nbOutputs = 2;
  if (params.cell == RnnCell::kLstm) finalC = nbOutputs++;
}

MaskedRnnPlugin::MaskedRnnPlugin(MaskedRnnParams const& params) : mParams(params), mIo(params) {
  validateParams(mParams);
}

MaskedRnnPlugin::MaskedRnnPlugin(void const* serialData, size_t serialLength) : mIo(MaskedRnnParams{}) {
  SerialReader reader(serialData, serialLength, kMaskedRnnPluginName);
  reader.readHeader(kSerialMagic, kSerialVersion);
  mParams.cell = toCell(reader.read<int32_t>("cell"));
  mParams.units = reader.read<int32_t>("units");
  mParams.inputSize = reader.read<int32_t>("input_size");
  mParams.activation = toActivation(reader.read<int32_t>("activation"), "activation");
  mParams.recurrentActivation = toActivation(reader.read<int32_t>("recurrent_activation"), "recurrent_activation");
  auto const flags = reader.read<uint32_t>("flags");
  if (flags >> 5) throw PluginError(prefix() + "unknown flag bits in serialized data");
  mParams.hasBias = flags & 1u;
  mParams.resetAfter = flags & 2u;
  mParams.goBackwards = flags & 4u;
  mParams.returnSequences = flags & 8u;
  mParams.zeroOutputForMask = flags & 16u;
  reader.expectEnd();
  validateParams(mParams);
  mIo = MaskedRnnIo(mParams);
}

MaskedRnnConfig MaskedRnnPlugin::configFor(int64_t batch, int64_t time) const {
  MaskedRnnConfig config;
  config.cell = mParams.cell;
  config.batch = batch;
  config.time = time;
  config.input_size = mParams.inputSize;
  config.units = mParams.units;
  config.activation = mParams.activation;
  config.recurrent_activation = mParams.recurrentActivation;
  config.has_bias = mParams.hasBias;
  config.reset_after = mParams.resetAfter;
  config.go_backwards = mParams.goBackwards;
  config.return_sequences = mParams.returnSequences;
  config.zero_output_for_mask = mParams.zeroOutputForMask;
  return config;
}

size_t MaskedRnnPlugin::getSerializationSize() const noexcept {
  return sizeof(SerialHeader) + 5 * sizeof(int32_t) + sizeof(uint32_t);
}

void MaskedRnnPlugin::serialize(void* buffer) const noexcept {
  try {
    SerialWriter writer(buffer, getSerializationSize());
    writer.write(SerialHeader{kSerialMagic, kSerialVersion});
    writer.write(static_cast<int32_t>(mParams.cell));
    writer.write(mParams.units);
    writer.write(mParams.inputSize);
    writer.write(static_cast<int32_t>(mParams.activation));
    writer.write(static_cast<int32_t>(mParams.recurrentActivation));
    uint32_t const flags = (mParams.hasBias ? 1u : 0u) | (mParams.resetAfter ? 2u : 0u) |
                           (mParams.goBackwards ? 4u : 0u) | (mParams.returnSequences ? 8u : 0u) |
                           (mParams.zeroOutputForMask ? 16u : 0u);
    writer.write(flags);
  } catch (std::exception const& e) {
    logError(std::string("MaskedRnn::serialize: ") + e.what());
  }
}

DataType MaskedRnnPlugin::getOutputDataType(int32_t index, DataType const* inputTypes, int32_t nbInputs) const noexcept {
  if (index < 0 || index >= mIo.nbOutputs || nbInputs < 1 || inputTypes == nullptr) {
    logError(prefix() + "getOutputDataType: bad output index or inputs");
    return DataType::kFLOAT;
  }
  return inputTypes[mIo.x];  // every output has x's type
}

nvinfer1::IPluginV2DynamicExt* MaskedRnnPlugin::clone() const noexcept {
  try {
    auto* copy = new MaskedRnnPlugin(mParams);
    copy->setPluginNamespace(mNamespace.c_str());
    return copy;
  } catch (std::exception const& e) {
    logError(std::string("MaskedRnn::clone: ") + e.what());
    return nullptr;
  }
}

nvinfer1::DimsExprs MaskedRnnPlugin::getOutputDimensions(int32_t outputIndex, nvinfer1::DimsExprs const* inputs,
                                                         int32_t nbInputs, nvinfer1::IExprBuilder& exprBuilder) noexcept {
  nvinfer1::DimsExprs result{};
  result.nbDims = -1;
  try {
    if (inputs == nullptr || nbInputs != mIo.nbInputs) {
      throw PluginError("expected " + std::to_string(mIo.nbInputs) + " inputs, got " + std::to_string(nbInputs));
    }
    if (inputs[mIo.x].nbDims != 3) throw PluginError("x must be [batch, time, features]");
    if (outputIndex < 0 || outputIndex >= mIo.nbOutputs) {
      throw PluginError("output index " + std::to_string(outputIndex) + " out of range");
    }
    nvinfer1::IDimensionExpr const* batch = inputs[mIo.x].d[0];
    nvinfer1::IDimensionExpr const* units = exprBuilder.constant(mParams.units);
    if (outputIndex == mIo.output && mParams.returnSequences) {
      result.nbDims = 3;
      result.d[0] = batch;
      result.d[1] = inputs[mIo.x].d[1];
      result.d[2] = units;
    } else {
      result.nbDims = 2;
      result.d[0] = batch;
      result.d[1] = units;
    }
  } catch (std::exception const& e) {
    logError(prefix() + "getOutputDimensions: " + e.what());
  }
  return result;
}

bool MaskedRnnPlugin::supportsFormatCombination(int32_t pos, nvinfer1::PluginTensorDesc const* inOut,
                                                int32_t nbInputs, int32_t nbOutputs) noexcept {
  if (inOut == nullptr || nbInputs != mIo.nbInputs || nbOutputs != mIo.nbOutputs || pos < 0 ||
      pos >= nbInputs + nbOutputs) {
    return false;
  }
  nvinfer1::PluginTensorDesc const& desc = inOut[pos];
  if (desc.format != TensorFormat::kLINEAR) return false;
  if (pos == mIo.mask) return desc.type == DataType::kINT32;
  if (pos == mIo.x) return isSupportedFloat(desc.type);
  return desc.type == inOut[mIo.x].type;  // weights, states and outputs follow x
}

void MaskedRnnPlugin::checkInputDims(nvinfer1::Dims const* dims, int32_t nbInputs) const {
  if (dims == nullptr || nbInputs != mIo.nbInputs) {
    throw PluginError("expected " + std::to_string(mIo.nbInputs) + " inputs, got " + std::to_string(nbInputs));
  }
  int64_t const gateUnits = int64_t{GateCount(mParams.cell)} * mParams.units;
  auto expect = [&](int32_t index, char const* name, std::initializer_list<int64_t> shape) {
    nvinfer1::Dims const& d = dims[index];
    bool ok = d.nbDims == static_cast<int32_t>(shape.size());
    int32_t i = 0;
    for (int64_t want : shape) {
      if (ok && want >= 0 && d.d[i] >= 0 && d.d[i] != want) ok = false;
      ++i;
    }
    if (!ok) {
      std::string wanted = "[";
      i = 0;
      for (int64_t want : shape) wanted += (i++ ? "," : "") + (want < 0 ? std::string("?") : std::to_string(want));
      throw PluginError(std::string(name) + " has shape " + dimsString(d) + ", expected " + wanted + "]");
    }
  };
  nvinfer1::Dims const& x = dims[mIo.x];
  expect(mIo.x, "x", {-1, -1, mParams.inputSize});
  int64_t const batch = x.d[0];
  int64_t const time = x.d[1];
  expect(mIo.mask, "mask", {batch, time});
  expect(mIo.kernel, "kernel", {mParams.inputSize, gateUnits});
  expect(mIo.recurrentKernel, "recurrent_kernel", {mParams.units, gateUnits});
  if (mIo.bias >= 0) {
    if (mParams.cell == RnnCell::kGru && mParams.resetAfter) {
      expect(mIo.bias, "bias", {2, gateUnits});
    } else {
      expect(mIo.bias, "bias", {gateUnits});
    }
  }
  expect(mIo.initialH, "initial_h", {batch, mParams.units});
  if (mIo.initialC >= 0) expect(mIo.initialC, "initial_c", {batch, mParams.units});
}

void MaskedRnnPlugin::configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
                                      nvinfer1::DynamicPluginTensorDesc const*, int32_t nbOutputs) noexcept {
  try {
    if (in == nullptr || nbOutputs != mIo.nbOutputs) throw PluginError("wrong number of outputs");
    std::vector<nvinfer1::Dims> dims;
    for (int32_t i = 0; i < nbInputs; ++i) dims.push_back(in[i].desc.dims);
    checkInputDims(dims.data(), nbInputs);
  } catch (std::exception const& e) {
    logError(prefix() + "configurePlugin: " + e.what());
  }
}

size_t MaskedRnnPlugin::getWorkspaceSize(nvinfer1::PluginTensorDesc const* inputs, int32_t nbInputs,
                                         nvinfer1::PluginTensorDesc const*, int32_t) const noexcept {
  try {
    if (inputs == nullptr || nbInputs != mIo.nbInputs) throw PluginError("wrong number of inputs");
    DType dtype;
    if (!toKernelDType(inputs[mIo.x].type, &dtype)) throw PluginError("x must be float32 or float16");
    nvinfer1::Dims const& x = inputs[mIo.x].dims;  // the profile's largest shape
    if (x.nbDims != 3) throw PluginError("x must have rank 3");
    return MaskedRnnGpuWorkspaceBytes(configFor(x.d[0], x.d[1]), dtype);
  } catch (std::exception const& e) {
    logError(prefix() + "getWorkspaceSize: " + e.what());
    return 0;
  }
}

int32_t MaskedRnnPlugin::enqueue(nvinfer1::PluginTensorDesc const* inputDesc,
                                 nvinfer1::PluginTensorDesc const* outputDesc, void const* const* inputs,
                                 void* const* outputs, void* workspace, cudaStream_t stream) noexcept {
  try {
    if (inputDesc == nullptr || outputDesc == nullptr || inputs == nullptr || outputs == nullptr) {
      throw PluginError("null tensor descriptors or pointers");
    }
    std::vector<nvinfer1::Dims> dims;
    for (int32_t i = 0; i < mIo.nbInputs; ++i) dims.push_back(inputDesc[i].dims);
    checkInputDims(dims.data(), mIo.nbInputs);
    DType dtype;
    if (!toKernelDType(inputDesc[mIo.x].type, &dtype)) throw PluginError("x must be float32 or float16");
    MaskedRnnConfig const config = configFor(dims[mIo.x].d[0], dims[mIo.x].d[1]);
    if (char const* error = ValidateMaskedRnnConfig(config)) throw PluginError(error);

    MaskedRnnGpuArgs args;
    args.dtype = dtype;
    args.mask_dtype = MaskDType::kInt32;
    args.x = inputs[mIo.x];
    args.mask = inputs[mIo.mask];
    args.kernel = inputs[mIo.kernel];
    args.recurrent_kernel = inputs[mIo.recurrentKernel];
    args.bias = mIo.bias >= 0 ? inputs[mIo.bias] : nullptr;
    args.initial_h = inputs[mIo.initialH];
    args.initial_c = mIo.initialC >= 0 ? inputs[mIo.initialC] : nullptr;
    args.output = outputs[mIo.output];
    args.final_h = outputs[mIo.finalH];
    args.final_c = mIo.finalC >= 0 ? outputs[mIo.finalC] : nullptr;
    // TensorRT allocated getWorkspaceSize() for the profile's largest shape; the
    // kernel needs no more for this (smaller or equal) shape.
    size_t const workspaceBytes = MaskedRnnGpuWorkspaceBytes(config, dtype);
    int const status = LaunchMaskedRnn(config, args, workspace, workspaceBytes, reinterpret_cast<GpuStream>(stream));
    if (status != 0) throw PluginError(std::string("kernel launch failed: ") + GpuErrorString(status));
    return 0;
  } catch (std::exception const& e) {
    logError(prefix() + "enqueue: " + e.what());
    return 1;
  }
}

MaskedRnnPluginCreator::MaskedRnnPluginCreator() {
  using nvinfer1::PluginField;
  using nvinfer1::PluginFieldType;
  std::vector<PluginField> fields;
  for (char const* name : {kFieldCell, kFieldUnits, kFieldInputSize, kFieldActivation, kFieldRecurrentActivation,
                           kFieldUseBias, kFieldResetAfter, kFieldGoBackwards, kFieldReturnSequences,
                           kFieldZeroOutputForMask}) {
    fields.push_back(PluginField{name, nullptr, PluginFieldType::kINT32, 1});
  }
  setFields(std::move(fields));
}

nvinfer1::IPluginV2* MaskedRnnPluginCreator::createPlugin(char const*,
                                                          nvinfer1::PluginFieldCollection const* fc) noexcept {
  try {
    PluginFieldReader fields(fc, kMaskedRnnPluginName, fieldNames());
    MaskedRnnParams params;
    params.cell = toCell(fields.requireInt32(kFieldCell));
    params.units = fields.requireInt32(kFieldUnits);
    params.inputSize = fields.requireInt32(kFieldInputSize);
    params.activation = toActivation(fields.int32Or(kFieldActivation, 0), kFieldActivation);
    params.recurrentActivation = toActivation(fields.int32Or(kFieldRecurrentActivation, 1), kFieldRecurrentActivation);
    params.hasBias = fields.boolOr(kFieldUseBias, true);
    params.resetAfter = fields.boolOr(kFieldResetAfter, true);
    params.goBackwards = fields.boolOr(kFieldGoBackwards, false);
    params.returnSequences = fields.boolOr(kFieldReturnSequences, false);
    params.zeroOutputForMask = fields.boolOr(kFieldZeroOutputForMask, false);
    auto* plugin = new MaskedRnnPlugin(params);
    plugin->setPluginNamespace(mNamespace.c_str());
    return plugin;
  } catch (std::exception const& e) {
    logError(std::string("MaskedRnn createPlugin: ") + e.what());
    return nullptr;
  }
}

nvinfer1::IPluginV2* MaskedRnnPluginCreator::deserializePlugin(char const*, void const* serialData,
                                                               size_t serialLength) noexcept {
  try {
    auto* plugin = new MaskedRnnPlugin(serialData, serialLength);
    plugin->setPluginNamespace(mNamespace.c_str());
    return plugin;
  } catch (std::exception const& e) {
    logError(std::string("MaskedRnn deserializePlugin: ") + e.what());
    return nullptr;
  }
}

}  // namespace plugin
}  // namespace tftrt_masking
