// Fuzz test of the plugins' deserializers and field parser, built with
// -fsanitize=address,undefined (tests/trt/BUILD): a deterministic mutator
// (seeded xorshift, no libFuzzer needed) over valid serialized plugins and
// PluginFieldCollections. Any sanitizer report aborts the test; so does a
// broken invariant:
//   - every rejection leaves a message (lastPluginError);
//   - an accepted buffer passes the plugin's validation, re-serializes to the
//     same payload, and answers the shape/format/workspace queries without a
//     crash (enqueue needs a GPU: the harness covers it);
//   - a flipped bit with the header left as it was is always rejected.
// Usage: plugin_fuzz_test [mutants (default 300000)] [seconds (default 30)]:
// stops at whichever comes first.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "kernels/rnn/masked_rnn.h"
#include "trt_converter/plugins/common/pluginUtils.h"
#include "trt_converter/plugins/harness/concreteExprBuilder.h"
#include "trt_converter/plugins/maskedRnnPlugin/maskedRnnPlugin.h"
#include "trt_converter/plugins/maskingPlugin/maskingPlugin.h"

namespace tftrt_masking {
namespace plugin {
namespace {

using nvinfer1::DataType;
using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;

// Counts TensorRT-logger messages instead of printing 10^5 rejections.
class CountingLogger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const*) noexcept override { ++counts[static_cast<int>(severity)]; }
  std::map<int, int64_t> counts;
};

class Rng {
 public:
  explicit Rng(uint64_t seed) : mState(seed | 1) {}
  uint64_t next() {
    mState ^= mState << 13;
    mState ^= mState >> 7;
    mState ^= mState << 17;
    return mState;
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
  bool chance(uint32_t oneIn) { return below(oneIn) == 0; }

 private:
  uint64_t mState;
};

int gFailures = 0;
void fail(std::string const& what) {
  if (++gFailures <= 20) std::fprintf(stderr, "FUZZ FAILURE: %s\n", what.c_str());
}

std::vector<char> serialized(nvinfer1::IPluginV2 const& plugin) {
  std::vector<char> bytes(plugin.getSerializationSize());
  plugin.serialize(bytes.data());
  return bytes;
}

constexpr size_t kHeader = sizeof(SerialHeader);

void fixHeader(std::vector<char>& bytes) {
  if (bytes.size() < kHeader) return;
  uint32_t const payload = static_cast<uint32_t>(bytes.size() - kHeader);
  uint32_t const checksum = crc32(bytes.data() + kHeader, payload);
  std::memcpy(bytes.data() + offsetof(SerialHeader, payloadBytes), &payload, 4);
  std::memcpy(bytes.data() + offsetof(SerialHeader, checksum), &checksum, 4);
}

std::vector<char> toVersion1(std::vector<char> const& v2) {
  if (v2.size() < kHeader) return v2;
  std::vector<char> v1(v2.begin(), v2.begin() + 8);
  uint32_t const one = 1;
  std::memcpy(v1.data() + 4, &one, 4);
  v1.insert(v1.end(), v2.begin() + kHeader, v2.end());
  return v1;
}

int32_t interesting(Rng& rng) {
  static int32_t const kValues[] = {0,       1,          -1,         2,          3,          4,
                                    5,       31,         32,         65535,      65536,      65537,
                                    1 << 20, (1 << 20) + 1, 1 << 30, 0x7fffffff, INT32_MIN, 0x7fc00000 /* NaN */,
                                    0x7f800000 /* inf */, 0x4b000000};
  return kValues[rng.below(sizeof(kValues) / sizeof(kValues[0]))];
}

// Exercises an accepted plugin's build-time queries with random shapes.
void exercise(nvinfer1::IPluginV2DynamicExt& plugin, Rng& rng) {
  testing_support::TestExprBuilder builder;
  int32_t const nbInputs = plugin.getNbOutputs() == 2 && std::strcmp(plugin.getPluginType(), "Masking") == 0
                               ? 1
                               : static_cast<int32_t>(4 + rng.below(4));
  int32_t const nbOutputs = plugin.getNbOutputs();
  std::vector<nvinfer1::DimsExprs> exprs(nbInputs);
  std::vector<nvinfer1::PluginTensorDesc> descs(nbInputs + nbOutputs);
  std::vector<nvinfer1::DynamicPluginTensorDesc> dynamic(nbInputs + nbOutputs);
  for (int32_t i = 0; i < nbInputs + nbOutputs; ++i) {
    nvinfer1::Dims dims{};
    dims.nbDims = static_cast<int32_t>(rng.below(9));
    for (int32_t d = 0; d < dims.nbDims; ++d) {
      dims.d[d] = rng.chance(4) ? interesting(rng) : static_cast<int32_t>(rng.below(9));
    }
    descs[i].dims = dims;
    descs[i].type = static_cast<DataType>(rng.below(9));
    descs[i].format = nvinfer1::TensorFormat::kLINEAR;
    dynamic[i].desc = descs[i];
    dynamic[i].min = dynamic[i].max = dims;
    if (i < nbInputs) {
      exprs[i].nbDims = dims.nbDims;
      for (int32_t d = 0; d < dims.nbDims; ++d) exprs[i].d[d] = rng.chance(3) ? builder.symbol() : builder.make(dims.d[d]);
    }
  }
  for (int32_t o = -1; o <= nbOutputs; ++o) plugin.getOutputDimensions(o, exprs.data(), nbInputs, builder);
  std::vector<DataType> types(nbInputs);
  for (int32_t i = 0; i < nbInputs; ++i) types[i] = descs[i].type;
  for (int32_t o = -1; o <= nbOutputs; ++o) plugin.getOutputDataType(o, types.data(), nbInputs);
  for (int32_t pos = -1; pos <= nbInputs + nbOutputs; ++pos) {
    plugin.supportsFormatCombination(pos, descs.data(), nbInputs, nbOutputs);
  }
  plugin.configurePlugin(dynamic.data(), nbInputs, dynamic.data() + nbInputs, nbOutputs);
  plugin.getWorkspaceSize(descs.data(), nbInputs, descs.data() + nbInputs, nbOutputs);
}

struct Stats {
  int64_t mutants = 0, accepted = 0, headerFixed = 0, version1 = 0, plainBitFlips = 0;
  int64_t fieldSets = 0, fieldSetsAccepted = 0;
  std::map<std::string, int64_t> reasons;
};

// The first words of a rejection message, to tally why buffers were refused.
std::string reasonOf(char const* message) {
  std::string const text(message);
  for (char const* key : {"checksum", "truncated or padded", "truncated", "bad magic", "format version",
                          "payload is", "trailing", "units", "input_size", "cell", "activation", "flag",
                          "output_mode", "element_type",
                          "kernel + recurrent_kernel", "null"}) {
    if (text.find(key) != std::string::npos) return key;
  }
  return text.empty() ? "(no message)" : "other: " + text.substr(0, 60);
}

template <typename Plugin>
void checkAccepted(nvinfer1::IPluginV2* raw, std::vector<char> const& buffer, Rng& rng, Stats& stats) {
  auto* plugin = static_cast<Plugin*>(raw);
  ++stats.accepted;
  std::vector<char> again = serialized(*plugin);
  uint32_t againVersion = 0;
  if (again.size() >= 8) std::memcpy(&againVersion, again.data() + 4, 4);
  if (againVersion == 1) {
    // Only a format-1 Masking plugin is written back in format 1: the same
    // bytes, except that a signalling-NaN float mask_value (at byte 8) comes
    // back quieted (it is held as a double).
    std::vector<char> expected = buffer;
    if (expected.size() >= 12) {
      uint32_t bits;
      std::memcpy(&bits, expected.data() + 8, 4);
      if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0) bits |= 0x00400000u;
      std::memcpy(expected.data() + 8, &bits, 4);
    }
    if (again != expected) fail(std::string(plugin->getPluginType()) + ": accepted format-1 buffer changed");
    exercise(*plugin, rng);
    return;
  }
  // Same payload (a MaskedRnn version-1 buffer comes back as version 2).
  size_t const payloadAt = buffer.size() >= 8 && buffer[4] == 1 && buffer[5] == 0 ? 8 : kHeader;
  if (again.size() < kHeader || buffer.size() < payloadAt ||
      std::memcmp(again.data() + kHeader, buffer.data() + payloadAt, again.size() - kHeader) != 0 ||
      again.size() - kHeader != buffer.size() - payloadAt) {
    fail(std::string(plugin->getPluginType()) + ": accepted buffer does not re-serialize to its payload");
  }
  exercise(*plugin, rng);
}

void fuzzBuffers(std::vector<std::vector<char>> const& seeds, int64_t budget, double seconds, Rng& rng,
                 Stats& stats) {
  MaskedRnnPluginCreator rnnCreator;
  MaskingPluginCreator maskingCreator;
  auto const start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < budget; ++i) {
    if ((i & 1023) == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) {
      break;
    }
    std::vector<char> buffer = seeds[rng.below(static_cast<uint32_t>(seeds.size()))];
    // Format-1 seeds (old Masking buffers) have no checksum: a flipped bit in
    // a field is a different, valid buffer.
    bool const seedHasChecksum = buffer.size() >= 8 && buffer[4] == 2;
    bool const plainBitFlip = seedHasChecksum && rng.chance(4);
    if (plainBitFlip) {
      // One flipped bit, header untouched: the checksum (or magic/version/length
      // check) must catch it every time.
      size_t const bit = rng.below(static_cast<uint32_t>(buffer.size() * 8));
      buffer[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      ++stats.plainBitFlips;
    } else {
      int const edits = 1 + static_cast<int>(rng.below(4));
      for (int e = 0; e < edits; ++e) {
        switch (rng.below(6)) {
          case 0: {  // bit flips
            size_t const bit = rng.below(static_cast<uint32_t>(buffer.size() * 8 + 1));
            if (bit < buffer.size() * 8) buffer[bit / 8] ^= static_cast<char>(1 << (bit % 8));
            break;
          }
          case 1:  // a random byte
            if (!buffer.empty()) buffer[rng.below(static_cast<uint32_t>(buffer.size()))] = static_cast<char>(rng.next());
            break;
          case 2: {  // an interesting int32 at an aligned payload offset
            if (buffer.size() >= kHeader + 4) {
              size_t const slot = kHeader + 4 * rng.below(static_cast<uint32_t>((buffer.size() - kHeader) / 4));
              int32_t const value = interesting(rng);
              std::memcpy(buffer.data() + slot, &value, 4);
            }
            break;
          }
          case 3:  // truncate
            buffer.resize(rng.below(static_cast<uint32_t>(buffer.size() + 1)));
            break;
          case 4: {  // extend
            size_t const extra = 1 + rng.below(rng.chance(8) ? 4096 : 8);
            for (size_t k = 0; k < extra; ++k) buffer.push_back(static_cast<char>(rng.next()));
            break;
          }
          default: {  // splice another seed's tail
            std::vector<char> const& other = seeds[rng.below(static_cast<uint32_t>(seeds.size()))];
            size_t const cut = rng.below(static_cast<uint32_t>(std::min(buffer.size(), other.size()) + 1));
            buffer.resize(cut);
            buffer.insert(buffer.end(), other.begin() + cut, other.end());
            break;
          }
        }
      }
      // Half the time make the header consistent again, so the field checks
      // behind the checksum get exercised too; sometimes as a version-1 buffer.
      if (rng.chance(2)) {
        fixHeader(buffer);
        ++stats.headerFixed;
        if (rng.chance(4)) {
          buffer = toVersion1(buffer);
          ++stats.version1;
        }
      }
    }
    // Both creators see every mutant (a plugin's buffer handed to the other).
    for (int which = 0; which < 2; ++which) {
      ++stats.mutants;
      clearLastPluginError();
      void const* data = buffer.empty() ? nullptr : buffer.data();
      nvinfer1::IPluginV2* plugin = which == 0 ? rnnCreator.deserializePlugin("fuzz", data, buffer.size())
                                               : maskingCreator.deserializePlugin("fuzz", data, buffer.size());
      if (plugin == nullptr) {
        ++stats.reasons[reasonOf(lastPluginError())];
        if (lastPluginError()[0] == '\0') fail("rejection without a message");
        continue;
      }
      if (plainBitFlip) fail(std::string(plugin->getPluginType()) + ": a single flipped bit was accepted");
      if (which == 0) {
        checkAccepted<MaskedRnnPlugin>(plugin, buffer, rng, stats);
      } else {
        checkAccepted<MaskingPlugin>(plugin, buffer, rng, stats);
      }
      plugin->destroy();
    }
  }
}

void fuzzFields(int64_t budget, double seconds, Rng& rng, Stats& stats) {
  MaskedRnnPluginCreator rnnCreator;
  MaskingPluginCreator maskingCreator;
  static char const* const kNames[] = {masked_rnn_field::kCell,
                                       masked_rnn_field::kUnits,
                                       masked_rnn_field::kInputSize,
                                       masked_rnn_field::kActivation,
                                       masked_rnn_field::kRecurrentActivation,
                                       masked_rnn_field::kUseBias,
                                       masked_rnn_field::kResetAfter,
                                       masked_rnn_field::kGoBackwards,
                                       masked_rnn_field::kReturnSequences,
                                       masked_rnn_field::kZeroOutputForMask,
                                       masking_field::kMaskValue,
                                       masking_field::kOutputMode,
                                       masking_field::kElementType,
                                       "unit",
                                       "",
                                       nullptr};
  constexpr int kNameCount = sizeof(kNames) / sizeof(kNames[0]);
  auto const start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < budget; ++i) {
    if ((i & 1023) == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) {
      break;
    }
    std::vector<PluginField> fields;
    std::vector<int32_t> storage(4 * 16);
    if (rng.chance(2)) {
      // A complete, valid set for one plugin with 0-2 fields damaged.
      bool const rnn = rng.chance(2);
      int32_t const values[] = {static_cast<int32_t>(rng.below(3)), 1 + static_cast<int32_t>(rng.below(64)),
                                1 + static_cast<int32_t>(rng.below(64)), static_cast<int32_t>(rng.below(6)),
                                static_cast<int32_t>(rng.below(6)), static_cast<int32_t>(rng.below(2)),
                                static_cast<int32_t>(rng.below(2)), static_cast<int32_t>(rng.below(2)),
                                static_cast<int32_t>(rng.below(2)), static_cast<int32_t>(rng.below(2))};
      int32_t const first = rnn ? 0 : 10, last = rnn ? 10 : 13;
      for (int32_t n = first; n < last; ++n) {
        int32_t* data = &storage[4 * fields.size()];
        data[0] = rnn ? values[n] : (n == 10 ? static_cast<int32_t>(rng.next()) : static_cast<int32_t>(rng.below(2)));
        data[1] = static_cast<int32_t>(rng.next());
        // mask_value: kFLOAT64 (what the converter sends) or kFLOAT32 (accepted).
        PluginFieldType const type = n != 10           ? PluginFieldType::kINT32
                                     : rng.chance(2) ? PluginFieldType::kFLOAT64
                                                     : PluginFieldType::kFLOAT32;
        fields.push_back(PluginField{kNames[n], data, type, 1});
      }
      int const damage = static_cast<int>(rng.below(3));
      for (int d = 0; d < damage && !fields.empty(); ++d) {
        PluginField& field = fields[rng.below(static_cast<uint32_t>(fields.size()))];
        switch (rng.below(5)) {
          case 0: *static_cast<int32_t*>(const_cast<void*>(field.data)) = interesting(rng); break;
          case 1: field.type = static_cast<PluginFieldType>(rng.below(12)); break;
          case 2: field.length = static_cast<int32_t>(rng.below(4)) - 1; break;
          case 3: field.name = kNames[rng.below(kNameCount)]; break;
          default: fields.erase(fields.begin() + rng.below(static_cast<uint32_t>(fields.size()))); break;
        }
      }
    } else {
      int32_t const count = static_cast<int32_t>(rng.below(14));
      for (int32_t f = 0; f < count; ++f) {
        bool const wellFormed = !rng.chance(4);
        char const* name = kNames[wellFormed ? rng.below(kNameCount - 3) : rng.below(kNameCount)];
        int32_t* data = &storage[4 * f];
        for (int k = 0; k < 4; ++k) data[k] = rng.chance(3) ? interesting(rng) : static_cast<int32_t>(rng.below(7));
        PluginFieldType type = std::strcmp(name ? name : "", masking_field::kMaskValue) == 0
                                   ? (rng.chance(2) ? PluginFieldType::kFLOAT64 : PluginFieldType::kFLOAT32)
                                   : PluginFieldType::kINT32;
        if (!wellFormed) type = static_cast<PluginFieldType>(rng.below(12));
        int32_t const length = wellFormed ? 1 : static_cast<int32_t>(rng.below(5)) - 1;
        fields.push_back(PluginField{name, (!wellFormed && rng.chance(4)) ? nullptr : data, type, length});
      }
    }
    int32_t const count = static_cast<int32_t>(fields.size());
    PluginFieldCollection fc{count, count > 0 && rng.chance(20) ? nullptr : fields.data()};
    if (rng.chance(30)) fc.nbFields = -1;
    for (int which = 0; which < 2; ++which) {
      ++stats.fieldSets;
      clearLastPluginError();
      PluginFieldCollection const* arg = rng.chance(50) ? nullptr : &fc;
      nvinfer1::IPluginV2* plugin =
          which == 0 ? rnnCreator.createPlugin("fuzz", arg) : maskingCreator.createPlugin("fuzz", arg);
      if (plugin == nullptr) {
        if (lastPluginError()[0] == '\0') fail("createPlugin rejection without a message");
        continue;
      }
      ++stats.fieldSetsAccepted;
      // Whatever createPlugin accepts must survive its own serialization.
      std::vector<char> bytes = serialized(*plugin);
      nvinfer1::IPluginV2* copy = which == 0 ? rnnCreator.deserializePlugin("fuzz", bytes.data(), bytes.size())
                                             : maskingCreator.deserializePlugin("fuzz", bytes.data(), bytes.size());
      if (copy == nullptr) {
        fail(std::string("createPlugin accepted what deserializePlugin refuses: ") + lastPluginError());
      } else {
        if (serialized(*copy) != bytes) fail("round trip changed the bytes");
        copy->destroy();
      }
      exercise(*static_cast<nvinfer1::IPluginV2DynamicExt*>(plugin), rng);
      plugin->destroy();
    }
  }
}

std::vector<std::vector<char>> seeds() {
  std::vector<std::vector<char>> result;
  MaskedRnnPluginCreator rnnCreator;
  for (int32_t cell : {0, 1, 2}) {
    for (int32_t flags = 0; flags < 32; flags += 3) {
      MaskedRnnConfig config;
      config.cell = static_cast<RnnCell>(cell);
      config.units = 1 + 7 * flags;
      config.input_size = 3 + flags;
      config.activation = static_cast<Activation>(flags % 6);
      config.recurrent_activation = static_cast<Activation>((flags + 1) % 6);
      config.has_bias = flags & 1;
      config.reset_after = flags & 2;
      config.go_backwards = flags & 4;
      config.return_sequences = flags & 8;
      config.zero_output_for_mask = flags & 16;
      MaskedRnnPlugin plugin(config);
      result.push_back(serialized(plugin));
    }
  }
  for (double value : {0.0, -1.0, 0.1, 1e30, 1e300, std::numeric_limits<double>::quiet_NaN()}) {
    for (auto mode : {MaskedOutputMode::kWhere, MaskedOutputMode::kMultiply}) {
      for (DType elementType : {DType::kFloat32, DType::kFloat16}) {
        MaskingParams params;
        params.maskValue = value;
        params.outputMode = mode;
        params.elementType = elementType;
        result.push_back(serialized(MaskingPlugin(params)));
      }
    }
  }
  // Format 1 (old engines: a float32 mask_value, no element_type).
  for (float value : {0.0f, -1.0f, 0.1f, 1e30f, std::numeric_limits<float>::quiet_NaN()}) {
    for (auto mode : {MaskedOutputMode::kWhere, MaskedOutputMode::kMultiply}) {
      MaskingParams old;
      old.maskValue = value;
      old.outputMode = mode;
      old.formatOne = true;
      result.push_back(serialized(MaskingPlugin(old)));
    }
  }
  return result;
}

}  // namespace
}  // namespace plugin
}  // namespace tftrt_masking

int main(int argc, char** argv) {
  using namespace tftrt_masking::plugin;  // NOLINT
  int64_t const budget = argc > 1 ? std::atoll(argv[1]) : 300000;
  double const seconds = argc > 2 ? std::atof(argv[2]) : 30.0;
  CountingLogger logger;
  setLogger(&logger);
  Rng rng(0x7f4a7c15f39cc060ull);
  Stats stats;
  auto const start = std::chrono::steady_clock::now();
  // Four fifths of the time for buffers (each mutant goes to both creators),
  // the rest for field collections.
  fuzzBuffers(seeds(), budget / 2, seconds * 0.8, rng, stats);
  fuzzFields(budget / 8, seconds * 0.2, rng, stats);
  double const elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  setLogger(nullptr);

  std::printf("plugin fuzz: %lld mutated buffers deserialized (%lld single-bit flips with the header untouched, "
              "%lld with the header made consistent again, %lld of them as version 1), %lld accepted; "
              "%lld field collections, %lld accepted; %.1f s\n",
              static_cast<long long>(stats.mutants), static_cast<long long>(stats.plainBitFlips),
              static_cast<long long>(stats.headerFixed), static_cast<long long>(stats.version1),
              static_cast<long long>(stats.accepted), static_cast<long long>(stats.fieldSets),
              static_cast<long long>(stats.fieldSetsAccepted), elapsed);
  std::printf("rejections by reason:\n");
  for (auto const& [reason, count] : stats.reasons) std::printf("  %-28s %lld\n", reason.c_str(), static_cast<long long>(count));
  if (stats.accepted == 0 || stats.fieldSetsAccepted == 0) fail("nothing was accepted: the mutator is too destructive");
  if (gFailures > 0) {
    std::printf("plugin fuzz: %d invariant failure(s)\n", gFailures);
    return 1;
  }
  std::printf("plugin fuzz: no sanitizer report, no invariant failure\n");
  return 0;
}
