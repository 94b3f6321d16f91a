#include "trt_converter/plugins/maskedRnnPlugin/maskedRnnPlugin.h"

#include <exception>
#include <limits>
#include <string>

#include "kernels/rnn/masked_rnn_shapes.h"

namespace tftrt_masking {
namespace plugin {
namespace {

using nvinfer1::DataType;
using nvinfer1::TensorFormat;

namespace field = masked_rnn_field;

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

void checkRange(int64_t value, int64_t limit, char const* what) {
  if (value <= 0 || value > limit) {
    throw PluginError(prefix() + what + " must be in [1, " + std::to_string(limit) + "], got " +
                      std::to_string(value));
  }
}

std::string dimsString(nvinfer1::Dims const& dims) {
  std::string text = "[";
  for (int32_t i = 0; i < dims.nbDims; ++i) text += (i ? "," : "") + std::to_string(dims.d[i]);
  return text + "]";
}

// Serialized flag bits (format versions 1 and 2).
constexpr uint32_t kFlagUseBias = 1u, kFlagResetAfter = 2u, kFlagGoBackwards = 4u, kFlagReturnSequences = 8u,
                   kFlagZeroOutputForMask = 16u, kKnownFlags = 31u;

}  // namespace

void validateMaskedRnnPluginConfig(MaskedRnnConfig const& config) {
  toCell(static_cast<int32_t>(config.cell));
  toActivation(static_cast<int32_t>(config.activation), field::kActivation);
  toActivation(static_cast<int32_t>(config.recurrent_activation), field::kRecurrentActivation);
  if (config.units <= 0) throw PluginError(prefix() + "units must be > 0, got " + std::to_string(config.units));
  checkRange(config.units, kMaskedRnnMaxUnits, field::kUnits);
  checkRange(config.input_size, kMaskedRnnMaxInputSize, field::kInputSize);
  int64_t const gateUnits = int64_t{GateCount(config.cell)} * config.units;
  int64_t const weights = gateUnits * (config.input_size + config.units);  // < 2^59 after the checks above
  if (weights > kMaskedRnnMaxWeightElements) {
    throw PluginError(prefix() + "kernel + recurrent_kernel would hold " + std::to_string(weights) +
                      " elements (input_size " + std::to_string(config.input_size) + ", units " +
                      std::to_string(config.units) + "); the limit is " + std::to_string(kMaskedRnnMaxWeightElements));
  }
  MaskedRnnConfig shapeless = config;
  shapeless.batch = shapeless.time = 0;
  if (char const* error = ValidateMaskedRnnConfig(shapeless)) throw PluginError(prefix() + error);
}

MaskedRnnIo::MaskedRnnIo(MaskedRnnConfig const& config) {
  int32_t next = 4;
  if (config.has_bias) bias = next++;
  initialH = next++;
  if (config.cell == RnnCell::kLstm) initialC = next++;
  nbInputs = next;
  nbOutputs = 2;
  if (config.cell == RnnCell::kLstm) finalC = nbOutputs++;
}

namespace {

MaskedRnnConfig validatedShapeless(MaskedRnnConfig config) {
  config.batch = config.time = 0;
  validateMaskedRnnPluginConfig(config);
  return config;
}

// The payload of format versions 1 and 2 (the same fields in the same order).
MaskedRnnConfig readConfig(void const* serialData, size_t serialLength) {
  SerialReader reader(serialData, serialLength, kMaskedRnnPluginName, MaskedRnnPlugin::kSerialMagic);
  MaskedRnnConfig config;
  config.cell = toCell(reader.read<int32_t>(field::kCell));
  config.units = reader.read<int32_t>(field::kUnits);
  config.input_size = reader.read<int32_t>(field::kInputSize);
  config.activation = toActivation(reader.read<int32_t>(field::kActivation), field::kActivation);
  config.recurrent_activation =
      toActivation(reader.read<int32_t>(field::kRecurrentActivation), field::kRecurrentActivation);
  auto const flags = reader.read<uint32_t>("flags");
  if (flags & ~kKnownFlags) throw PluginError(prefix() + "unknown flag bits in serialized data");
  config.has_bias = flags & kFlagUseBias;
  config.reset_after = flags & kFlagResetAfter;
  config.go_backwards = flags & kFlagGoBackwards;
  config.return_sequences = flags & kFlagReturnSequences;
  config.zero_output_for_mask = flags & kFlagZeroOutputForMask;
  reader.expectEnd();
  if (reader.version() == 1) {
    logWarning(prefix() + "serialized with format version 1 (no checksum); fields checked, rebuild the engine to "
               "get an integrity check");
  }
  return config;
}

}  // namespace

MaskedRnnPlugin::MaskedRnnPlugin(MaskedRnnConfig const& config) : mConfig(validatedShapeless(config)), mIo(mConfig) {}

MaskedRnnPlugin::MaskedRnnPlugin(void const* serialData, size_t serialLength)
    : MaskedRnnPlugin(readConfig(serialData, serialLength)) {}

MaskedRnnConfig MaskedRnnPlugin::configFor(int64_t batch, int64_t time) const {
  MaskedRnnConfig config = mConfig;
  config.batch = batch;
  config.time = time;
  return config;
}

namespace {
constexpr size_t kPayloadBytes = 5 * sizeof(int32_t) + sizeof(uint32_t);
}  // namespace

size_t MaskedRnnPlugin::getSerializationSize() const noexcept { return SerialWriter::serializedSize(kPayloadBytes); }

void MaskedRnnPlugin::serialize(void* buffer) const noexcept {
  try {
    SerialWriter writer(buffer, getSerializationSize(), kSerialMagic);
    writer.write(static_cast<int32_t>(mConfig.cell));
    writer.write(static_cast<int32_t>(mConfig.units));
    writer.write(static_cast<int32_t>(mConfig.input_size));
    writer.write(static_cast<int32_t>(mConfig.activation));
    writer.write(static_cast<int32_t>(mConfig.recurrent_activation));
    uint32_t const flags = (mConfig.has_bias ? kFlagUseBias : 0u) | (mConfig.reset_after ? kFlagResetAfter : 0u) |
                           (mConfig.go_backwards ? kFlagGoBackwards : 0u) |
                           (mConfig.return_sequences ? kFlagReturnSequences : 0u) |
                           (mConfig.zero_output_for_mask ? kFlagZeroOutputForMask : 0u);
    writer.write(flags);
    writer.finish();
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
    auto* copy = new MaskedRnnPlugin(mConfig);
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
    nvinfer1::IDimensionExpr const* units = exprBuilder.constant(static_cast<int32_t>(mConfig.units));
    if (units == nullptr) throw PluginError("IExprBuilder::constant returned null");
    if (outputIndex == mIo.output && mConfig.return_sequences) {
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
  auto check = [&](int32_t index, char const* name, ExpectedShape const& expected) {
    if (index < 0) return;  // the configuration has no such input
    nvinfer1::Dims const& d = dims[index];
    if (d.nbDims < 0 || d.nbDims > nvinfer1::Dims::MAX_DIMS) {
      throw PluginError(std::string(name) + " has invalid rank " + std::to_string(d.nbDims));
    }
    int64_t actual[nvinfer1::Dims::MAX_DIMS];
    for (int32_t i = 0; i < d.nbDims; ++i) actual[i] = d.d[i];
    if (!expected.Matches(actual, d.nbDims)) {
      throw PluginError(std::string(name) + " has shape " + dimsString(d) + ", expected " + expected.ToString());
    }
  };
  nvinfer1::Dims const& x = dims[mIo.x];
  // Batch and time come from x (unknown, -1, at build time).
  int64_t const batch = x.nbDims == 3 && x.d[0] >= 0 ? x.d[0] : kAnyExtent;
  int64_t const time = x.nbDims == 3 && x.d[1] >= 0 ? x.d[1] : kAnyExtent;
  MaskedRnnShapes const expected = MaskedRnnExpectedShapes(configFor(batch, time));
  check(mIo.x, "x", expected.x);
  check(mIo.mask, "mask", expected.mask);
  check(mIo.kernel, "kernel", expected.kernel);
  check(mIo.recurrentKernel, "recurrent_kernel", expected.recurrent_kernel);
  check(mIo.bias, "bias", expected.bias);
  check(mIo.initialH, "initial_h", expected.initial_h);
  check(mIo.initialC, "initial_c", expected.initial_c);
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
    // The projection scratch is B*T*G*U elements: refuse shapes whose size
    // would not even fit 64 bits instead of asking for a wrapped-around size.
    int64_t const rows = volume(x, 0, 2);
    checkedMultiply(checkedMultiply(rows, int64_t{GateCount(mConfig.cell)} * mConfig.units, "workspace elements"),
                    8, "workspace bytes");
    return MaskedRnnGpuWorkspaceBytes(configFor(x.d[0], x.d[1]), dtype);
  } catch (std::exception const& e) {
    // Never too small: enqueue trusts that TensorRT gave it this much. An
    // impossible request makes the engine build fail (after this message).
    logError(prefix() + "getWorkspaceSize: " + e.what());
    return std::numeric_limits<size_t>::max();
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
  for (char const* name : {field::kCell, field::kUnits, field::kInputSize, field::kActivation,
                           field::kRecurrentActivation, field::kUseBias, field::kResetAfter, field::kGoBackwards,
                           field::kReturnSequences, field::kZeroOutputForMask}) {
    fields.push_back(PluginField{name, nullptr, PluginFieldType::kINT32, 1});
  }
  setFields(std::move(fields));
}

nvinfer1::IPluginV2* MaskedRnnPluginCreator::createPlugin(char const*,
                                                          nvinfer1::PluginFieldCollection const* fc) noexcept {
  try {
    PluginFieldReader fields(fc, kMaskedRnnPluginName, fieldNames());
    MaskedRnnConfig config;
    config.cell = toCell(fields.requireInt32(field::kCell));
    config.units = fields.requireInt32(field::kUnits);
    config.input_size = fields.requireInt32(field::kInputSize);
    config.activation = toActivation(fields.int32Or(field::kActivation, 0), field::kActivation);
    config.recurrent_activation =
        toActivation(fields.int32Or(field::kRecurrentActivation, 1), field::kRecurrentActivation);
    config.has_bias = fields.boolOr(field::kUseBias, true);
    config.reset_after = fields.boolOr(field::kResetAfter, true);
    config.go_backwards = fields.boolOr(field::kGoBackwards, false);
    config.return_sequences = fields.boolOr(field::kReturnSequences, false);
    config.zero_output_for_mask = fields.boolOr(field::kZeroOutputForMask, false);
    auto* plugin = new MaskedRnnPlugin(config);
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
