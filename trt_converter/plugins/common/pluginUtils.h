// Helpers shared by the tftrt_masking TensorRT plugins: logging, versioned
// bounds-checked serialization, plugin-field parsing, type mapping.
//
// TF-free and libnvinfer-free: only TensorRT headers. Errors inside helpers are
// thrown as PluginError and caught at the plugin interface (every interface
// method is noexcept and turns them into a logged error + error return).
#ifndef TFTRT_MASKING_TRT_CONVERTER_PLUGINS_COMMON_PLUGIN_UTILS_H_
#define TFTRT_MASKING_TRT_CONVERTER_PLUGINS_COMMON_PLUGIN_UTILS_H_

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "NvInferRuntime.h"
#include "kernels/common/types.h"

namespace tftrt_masking {
namespace plugin {

// Namespace our creators register under (plugins are found by name, version, namespace).
constexpr char kPluginNamespace[] = "tftrt_masking";

class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Logs through TensorRT's logger when one was given (setLoggerFinder or
// initTftrtMaskingPlugins), else to stderr. Also remembers the message as this
// thread's last error, so callers that only see nullptr can say why.
void logError(std::string const& message) noexcept;
void logWarning(std::string const& message) noexcept;
char const* lastPluginError() noexcept;
void clearLastPluginError() noexcept;

void setLogger(nvinfer1::ILogger* logger) noexcept;
void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept;

// Serialized plugins, shared by every plugin here. Format version 2:
//   SerialHeader {magic, version = 2, payload bytes, CRC-32 of the payload}
//   payload (the plugin's fields)
// Version 1 (until 2026-12) was {magic, version = 1} + the same payload, with
// no length and no checksum; readers still accept it (see SerialReader).
struct SerialHeader {
  uint32_t magic;
  uint32_t version;
  uint32_t payloadBytes;
  uint32_t checksum;
};
struct SerialHeaderV1 {
  uint32_t magic;
  uint32_t version;
};
constexpr uint32_t kSerialFormatVersion = 2;

// CRC-32 (IEEE 802.3, the zlib polynomial): detects every single-bit and
// every burst error up to 32 bits.
uint32_t crc32(void const* data, size_t length) noexcept;

// Writes the header and the payload into exactly `length` bytes; finish()
// fills in the payload length and checksum. `version` 1 writes the old header
// (no length, no checksum): only for a plugin read from a format-1 buffer whose
// payload means something format 2 cannot say (Masking, see its README).
class SerialWriter {
 public:
  SerialWriter(void* buffer, size_t length, uint32_t magic, uint32_t version = kSerialFormatVersion);

  static size_t serializedSize(size_t payloadBytes, uint32_t version = kSerialFormatVersion) {
    return (version == 1 ? sizeof(SerialHeaderV1) : sizeof(SerialHeader)) + payloadBytes;
  }

  template <typename T>
  void write(T const& value) {
    if (mLeft < sizeof(T)) throw PluginError("serialization buffer too small");
    std::memcpy(mCursor, &value, sizeof(T));
    mCursor += sizeof(T);
    mLeft -= sizeof(T);
  }

  // Throws if the payload did not fill the buffer exactly.
  void finish();

 private:
  char* mBuffer;
  char* mCursor;
  size_t mLength;
  size_t mLeft;
  uint32_t mVersion;
};

// Checks the header before any field is read: the magic, the version (1 or 2),
// and for version 2 that the payload length matches the buffer and the CRC-32
// matches the payload. Every read is bounds-checked; errors name the plugin.
class SerialReader {
 public:
  SerialReader(void const* data, size_t length, char const* pluginName, uint32_t expectedMagic);

  uint32_t version() const { return mVersion; }
  // Payload bytes not read yet (after the header: the whole payload).
  size_t remaining() const { return mLeft; }

  template <typename T>
  T read(char const* what) {
    if (mLeft < sizeof(T)) {
      throw PluginError(std::string(mPluginName) + ": serialized data truncated while reading '" + what +
                        "' (" + std::to_string(mLeft) + " bytes left, " + std::to_string(sizeof(T)) +
                        " needed)");
    }
    T value;
    std::memcpy(&value, mCursor, sizeof(T));
    mCursor += sizeof(T);
    mLeft -= sizeof(T);
    return value;
  }

  void expectEnd() const {
    if (mLeft != 0) {
      throw PluginError(std::string(mPluginName) + ": " + std::to_string(mLeft) +
                        " unexpected trailing bytes in serialized data");
    }
  }

 private:
  char const* mCursor;
  size_t mLeft;
  char const* mPluginName;
  uint32_t mVersion = 0;
};

// Reads typed scalar fields from a PluginFieldCollection. Unknown names,
// wrong types, wrong lengths and null data are errors naming the field.
class PluginFieldReader {
 public:
  PluginFieldReader(nvinfer1::PluginFieldCollection const* fc, char const* pluginName,
                    std::vector<std::string> knownNames);

  bool has(char const* name) const { return find(name) != nullptr; }
  int32_t requireInt32(char const* name) const;
  int32_t int32Or(char const* name, int32_t defaultValue) const;
  bool boolOr(char const* name, bool defaultValue) const;
  // kFLOAT64, or kFLOAT32 (the same number, widened).
  double requireFloat(char const* name) const;

 private:
  nvinfer1::PluginField const* find(char const* name) const;
  int32_t readInt32(nvinfer1::PluginField const& field) const;

  nvinfer1::PluginFieldCollection const* mFields;
  std::string mPluginName;
};

// Float element types the plugins run in (the shared kernels support more).
bool toKernelDType(nvinfer1::DataType type, DType* dtype) noexcept;
bool isSupportedFloat(nvinfer1::DataType type) noexcept;

// Product of dims [begin, end); throws PluginError on a negative (unknown)
// extent, a range outside the dims, or a product beyond int64 (8 dims of
// 2^31-1 would overflow).
int64_t volume(nvinfer1::Dims const& dims, int32_t begin, int32_t end);
// a * b, throwing PluginError (naming `what`) when it would overflow int64.
int64_t checkedMultiply(int64_t a, int64_t b, char const* what);

}  // namespace plugin
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TRT_CONVERTER_PLUGINS_COMMON_PLUGIN_UTILS_H_
