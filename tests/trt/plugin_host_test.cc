// Host-side tests of the TensorRT plugins (no GPU, no libnvinfer): creation
// through the creators with fields, shape / type / format answers with a
// concrete IExprBuilder, serialization round trips, and clear errors for bad
// fields and bad serialized data. enqueue runs on the GPU harness
// (trt_converter/plugins/harness/).
#include <dlfcn.h>

#include <cstddef>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/rnn/masked_rnn_shapes.h"
#include "trt_converter/plugins/common/pluginUtils.h"
#include "trt_converter/plugins/harness/concreteExprBuilder.h"
#include "trt_converter/plugins/maskedRnnPlugin/maskedRnnPlugin.h"
#include "trt_converter/plugins/maskingPlugin/maskingPlugin.h"
#include "trt_converter/plugins/pluginRegistration.h"

namespace tftrt_masking {
namespace plugin {
namespace {

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;
using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;
using nvinfer1::TensorFormat;
using testing_support::TestExprBuilder;

nvinfer1::DimsExprs exprs(std::vector<IDimensionExpr const*> const& dims) {
  nvinfer1::DimsExprs result{};
  result.nbDims = static_cast<int32_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) result.d[i] = dims[i];
  return result;
}

nvinfer1::Dims dimsOf(std::vector<int32_t> const& values) {
  nvinfer1::Dims dims{};
  dims.nbDims = static_cast<int32_t>(values.size());
  for (size_t i = 0; i < values.size(); ++i) dims.d[i] = values[i];
  return dims;
}

nvinfer1::PluginTensorDesc desc(DataType type, std::vector<int32_t> const& dims = {1, 1},
                                TensorFormat format = TensorFormat::kLINEAR) {
  nvinfer1::PluginTensorDesc d{};
  d.dims = dimsOf(dims);
  d.type = type;
  d.format = format;
  d.scale = 1.0f;
  return d;
}

template <typename P>
struct Destroy {
  void operator()(P* p) const {
    if (p) p->destroy();
  }
};
template <typename P>
using PluginPtr = std::unique_ptr<P, Destroy<P>>;

std::vector<char> serialized(nvinfer1::IPluginV2 const& plugin) {
  std::vector<char> buffer(plugin.getSerializationSize());
  plugin.serialize(buffer.data());
  return buffer;
}

constexpr size_t kHeaderBytes = sizeof(SerialHeader);

// `bytes` with the 4 bytes at `offset` replaced by `value`.
template <typename T>
std::vector<char> patched(std::vector<char> bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
  return bytes;
}

// A version-2 buffer whose header (length, CRC-32) matches its payload again:
// what a buffer written with these field values would hold.
std::vector<char> withChecksum(std::vector<char> bytes) {
  uint32_t const payloadBytes = static_cast<uint32_t>(bytes.size() - kHeaderBytes);
  uint32_t const checksum = crc32(bytes.data() + kHeaderBytes, payloadBytes);
  std::memcpy(bytes.data() + offsetof(SerialHeader, payloadBytes), &payloadBytes, 4);
  std::memcpy(bytes.data() + offsetof(SerialHeader, checksum), &checksum, 4);
  return bytes;
}

// The same payload in format version 1 ({magic, 1}, no length, no checksum).
std::vector<char> asVersion1(std::vector<char> const& v2) {
  size_t const payloadBytes = v2.size() - kHeaderBytes;
  std::vector<char> v1(sizeof(SerialHeaderV1) + payloadBytes);
  SerialHeaderV1 header;
  std::memcpy(&header, v2.data(), sizeof(header));
  header.version = 1;
  std::memcpy(v1.data(), &header, sizeof(header));
  std::memcpy(v1.data() + sizeof(header), v2.data() + kHeaderBytes, payloadBytes);
  return v1;
}

// ---------------------------------------------------------------- Masking

struct MaskingFields {
  double maskValue = 0.5;
  int32_t outputMode = 1;
  int32_t elementType = 0;  // DType::kFloat32
  std::vector<PluginField> fields() {
    return {{"mask_value", &maskValue, PluginFieldType::kFLOAT64, 1},
            {"output_mode", &outputMode, PluginFieldType::kINT32, 1},
            {"element_type", &elementType, PluginFieldType::kINT32, 1}};
  }
};

PluginPtr<nvinfer1::IPluginV2DynamicExt> createMasking(std::vector<PluginField> fields) {
  MaskingPluginCreator creator;
  PluginFieldCollection fc{static_cast<int32_t>(fields.size()), fields.data()};
  clearLastPluginError();
  return PluginPtr<nvinfer1::IPluginV2DynamicExt>(
      static_cast<nvinfer1::IPluginV2DynamicExt*>(creator.createPlugin("m", &fc)));
}

MaskingParams const& maskingParams(nvinfer1::IPluginV2 const& plugin) {
  return static_cast<MaskingPlugin const&>(plugin).params();
}

TEST(MaskingPlugin, CreatorDescribesItsFields) {
  MaskingPluginCreator creator;
  EXPECT_STREQ(creator.getPluginName(), "Masking");
  EXPECT_STREQ(creator.getPluginVersion(), "1");
  EXPECT_STREQ(creator.getPluginNamespace(), "tftrt_masking");
  PluginFieldCollection const* fc = creator.getFieldNames();
  ASSERT_EQ(fc->nbFields, 3);
  EXPECT_STREQ(fc->fields[0].name, "mask_value");
  EXPECT_EQ(fc->fields[0].type, PluginFieldType::kFLOAT64);
  EXPECT_STREQ(fc->fields[1].name, "output_mode");
  EXPECT_EQ(fc->fields[1].type, PluginFieldType::kINT32);
  EXPECT_STREQ(fc->fields[2].name, "element_type");
  EXPECT_EQ(fc->fields[2].type, PluginFieldType::kINT32);
}

TEST(MaskingPlugin, FieldsReachThePlugin) {
  MaskingFields f;
  f.maskValue = 0.1;  // a float64 no float holds: kept as it is
  f.outputMode = 1;
  f.elementType = 1;
  auto plugin = createMasking(f.fields());
  ASSERT_NE(plugin, nullptr) << lastPluginError();
  EXPECT_EQ(maskingParams(*plugin).maskValue, 0.1);
  EXPECT_EQ(maskingParams(*plugin).outputMode, MaskedOutputMode::kMultiply);
  EXPECT_EQ(maskingParams(*plugin).elementType, DType::kFloat16);
  EXPECT_FALSE(maskingParams(*plugin).formatOne);
  EXPECT_STREQ(plugin->getPluginType(), "Masking");
  EXPECT_STREQ(plugin->getPluginNamespace(), "tftrt_masking");
  EXPECT_EQ(plugin->getNbOutputs(), 2);
  // A kFLOAT32 mask_value is the same number, widened.
  float single = -1.25f;
  std::vector<PluginField> fields = f.fields();
  fields[0] = {"mask_value", &single, PluginFieldType::kFLOAT32, 1};
  auto widened = createMasking(fields);
  ASSERT_NE(widened, nullptr) << lastPluginError();
  EXPECT_EQ(maskingParams(*widened).maskValue, -1.25);
}

TEST(MaskingPlugin, OutputDimensionsFollowInputForEveryRank) {
  MaskingFields f;
  auto plugin = createMasking(f.fields());
  ASSERT_NE(plugin, nullptr);
  TestExprBuilder builder;
  for (int rank = 2; rank <= 5; ++rank) {
    std::vector<IDimensionExpr const*> dims;
    for (int i = 0; i < rank; ++i) dims.push_back(i % 2 ? builder.make(3 + i) : builder.symbol());
    nvinfer1::DimsExprs input = exprs(dims);
    nvinfer1::DimsExprs out = plugin->getOutputDimensions(0, &input, 1, builder);
    nvinfer1::DimsExprs mask = plugin->getOutputDimensions(1, &input, 1, builder);
    ASSERT_EQ(out.nbDims, rank);
    ASSERT_EQ(mask.nbDims, rank - 1);
    for (int i = 0; i < rank; ++i) EXPECT_EQ(out.d[i], dims[i]);
    for (int i = 0; i < rank - 1; ++i) EXPECT_EQ(mask.d[i], dims[i]);
  }
  nvinfer1::DimsExprs rank1 = exprs({builder.make(4)});
  EXPECT_EQ(plugin->getOutputDimensions(0, &rank1, 1, builder).nbDims, -1);
  EXPECT_NE(std::string(lastPluginError()).find("rank >= 2"), std::string::npos);
}

// x runs in the graph's element type only: a float32 graph never gets a half
// x (in FP16 mode TensorRT would otherwise round rows before the mask decision).
TEST(MaskingPlugin, FormatsAndTypesFollowTheGraphsElementType) {
  for (DataType x : {DataType::kFLOAT, DataType::kHALF}) {
    MaskingFields f;
    f.elementType = x == DataType::kHALF ? 1 : 0;
    auto plugin = createMasking(f.fields());
    ASSERT_NE(plugin, nullptr) << lastPluginError();
    DataType const other = x == DataType::kFLOAT ? DataType::kHALF : DataType::kFLOAT;
    nvinfer1::PluginTensorDesc io[3] = {desc(x), desc(x), desc(DataType::kINT32)};
    for (int pos = 0; pos < 3; ++pos) EXPECT_TRUE(plugin->supportsFormatCombination(pos, io, 1, 2)) << pos;
    nvinfer1::PluginTensorDesc wrong[3] = {desc(other), desc(other), desc(DataType::kINT32)};
    EXPECT_FALSE(plugin->supportsFormatCombination(0, wrong, 1, 2)) << "x in the other precision";
    DataType types[1] = {x};
    EXPECT_EQ(plugin->getOutputDataType(0, types, 1), x);
    EXPECT_EQ(plugin->getOutputDataType(1, types, 1), DataType::kINT32);
    // Output type must follow x; mask only int32; only linear layouts.
    io[1] = desc(other);
    EXPECT_FALSE(plugin->supportsFormatCombination(1, io, 1, 2));
    io[1] = desc(x);
    io[2] = desc(DataType::kBOOL);
    EXPECT_FALSE(plugin->supportsFormatCombination(2, io, 1, 2));
    io[0] = desc(x, {1, 1}, TensorFormat::kCHW2);
    EXPECT_FALSE(plugin->supportsFormatCombination(0, io, 1, 2));
    for (DataType bad : {DataType::kINT8, DataType::kINT32, DataType::kBOOL}) {
      nvinfer1::PluginTensorDesc badIo[3] = {desc(bad), desc(bad), desc(DataType::kINT32)};
      EXPECT_FALSE(plugin->supportsFormatCombination(0, badIo, 1, 2));
    }
  }
  MaskingFields f;
  auto plugin = createMasking(f.fields());
  nvinfer1::PluginTensorDesc io[3] = {desc(DataType::kFLOAT), desc(DataType::kFLOAT), desc(DataType::kINT32)};
  EXPECT_FALSE(plugin->supportsFormatCombination(3, io, 1, 2));
  EXPECT_EQ(plugin->getWorkspaceSize(io, 1, io + 1, 2), 0u);
}

TEST(MaskingPlugin, SerializationRoundTrip) {
  double const inf = std::numeric_limits<double>::infinity();
  for (int32_t elementType : {0, 1}) {
    for (int32_t mode : {0, 1}) {
      for (double value : {0.0, -1.0, 3.5e-8, 0.1, 1e300, -inf}) {
        MaskingFields f;
        f.maskValue = value;
        f.outputMode = mode;
        f.elementType = elementType;
        auto plugin = createMasking(f.fields());
        ASSERT_NE(plugin, nullptr);
        std::vector<char> bytes = serialized(*plugin);
        EXPECT_EQ(bytes.size(), kHeaderBytes + 16);
        MaskingPluginCreator creator;
        PluginPtr<nvinfer1::IPluginV2> copy(creator.deserializePlugin("m", bytes.data(), bytes.size()));
        ASSERT_NE(copy, nullptr) << lastPluginError();
        EXPECT_EQ(maskingParams(*copy).maskValue, value);
        EXPECT_EQ(static_cast<int32_t>(maskingParams(*copy).outputMode), mode);
        EXPECT_EQ(static_cast<int32_t>(maskingParams(*copy).elementType), elementType);
        EXPECT_EQ(serialized(*copy), bytes);
        PluginPtr<nvinfer1::IPluginV2DynamicExt> clone(plugin->clone());
        ASSERT_NE(clone, nullptr);
        EXPECT_EQ(serialized(*clone), bytes);
      }
    }
  }
}

// Engines built before format 2: {magic, 1, float mask_value, int32 output_mode}.
std::vector<char> formatOneBuffer(float maskValue, int32_t outputMode) {
  std::vector<char> bytes(16);
  uint32_t const header[2] = {MaskingPlugin::kSerialMagic, 1};
  std::memcpy(bytes.data(), header, 8);
  std::memcpy(bytes.data() + 8, &maskValue, 4);
  std::memcpy(bytes.data() + 12, &outputMode, 4);
  return bytes;
}

TEST(MaskingPlugin, FormatOneBuffersStillLoad) {
  std::vector<char> bytes = formatOneBuffer(-0.1f, 1);
  MaskingPluginCreator creator;
  PluginPtr<nvinfer1::IPluginV2> plugin(creator.deserializePlugin("m", bytes.data(), bytes.size()));
  ASSERT_NE(plugin, nullptr) << lastPluginError();
  EXPECT_TRUE(maskingParams(*plugin).formatOne);
  EXPECT_EQ(maskingParams(*plugin).maskValue, static_cast<double>(-0.1f));
  EXPECT_EQ(maskingParams(*plugin).outputMode, MaskedOutputMode::kMultiply);
  EXPECT_EQ(serialized(*plugin), bytes) << "written back as it was read";
  // The engine fixed x's type when it was built: both stay acceptable.
  auto* dynamic = static_cast<nvinfer1::IPluginV2DynamicExt*>(plugin.get());
  for (DataType x : {DataType::kFLOAT, DataType::kHALF}) {
    nvinfer1::PluginTensorDesc io[3] = {desc(x), desc(x), desc(DataType::kINT32)};
    EXPECT_TRUE(dynamic->supportsFormatCombination(0, io, 1, 2));
  }
}

void expectRejected(nvinfer1::IPluginV2* plugin, char const* expectedText) {
  EXPECT_EQ(plugin, nullptr);
  if (plugin) plugin->destroy();
  EXPECT_NE(std::string(lastPluginError()).find(expectedText), std::string::npos)
      << "error was: " << lastPluginError();
}

TEST(MaskingPlugin, BadSerializationIsAClearError) {
  MaskingFields f;
  auto plugin = createMasking(f.fields());
  std::vector<char> bytes = serialized(*plugin);
  MaskingPluginCreator creator;
  for (size_t length = 0; length < bytes.size(); ++length) {
    clearLastPluginError();
    expectRejected(creator.deserializePlugin("m", bytes.data(), length), "truncated");
  }
  std::vector<char> longer = bytes;
  longer.push_back(0);
  expectRejected(creator.deserializePlugin("m", longer.data(), longer.size()), "truncated or padded");
  std::vector<char> badMagic = bytes;
  badMagic[0] ^= 0x5A;
  expectRejected(creator.deserializePlugin("m", badMagic.data(), badMagic.size()), "bad magic");
  std::vector<char> newer = bytes;
  uint32_t version = 99;
  std::memcpy(newer.data() + 4, &version, 4);
  expectRejected(creator.deserializePlugin("m", newer.data(), newer.size()), "version 99");
  // Payload (format 2): element_type at +0, mask_value (float64) at +4,
  // output_mode at +12. Re-checksummed, so the field checks are what refuse.
  for (int32_t type : {2, 3, -1}) {  // bfloat16, float64: no TensorRT 8.6 plugin I/O type
    std::vector<char> badType = withChecksum(patched(bytes, kHeaderBytes + 0, type));
    expectRejected(creator.deserializePlugin("m", badType.data(), badType.size()),
                   "element_type must be 0 (float32) or 1 (float16)");
  }
  std::vector<char> badMode = withChecksum(patched(bytes, kHeaderBytes + 12, int32_t{7}));
  expectRejected(creator.deserializePlugin("m", badMode.data(), badMode.size()), "output_mode");
  std::vector<char> badOldMode = formatOneBuffer(0.0f, 7);
  expectRejected(creator.deserializePlugin("m", badOldMode.data(), badOldMode.size()), "output_mode");
  std::vector<char> oldTruncated = formatOneBuffer(0.0f, 0);
  expectRejected(creator.deserializePlugin("m", oldTruncated.data(), 12), "truncated");
  expectRejected(creator.deserializePlugin("m", nullptr, 12), "null");
  // The format-2 layout before element_type (8 payload bytes: float32
  // mask_value, output_mode), correctly checksummed: refused, saying why.
  std::vector<char> interim(kHeaderBytes + 8);
  std::memcpy(interim.data(), bytes.data(), kHeaderBytes);
  float const oldValue = 0.5f;
  std::memcpy(interim.data() + kHeaderBytes, &oldValue, 4);
  std::memcpy(interim.data() + kHeaderBytes + 4, &f.outputMode, 4);
  interim = withChecksum(interim);
  expectRejected(creator.deserializePlugin("m", interim.data(), interim.size()),
                 "format-2 payload is 8 bytes, expected 16");
  // A checksummed buffer with any other field unchanged still loads (the
  // patches above are what was refused).
  std::vector<char> same = withChecksum(bytes);
  PluginPtr<nvinfer1::IPluginV2> ok(creator.deserializePlugin("m", same.data(), same.size()));
  EXPECT_NE(ok, nullptr) << lastPluginError();
}

// enqueue refuses an x of another type than the graph's (TensorRT only picks
// what supportsFormatCombination accepts; this guards a wrong engine), before
// any launch.
TEST(MaskingPlugin, EnqueueRefusesAnXOfAnotherElementType) {
  MaskingFields f;
  f.elementType = 1;  // float16 graph
  auto plugin = createMasking(f.fields());
  ASSERT_NE(plugin, nullptr) << lastPluginError();
  nvinfer1::PluginTensorDesc in[1] = {desc(DataType::kFLOAT, {2, 3})};
  nvinfer1::PluginTensorDesc out[2] = {desc(DataType::kFLOAT, {2, 3}), desc(DataType::kINT32, {2})};
  char dummy[4] = {};
  void const* inputs[1] = {dummy};
  void* outputs[2] = {dummy, dummy};
  clearLastPluginError();
  EXPECT_EQ(plugin->enqueue(in, out, inputs, outputs, nullptr, nullptr), 1);
  EXPECT_NE(std::string(lastPluginError()).find("the graph's element type is"), std::string::npos)
      << lastPluginError();
}

TEST(MaskingPlugin, BadFieldsAreAClearError) {
  MaskingPluginCreator creator;
  MaskingFields f;
  std::vector<PluginField> fields = f.fields();
  std::vector<PluginField> missing = {fields[1], fields[2]};
  PluginFieldCollection fc{2, missing.data()};
  expectRejected(creator.createPlugin("m", &fc), "missing required field 'mask_value'");

  std::vector<PluginField> noType = {fields[0], fields[1]};
  fc = {2, noType.data()};
  expectRejected(creator.createPlugin("m", &fc), "missing required field 'element_type'");

  int32_t intValue = 0;
  std::vector<PluginField> wrongType = {{"mask_value", &intValue, PluginFieldType::kINT32, 1}, fields[2]};
  fc = {2, wrongType.data()};
  expectRejected(creator.createPlugin("m", &fc), "'mask_value' must be kFLOAT64 or kFLOAT32");

  std::vector<PluginField> twoValues = {{"mask_value", &f.maskValue, PluginFieldType::kFLOAT64, 2}, fields[2]};
  fc = {2, twoValues.data()};
  expectRejected(creator.createPlugin("m", &fc), "exactly one value");

  std::vector<PluginField> nullData = {{"mask_value", nullptr, PluginFieldType::kFLOAT64, 1}, fields[2]};
  fc = {2, nullData.data()};
  expectRejected(creator.createPlugin("m", &fc), "exactly one value");

  std::vector<PluginField> unknown = fields;
  unknown.push_back({"mask_valu", &f.maskValue, PluginFieldType::kFLOAT64, 1});
  fc = {4, unknown.data()};
  expectRejected(creator.createPlugin("m", &fc), "unknown plugin field 'mask_valu'");

  for (int32_t type : {2, 3, -1}) {  // bfloat16, float64: not TensorRT 8.6 plugin I/O types
    MaskingFields badType;
    badType.elementType = type;
    std::vector<PluginField> typed = badType.fields();
    fc = {3, typed.data()};
    expectRejected(creator.createPlugin("m", &fc), "element_type must be 0 (float32) or 1 (float16)");
  }

  f.outputMode = 2;
  std::vector<PluginField> badMode = f.fields();
  fc = {3, badMode.data()};
  expectRejected(creator.createPlugin("m", &fc), "output_mode must be 0 (where) or 1 (multiply)");

  expectRejected(creator.createPlugin("m", nullptr), "null PluginFieldCollection");
}

// ---------------------------------------------------------------- MaskedRnn

struct RnnFields {
  int32_t cell = 0, units = 5, inputSize = 3, activation = 0, recurrentActivation = 1;
  int32_t useBias = 1, resetAfter = 1, goBackwards = 0, returnSequences = 0, zeroOutputForMask = 0;
  std::vector<PluginField> fields() {
    auto f = [](char const* name, int32_t* value) { return PluginField{name, value, PluginFieldType::kINT32, 1}; };
    return {f("cell", &cell),
            f("units", &units),
            f("input_size", &inputSize),
            f("activation", &activation),
            f("recurrent_activation", &recurrentActivation),
            f("use_bias", &useBias),
            f("reset_after", &resetAfter),
            f("go_backwards", &goBackwards),
            f("return_sequences", &returnSequences),
            f("zero_output_for_mask", &zeroOutputForMask)};
  }
};

PluginPtr<MaskedRnnPlugin> createRnn(RnnFields& f) {
  MaskedRnnPluginCreator creator;
  std::vector<PluginField> fields = f.fields();
  PluginFieldCollection fc{static_cast<int32_t>(fields.size()), fields.data()};
  clearLastPluginError();
  return PluginPtr<MaskedRnnPlugin>(static_cast<MaskedRnnPlugin*>(creator.createPlugin("rnn", &fc)));
}

// Every (cell, use_bias, return_sequences, reset_after, go_backwards) combination.
std::vector<RnnFields> allConfigs() {
  std::vector<RnnFields> configs;
  for (int32_t cell : {0, 1, 2})
    for (int32_t bias : {0, 1})
      for (int32_t seq : {0, 1})
        for (int32_t resetAfter : {0, 1})
          for (int32_t back : {0, 1}) {
            if (cell != 1 && resetAfter == 0) continue;
            RnnFields f;
            f.cell = cell;
            f.useBias = bias;
            f.returnSequences = seq;
            f.resetAfter = resetAfter;
            f.goBackwards = back;
            f.zeroOutputForMask = back;
            f.units = 4 + cell;
            f.inputSize = 2 + bias;
            configs.push_back(f);
          }
  return configs;
}

std::vector<std::vector<int32_t>> inputShapes(RnnFields const& f, int32_t batch, int32_t time) {
  int32_t const gates = f.cell == 0 ? 4 : f.cell == 1 ? 3 : 1;
  std::vector<std::vector<int32_t>> shapes = {{batch, time, f.inputSize}, {batch, time},
                                              {f.inputSize, gates * f.units}, {f.units, gates * f.units}};
  if (f.useBias) {
    if (f.cell == 1 && f.resetAfter) {
      shapes.push_back({2, gates * f.units});
    } else {
      shapes.push_back({gates * f.units});
    }
  }
  shapes.push_back({batch, f.units});
  if (f.cell == 0) shapes.push_back({batch, f.units});
  return shapes;
}

void expectSameConfig(MaskedRnnConfig const& a, MaskedRnnConfig const& b) {
  EXPECT_EQ(a.cell, b.cell);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.units, b.units);
  EXPECT_EQ(a.input_size, b.input_size);
  EXPECT_EQ(a.activation, b.activation);
  EXPECT_EQ(a.recurrent_activation, b.recurrent_activation);
  EXPECT_EQ(a.has_bias, b.has_bias);
  EXPECT_EQ(a.reset_after, b.reset_after);
  EXPECT_EQ(a.go_backwards, b.go_backwards);
  EXPECT_EQ(a.return_sequences, b.return_sequences);
  EXPECT_EQ(a.zero_output_for_mask, b.zero_output_for_mask);
}

TEST(MaskedRnnPlugin, CreatorDescribesItsFields) {
  MaskedRnnPluginCreator creator;
  EXPECT_STREQ(creator.getPluginName(), "MaskedRnn");
  EXPECT_STREQ(creator.getPluginVersion(), "1");
  PluginFieldCollection const* fc = creator.getFieldNames();
  ASSERT_EQ(fc->nbFields, 10);
  for (int i = 0; i < fc->nbFields; ++i) EXPECT_EQ(fc->fields[i].type, PluginFieldType::kINT32);
}

TEST(MaskedRnnPlugin, IoCountsAndOutputDimensions) {
  for (RnnFields f : allConfigs()) {
    auto plugin = createRnn(f);
    ASSERT_NE(plugin, nullptr) << lastPluginError();
    auto const shapes = inputShapes(f, 2, 3);
    int32_t const nbInputs = static_cast<int32_t>(shapes.size());
    int32_t const nbOutputs = f.cell == 0 ? 3 : 2;
    EXPECT_EQ(plugin->getNbOutputs(), nbOutputs);
    TestExprBuilder builder;
    IDimensionExpr const* batch = builder.symbol();
    IDimensionExpr const* time = builder.symbol();
    std::vector<nvinfer1::DimsExprs> inputs;
    for (auto const& shape : shapes) {
      std::vector<IDimensionExpr const*> dims;
      for (int32_t v : shape) dims.push_back(builder.make(v));
      inputs.push_back(exprs(dims));
    }
    inputs[0].d[0] = batch;
    inputs[0].d[1] = time;
    nvinfer1::DimsExprs out = plugin->getOutputDimensions(0, inputs.data(), nbInputs, builder);
    ASSERT_EQ(out.nbDims, f.returnSequences ? 3 : 2);
    EXPECT_EQ(out.d[0], batch);
    if (f.returnSequences) {
      EXPECT_EQ(out.d[1], time);
    }
    EXPECT_EQ(out.d[out.nbDims - 1]->getConstantValue(), f.units);
    for (int32_t o = 1; o < nbOutputs; ++o) {
      nvinfer1::DimsExprs state = plugin->getOutputDimensions(o, inputs.data(), nbInputs, builder);
      ASSERT_EQ(state.nbDims, 2);
      EXPECT_EQ(state.d[0], batch);
      EXPECT_EQ(state.d[1]->getConstantValue(), f.units);
    }
    EXPECT_EQ(plugin->getOutputDimensions(nbOutputs, inputs.data(), nbInputs, builder).nbDims, -1);
    EXPECT_EQ(plugin->getOutputDimensions(0, inputs.data(), nbInputs - 1, builder).nbDims, -1);
  }
}

TEST(MaskedRnnPlugin, FormatsAndTypes) {
  for (RnnFields f : allConfigs()) {
    auto plugin = createRnn(f);
    ASSERT_NE(plugin, nullptr);
    int32_t const nbInputs = static_cast<int32_t>(inputShapes(f, 1, 1).size());
    int32_t const nbOutputs = plugin->getNbOutputs();
    for (DataType x : {DataType::kFLOAT, DataType::kHALF}) {
      std::vector<nvinfer1::PluginTensorDesc> io(nbInputs + nbOutputs, desc(x));
      io[1] = desc(DataType::kINT32);
      for (int32_t pos = 0; pos < nbInputs + nbOutputs; ++pos) {
        EXPECT_TRUE(plugin->supportsFormatCombination(pos, io.data(), nbInputs, nbOutputs)) << pos;
      }
      std::vector<DataType> types(nbInputs, x);
      types[1] = DataType::kINT32;
      for (int32_t o = 0; o < nbOutputs; ++o) EXPECT_EQ(plugin->getOutputDataType(o, types.data(), nbInputs), x);
      // A float mask, mixed weight types, a non-linear layout are refused.
      auto bad = io;
      bad[1] = desc(x);
      EXPECT_FALSE(plugin->supportsFormatCombination(1, bad.data(), nbInputs, nbOutputs));
      bad = io;
      bad[2] = desc(x == DataType::kFLOAT ? DataType::kHALF : DataType::kFLOAT);
      EXPECT_FALSE(plugin->supportsFormatCombination(2, bad.data(), nbInputs, nbOutputs));
      bad = io;
      bad[nbInputs] = desc(x, {1, 1}, TensorFormat::kHWC8);
      EXPECT_FALSE(plugin->supportsFormatCombination(nbInputs, bad.data(), nbInputs, nbOutputs));
    }
    std::vector<nvinfer1::PluginTensorDesc> ints(nbInputs + nbOutputs, desc(DataType::kINT32));
    EXPECT_FALSE(plugin->supportsFormatCombination(0, ints.data(), nbInputs, nbOutputs));
    EXPECT_FALSE(plugin->supportsFormatCombination(0, ints.data(), nbInputs + 1, nbOutputs));
  }
}

TEST(MaskedRnnPlugin, ConfigurePluginChecksShapes) {
  for (RnnFields f : allConfigs()) {
    auto plugin = createRnn(f);
    ASSERT_NE(plugin, nullptr);
    auto shapes = inputShapes(f, 4, 7);
    int32_t const nbInputs = static_cast<int32_t>(shapes.size());
    auto configure = [&](std::vector<std::vector<int32_t>> const& s) {
      std::vector<nvinfer1::DynamicPluginTensorDesc> in(nbInputs), out(plugin->getNbOutputs());
      for (int32_t i = 0; i < nbInputs; ++i) {
        in[i].desc = desc(i == 1 ? DataType::kINT32 : DataType::kFLOAT, s[i]);
        in[i].min = in[i].max = in[i].desc.dims;
      }
      clearLastPluginError();
      plugin->configurePlugin(in.data(), nbInputs, out.data(), plugin->getNbOutputs());
      return std::string(lastPluginError());
    };
    EXPECT_EQ(configure(shapes), "");
    auto dynamic = shapes;  // unknown batch / time at build time
    dynamic[0][0] = dynamic[0][1] = -1;
    dynamic[1][0] = dynamic[1][1] = -1;
    EXPECT_EQ(configure(dynamic), "");
    auto badKernel = shapes;
    badKernel[2][1] += 1;
    EXPECT_NE(configure(badKernel).find("kernel has shape"), std::string::npos);
    auto badX = shapes;
    badX[0][2] += 1;
    EXPECT_NE(configure(badX).find("x has shape"), std::string::npos);
    auto badMask = shapes;
    badMask[1][1] += 1;
    EXPECT_NE(configure(badMask).find("mask has shape"), std::string::npos);
    auto badState = shapes;
    badState.back()[1] += 1;
    EXPECT_NE(configure(badState).find("initial_"), std::string::npos);
  }
}

TEST(MaskedRnnPlugin, WorkspaceIsTheKernelsForTheLargestShape) {
  for (RnnFields f : allConfigs()) {
    auto plugin = createRnn(f);
    ASSERT_NE(plugin, nullptr);
    auto shapes = inputShapes(f, 16, 40);
    std::vector<nvinfer1::PluginTensorDesc> in;
    for (size_t i = 0; i < shapes.size(); ++i) in.push_back(desc(DataType::kHALF, shapes[i]));
    size_t const bytes = plugin->getWorkspaceSize(in.data(), static_cast<int32_t>(in.size()), nullptr, 0);
    EXPECT_EQ(bytes, MaskedRnnGpuWorkspaceBytes(plugin->configFor(16, 40), DType::kFloat16));
  }
}

TEST(MaskedRnnPlugin, SerializationRoundTrip) {
  for (RnnFields f : allConfigs()) {
    for (int32_t activation : {0, 2, 5}) {
      f.activation = activation;
      f.recurrentActivation = 4;
      auto plugin = createRnn(f);
      ASSERT_NE(plugin, nullptr) << lastPluginError();
      std::vector<char> bytes = serialized(*plugin);
      MaskedRnnPluginCreator creator;
      PluginPtr<nvinfer1::IPluginV2> copy(creator.deserializePlugin("rnn", bytes.data(), bytes.size()));
      ASSERT_NE(copy, nullptr) << lastPluginError();
      expectSameConfig(plugin->config(), static_cast<MaskedRnnPlugin*>(copy.get())->config());
      EXPECT_EQ(copy->getNbOutputs(), plugin->getNbOutputs());
      EXPECT_EQ(serialized(*copy), bytes);
    }
  }
}

TEST(MaskedRnnPlugin, BadSerializationIsAClearError) {
  RnnFields f;
  auto plugin = createRnn(f);
  std::vector<char> bytes = serialized(*plugin);
  MaskedRnnPluginCreator creator;
  for (size_t length = 0; length < bytes.size(); ++length) {
    clearLastPluginError();
    expectRejected(creator.deserializePlugin("rnn", bytes.data(), length), "truncated");
  }
  std::vector<char> masking = serialized(*createMasking(MaskingFields().fields()));
  expectRejected(creator.deserializePlugin("rnn", masking.data(), masking.size()), "bad magic");
  // Payload offsets: cell, units, input_size, activation, recurrent_activation, flags.
  auto field = [&](size_t index, int32_t value) { return withChecksum(patched(bytes, kHeaderBytes + 4 * index, value)); };
  auto cell = field(0, 9);
  expectRejected(creator.deserializePlugin("rnn", cell.data(), cell.size()), "cell must be");
  auto units = field(1, 0);
  expectRejected(creator.deserializePlugin("rnn", units.data(), units.size()), "units must be > 0");
  auto activation = field(3, 42);
  expectRejected(creator.deserializePlugin("rnn", activation.data(), activation.size()), "activation 42");
  auto flags = field(5, 1 << 7);
  expectRejected(creator.deserializePlugin("rnn", flags.data(), flags.size()), "flag bits");
  auto unchecked = patched(bytes, kHeaderBytes + 4, 6);  // units 5 -> 6, checksum left as it was
  expectRejected(creator.deserializePlugin("rnn", unchecked.data(), unchecked.size()), "checksum mismatch");
  auto newer = withChecksum(patched(bytes, 4, uint32_t{3}));
  expectRejected(creator.deserializePlugin("rnn", newer.data(), newer.size()), "format version 3 is not supported");
  std::vector<char> longer = bytes;
  longer.insert(longer.end(), 4, 0);
  expectRejected(creator.deserializePlugin("rnn", longer.data(), longer.size()), "truncated or padded");
  auto relabelled = withChecksum(longer);  // a consistent header does not make unknown trailing bytes valid
  expectRejected(creator.deserializePlugin("rnn", relabelled.data(), relabelled.size()), "trailing");
}

TEST(MaskedRnnPlugin, BadFieldsAreAClearError) {
  MaskedRnnPluginCreator creator;
  for (char const* required : {"cell", "units", "input_size"}) {
    RnnFields f;
    std::vector<PluginField> fields;
    for (PluginField const& field : f.fields()) {
      if (std::strcmp(field.name, required) != 0) fields.push_back(field);
    }
    PluginFieldCollection fc{static_cast<int32_t>(fields.size()), fields.data()};
    expectRejected(creator.createPlugin("rnn", &fc), (std::string("missing required field '") + required + "'").c_str());
  }
  RnnFields f;
  float units = 5.0f;
  std::vector<PluginField> fields = f.fields();
  fields[1] = {"units", &units, PluginFieldType::kFLOAT32, 1};
  PluginFieldCollection fc{static_cast<int32_t>(fields.size()), fields.data()};
  expectRejected(creator.createPlugin("rnn", &fc), "'units' must be kINT32");

  f = RnnFields();
  f.returnSequences = 2;
  fields = f.fields();
  fc = {static_cast<int32_t>(fields.size()), fields.data()};
  expectRejected(creator.createPlugin("rnn", &fc), "'return_sequences' is a flag");

  f = RnnFields();
  f.recurrentActivation = 17;
  fields = f.fields();
  fc = {static_cast<int32_t>(fields.size()), fields.data()};
  expectRejected(creator.createPlugin("rnn", &fc), "recurrent_activation 17");

  f = RnnFields();
  f.units = -3;
  fields = f.fields();
  fc = {static_cast<int32_t>(fields.size()), fields.data()};
  expectRejected(creator.createPlugin("rnn", &fc), "units must be > 0");
}


// ------------------------------------------------- serialization integrity

// Every single-bit flip anywhere in a serialized plugin is refused (before
// this format, 27% of them loaded as a different valid plugin).
template <typename Creator>
void expectEveryBitFlipRejected(std::vector<char> const& bytes, char const* name) {
  Creator creator;
  int rejected = 0;
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::vector<char> flipped = bytes;
    flipped[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    clearLastPluginError();
    nvinfer1::IPluginV2* plugin = creator.deserializePlugin(name, flipped.data(), flipped.size());
    if (plugin == nullptr) {
      ++rejected;
      EXPECT_STRNE(lastPluginError(), "") << "bit " << bit;
    } else {
      ADD_FAILURE() << name << ": flipping bit " << bit << " was not detected";
      plugin->destroy();
    }
  }
  EXPECT_EQ(rejected, static_cast<int>(bytes.size() * 8));
}

TEST(Serialization, EverySingleBitFlipIsDetected) {
  for (RnnFields f : allConfigs()) {
    auto plugin = createRnn(f);
    ASSERT_NE(plugin, nullptr);
    expectEveryBitFlipRejected<MaskedRnnPluginCreator>(serialized(*plugin), "rnn");
  }
  for (int32_t elementType : {0, 1}) {
    for (double value : {0.0, -1.0, 1e30, 0.1}) {
      MaskingFields f;
      f.maskValue = value;
      f.elementType = elementType;
      expectEveryBitFlipRejected<MaskingPluginCreator>(serialized(*createMasking(f.fields())), "m");
    }
  }
}

TEST(Serialization, HeaderHoldsVersion2LengthAndChecksum) {
  RnnFields f;
  std::vector<char> bytes = serialized(*createRnn(f));
  ASSERT_EQ(bytes.size(), kHeaderBytes + 24);
  SerialHeader header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  EXPECT_EQ(header.magic, MaskedRnnPlugin::kSerialMagic);
  EXPECT_EQ(header.version, 2u);
  EXPECT_EQ(header.payloadBytes, 24u);
  EXPECT_EQ(header.checksum, crc32(bytes.data() + kHeaderBytes, 24));
  // CRC-32 check value of the standard ("123456789" -> 0xCBF43926).
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
}

TEST(Serialization, Version1BuffersStillLoadWithTheSameChecks) {
  for (RnnFields f : allConfigs()) {
    auto plugin = createRnn(f);
    std::vector<char> v1 = asVersion1(serialized(*plugin));
    ASSERT_EQ(v1.size(), 32u);  // the size version 1 always had
    MaskedRnnPluginCreator creator;
    PluginPtr<nvinfer1::IPluginV2> copy(creator.deserializePlugin("rnn", v1.data(), v1.size()));
    ASSERT_NE(copy, nullptr) << lastPluginError();
    expectSameConfig(plugin->config(), static_cast<MaskedRnnPlugin*>(copy.get())->config());
    EXPECT_EQ(serialized(*copy), serialized(*plugin));  // written back as version 2
  }
  // Masking's format-1 payload differs from format 2's (no element_type, a
  // float32 mask_value): see MaskingPlugin.FormatOneBuffersStillLoad.
  std::vector<char> maskingV1 = formatOneBuffer(-2.5f, 0);
  MaskingPluginCreator maskingCreator;
  PluginPtr<nvinfer1::IPluginV2> masking(maskingCreator.deserializePlugin("m", maskingV1.data(), maskingV1.size()));
  ASSERT_NE(masking, nullptr) << lastPluginError();
  EXPECT_EQ(static_cast<MaskingPlugin*>(masking.get())->params().maskValue, -2.5f);
  std::vector<char> maskingLonger = maskingV1;
  maskingLonger.push_back(0);
  expectRejected(maskingCreator.deserializePlugin("m", maskingLonger.data(), maskingLonger.size()), "trailing");

  // Version 1 has no checksum: its fields get every plausibility check.
  RnnFields f;
  std::vector<char> v1 = asVersion1(serialized(*createRnn(f)));
  MaskedRnnPluginCreator creator;
  auto absurdUnits = patched(v1, 8 + 4, int32_t{1} << 30);
  expectRejected(creator.deserializePlugin("rnn", absurdUnits.data(), absurdUnits.size()), "units must be in [1, 65536]");
  auto absurdInput = patched(v1, 8 + 8, std::numeric_limits<int32_t>::max());
  expectRejected(creator.deserializePlugin("rnn", absurdInput.data(), absurdInput.size()), "input_size must be in");
  for (size_t length = 0; length < v1.size(); ++length) {
    expectRejected(creator.deserializePlugin("rnn", v1.data(), length), "truncated");
  }
  std::vector<char> longer = v1;
  longer.push_back(0);
  expectRejected(creator.deserializePlugin("rnn", longer.data(), longer.size()), "trailing");
  auto v0 = patched(v1, 4, uint32_t{0});
  expectRejected(creator.deserializePlugin("rnn", v0.data(), v0.size()), "format version 0 is not supported");
}

// Each implausible value is refused the same way through createPlugin and
// through a (correctly checksummed) serialized buffer: one validation.
TEST(Serialization, ImplausibleFieldsAreRefusedOnBothPaths) {
  struct Case {
    int32_t units, inputSize;
    char const* message;
  };
  int32_t const kMax = std::numeric_limits<int32_t>::max();
  for (Case const& c : {Case{1 << 30, 3, "units must be in [1, 65536], got 1073741824"},
                        Case{65537, 3, "units must be in [1, 65536]"}, Case{-1, 3, "units must be > 0"},
                        Case{5, kMax, "input_size must be in [1, 1048576], got 2147483647"},
                        Case{5, 0, "input_size must be in [1, 1048576], got 0"},
                        Case{5, -7, "input_size must be in"},
                        Case{65536, 65536, "kernel + recurrent_kernel would hold 34359738368 elements"}}) {
    RnnFields f;
    f.units = c.units;
    f.inputSize = c.inputSize;
    MaskedRnnPluginCreator creator;
    std::vector<PluginField> fields = f.fields();
    PluginFieldCollection fc{static_cast<int32_t>(fields.size()), fields.data()};
    expectRejected(creator.createPlugin("rnn", &fc), c.message);

    RnnFields valid;
    std::vector<char> bytes = serialized(*createRnn(valid));
    bytes = withChecksum(patched(patched(bytes, kHeaderBytes + 4, c.units), kHeaderBytes + 8, c.inputSize));
    expectRejected(creator.deserializePlugin("rnn", bytes.data(), bytes.size()), c.message);
  }
  // A layer at the limits still loads: SimpleRNN with 32768 units, 32767 features.
  RnnFields big;
  big.cell = 2;
  big.units = 32768;
  big.inputSize = 32767;
  auto plugin = createRnn(big);
  EXPECT_NE(plugin, nullptr) << lastPluginError();
}

TEST(Serialization, NullAndEmptyBuffersAreRefused) {
  MaskedRnnPluginCreator rnn;
  MaskingPluginCreator masking;
  expectRejected(rnn.deserializePlugin("rnn", nullptr, 40), "null serialized data");
  expectRejected(rnn.deserializePlugin("rnn", nullptr, 0), "truncated");
  expectRejected(masking.deserializePlugin("m", nullptr, 0), "truncated");
  std::vector<char> huge(1 << 20, 0);
  expectRejected(rnn.deserializePlugin("rnn", huge.data(), huge.size()), "bad magic");
}

// ---------------------------------------------------------------- volume

TEST(Volume, EightDimsOfTheLargestExtentOverflowIntoAnError) {
  nvinfer1::Dims dims{};
  dims.nbDims = 8;
  for (int i = 0; i < 8; ++i) dims.d[i] = std::numeric_limits<int32_t>::max();
  try {
    volume(dims, 0, 8);
    ADD_FAILURE() << "volume() of 8 x (2^31-1) did not report an overflow";
  } catch (PluginError const& e) {
    EXPECT_NE(std::string(e.what()).find("overflows 64 bits"), std::string::npos) << e.what();
  }
  EXPECT_EQ(volume(dims, 0, 2), int64_t{2147483647} * 2147483647);  // still fits
  EXPECT_THROW(volume(dims, 0, 3), PluginError);
  EXPECT_THROW(volume(dims, 0, 9), PluginError);
  EXPECT_THROW(volume(dims, 3, 2), PluginError);
  EXPECT_THROW(volume(dims, -1, 2), PluginError);
  dims.d[1] = -1;
  EXPECT_THROW(volume(dims, 0, 2), PluginError);
  EXPECT_EQ(volume(dimsOf({2, 3, 4}), 0, 3), 24);
  EXPECT_EQ(volume(dimsOf({2, 3, 4}), 1, 1), 1);
}

TEST(Volume, MaskingEnqueueRefusesAnOverflowingShapeBeforeAnyLaunch) {
  MaskingFields f;
  auto plugin = createMasking(f.fields());
  std::vector<int32_t> huge(8, std::numeric_limits<int32_t>::max());
  nvinfer1::PluginTensorDesc in[1] = {desc(DataType::kFLOAT, huge)};
  nvinfer1::PluginTensorDesc out[2] = {desc(DataType::kFLOAT, huge), desc(DataType::kINT32, huge)};
  char dummy[4] = {};
  void const* inputs[1] = {dummy};
  void* outputs[2] = {dummy, dummy};
  clearLastPluginError();
  EXPECT_EQ(plugin->enqueue(in, out, inputs, outputs, nullptr, nullptr), 1);
  EXPECT_NE(std::string(lastPluginError()).find("overflows"), std::string::npos) << lastPluginError();
}

TEST(MaskedRnnPlugin, WorkspaceForAnImpossibleShapeIsAnErrorNeverTooSmall) {
  RnnFields f;
  f.units = 32768;
  f.inputSize = 1;
  f.cell = 2;
  auto plugin = createRnn(f);
  ASSERT_NE(plugin, nullptr) << lastPluginError();
  int32_t const kMax = std::numeric_limits<int32_t>::max();
  auto shapes = inputShapes(f, kMax, kMax);
  std::vector<nvinfer1::PluginTensorDesc> in;
  for (auto const& shape : shapes) in.push_back(desc(DataType::kFLOAT, shape));
  clearLastPluginError();
  EXPECT_EQ(plugin->getWorkspaceSize(in.data(), static_cast<int32_t>(in.size()), nullptr, 0),
            std::numeric_limits<size_t>::max());
  EXPECT_NE(std::string(lastPluginError()).find("overflows"), std::string::npos) << lastPluginError();
  in[0].dims.nbDims = 2;
  EXPECT_EQ(plugin->getWorkspaceSize(in.data(), static_cast<int32_t>(in.size()), nullptr, 0),
            std::numeric_limits<size_t>::max());
}

// ------------------------------------------------------- shared shapes

TEST(MaskedRnnShapes, PluginAndKernelHeaderAgree) {
  for (RnnFields f : allConfigs()) {
    auto plugin = createRnn(f);
    ASSERT_NE(plugin, nullptr);
    MaskedRnnShapes const expected = MaskedRnnExpectedShapes(plugin->configFor(4, 7));
    auto const shapes = inputShapes(f, 4, 7);
    auto same = [](ExpectedShape const& e, std::vector<int32_t> const& v) {
      std::vector<int64_t> dims(v.begin(), v.end());
      return e.Matches(dims.data(), static_cast<int>(dims.size()));
    };
    EXPECT_TRUE(same(expected.x, shapes[0]));
    EXPECT_TRUE(same(expected.mask, shapes[1]));
    EXPECT_TRUE(same(expected.kernel, shapes[2]));
    EXPECT_TRUE(same(expected.recurrent_kernel, shapes[3]));
    if (f.useBias) {
      EXPECT_TRUE(same(expected.bias, shapes[4]));
    } else {
      EXPECT_EQ(expected.bias.ToString(), "[0]");
    }
    EXPECT_EQ(expected.output.rank, f.returnSequences ? 3 : 2);
    EXPECT_EQ(expected.initial_c.rank, f.cell == 0 ? 2 : 0);
    EXPECT_EQ(MaskedRnnExpectedShapes(plugin->configFor(kAnyExtent, kAnyExtent)).x.ToString(),
              "[?,?," + std::to_string(f.inputSize) + "]");
  }
}

// ------------------------------------------------------------- registration

TEST(Registration, PluginLibraryEntryPointsListBothCreators) {
  int32_t count = 0;
  nvinfer1::IPluginCreator* const* creators = getPluginCreators(count);
  ASSERT_EQ(count, 2);
  EXPECT_STREQ(creators[0]->getPluginName(), "Masking");
  EXPECT_STREQ(creators[1]->getPluginName(), "MaskedRnn");
  for (int32_t i = 0; i < count; ++i) {
    EXPECT_STREQ(creators[i]->getPluginVersion(), "1");
    EXPECT_STREQ(creators[i]->getPluginNamespace(), "tftrt_masking");
  }
}


// A registry that records what TensorRT's would: creators by (name, version,
// namespace), pointing at the caller's objects.
class RecordingRegistry final : public nvinfer1::IPluginRegistry {
 public:
  bool registerCreator(nvinfer1::IPluginCreator& creator, nvinfer1::AsciiChar const* const ns) noexcept override {
    auto key = std::make_tuple(std::string(creator.getPluginName()), std::string(creator.getPluginVersion()),
                               std::string(ns));
    if (mCreators.count(key)) return false;
    mCreators[key] = &creator;
    mList.push_back(&creator);
    return true;
  }
  nvinfer1::IPluginCreator* const* getPluginCreatorList(int32_t* const n) const noexcept override {
    *n = static_cast<int32_t>(mList.size());
    return mList.data();
  }
  nvinfer1::IPluginCreator* getPluginCreator(nvinfer1::AsciiChar const* const name,
                                             nvinfer1::AsciiChar const* const version,
                                             nvinfer1::AsciiChar const* const ns) noexcept override {
    auto it = mCreators.find(std::make_tuple(std::string(name), std::string(version), std::string(ns)));
    return it == mCreators.end() ? nullptr : it->second;
  }
  void setErrorRecorder(nvinfer1::IErrorRecorder* const) noexcept override {}
  nvinfer1::IErrorRecorder* getErrorRecorder() const noexcept override { return nullptr; }
  bool deregisterCreator(nvinfer1::IPluginCreator const&) noexcept override { return false; }
  bool isParentSearchEnabled() const override { return false; }
  void setParentSearchEnabled(bool const) override {}
  PluginLibraryHandle loadLibrary(nvinfer1::AsciiChar const*) noexcept override { return nullptr; }
  void deregisterLibrary(PluginLibraryHandle) noexcept override {}
  ~RecordingRegistry() override = default;

 private:
  std::map<std::tuple<std::string, std::string, std::string>, nvinfer1::IPluginCreator*> mCreators;
  std::vector<nvinfer1::IPluginCreator*> mList;
};

TEST(Registration, ASecondNamespaceDoesNotRenameTheFirst) {
  RecordingRegistry registry;
  std::string error;
  ASSERT_TRUE(RegisterPluginsWithRegistry(&registry, "first", &error)) << error;
  ASSERT_TRUE(RegisterPluginsWithRegistry(&registry, "second", &error)) << error;
  ASSERT_TRUE(RegisterPluginsWithRegistry(&registry, "first", &error)) << error;  // idempotent
  ASSERT_TRUE(RegisterPluginsWithRegistry(&registry, nullptr, &error)) << error;  // default namespace
  int32_t count = 0;
  registry.getPluginCreatorList(&count);
  EXPECT_EQ(count, 6);
  for (char const* ns : {"first", "second", "tftrt_masking"}) {
    for (char const* name : {"Masking", "MaskedRnn"}) {
      nvinfer1::IPluginCreator* creator = registry.getPluginCreator(name, "1", ns);
      ASSERT_NE(creator, nullptr) << name << " in " << ns;
      // The registered object still says the namespace it was registered under,
      // and so do the plugins it makes.
      EXPECT_STREQ(creator->getPluginNamespace(), ns);
      if (std::string(name) == "MaskedRnn") {
        RnnFields f;
        std::vector<PluginField> fields = f.fields();
        PluginFieldCollection fc{static_cast<int32_t>(fields.size()), fields.data()};
        PluginPtr<nvinfer1::IPluginV2> plugin(creator->createPlugin("rnn", &fc));
        ASSERT_NE(plugin, nullptr);
        EXPECT_STREQ(plugin->getPluginNamespace(), ns);
      }
    }
  }
  EXPECT_NE(registry.getPluginCreator("Masking", "1", "first"), registry.getPluginCreator("Masking", "1", "second"));
  // getPluginCreators (loadLibrary, trtexec --dynamicPlugins) keeps the default namespace.
  nvinfer1::IPluginCreator* const* creators = getPluginCreators(count);
  ASSERT_EQ(count, 2);
  EXPECT_STREQ(creators[0]->getPluginNamespace(), "tftrt_masking");
  EXPECT_STREQ(creators[1]->getPluginNamespace(), "tftrt_masking");
  EXPECT_FALSE(RegisterPluginsWithRegistry(nullptr, "x", &error));
  EXPECT_EQ(error, "null plugin registry");
}

TEST(Registration, WithoutTensorRtItFailsWithAReasonInsteadOfAborting) {
  void* nvinfer = dlopen("libnvinfer.so.8", RTLD_NOW);
  if (nvinfer != nullptr) {
    dlclose(nvinfer);
    GTEST_SKIP() << "libnvinfer.so.8 is installed here; this test is for machines without TensorRT";
  }
  char error[256] = {};
  EXPECT_EQ(TftrtMaskingRegisterPlugins(error, sizeof(error)), 0);
  EXPECT_NE(std::string(error).find("libnvinfer"), std::string::npos) << error;
  std::string message;
  EXPECT_EQ(FindTftrtMaskingPluginCreator("Masking", &message), nullptr);
  EXPECT_NE(message.find("TensorRT runtime"), std::string::npos) << message;
  EXPECT_FALSE(initTftrtMaskingPlugins(nullptr, nullptr));
}

}  // namespace
}  // namespace plugin
}  // namespace tftrt_masking
