#include "trt_converter/plugins/common/pluginUtils.h"

#include <atomic>
#include <cstddef>
#include <cstdio>

namespace tftrt_masking {
namespace plugin {
namespace {

std::atomic<nvinfer1::ILogger*> gLogger{nullptr};
std::atomic<nvinfer1::ILoggerFinder*> gLoggerFinder{nullptr};
thread_local std::string tLastError;

nvinfer1::ILogger* currentLogger() noexcept {
  if (nvinfer1::ILogger* logger = gLogger.load()) return logger;
  // findLogger() must be called on the thread of the plugin call (TensorRT docs).
  if (nvinfer1::ILoggerFinder* finder = gLoggerFinder.load()) return finder->findLogger();
  return nullptr;
}

void logWith(nvinfer1::ILogger::Severity severity, char const* tag, std::string const& message) noexcept {
  try {
    std::string const text = "[tftrt_masking] " + message;
    if (nvinfer1::ILogger* logger = currentLogger()) {
      logger->log(severity, text.c_str());
    } else {
      std::fprintf(stderr, "%s: %s\n", tag, text.c_str());
    }
  } catch (...) {
    // Logging must never throw across the plugin interface.
  }
}

}  // namespace

void logError(std::string const& message) noexcept {
  try {
    tLastError = message;
  } catch (...) {
  }
  logWith(nvinfer1::ILogger::Severity::kERROR, "ERROR", message);
}

void logWarning(std::string const& message) noexcept {
  logWith(nvinfer1::ILogger::Severity::kWARNING, "WARNING", message);
}

char const* lastPluginError() noexcept { return tLastError.c_str(); }
void clearLastPluginError() noexcept { tLastError.clear(); }

void setLogger(nvinfer1::ILogger* logger) noexcept { gLogger.store(logger); }
void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept { gLoggerFinder.store(finder); }

uint32_t crc32(void const* data, size_t length) noexcept {
  static uint32_t const* const table = [] {
    static uint32_t entries[256];
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      entries[i] = c;
    }
    return entries;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  auto const* bytes = static_cast<unsigned char const*>(data);
  for (size_t i = 0; i < length; ++i) crc = table[(crc ^ bytes[i]) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

SerialWriter::SerialWriter(void* buffer, size_t length, uint32_t magic, uint32_t version)
    : mBuffer(static_cast<char*>(buffer)), mCursor(mBuffer), mLength(length), mLeft(length), mVersion(version) {
  if (buffer == nullptr) throw PluginError("null serialization buffer");
  if (length > UINT32_MAX) throw PluginError("serialized plugin too large");
  if (version == 1) {
    write(SerialHeaderV1{magic, 1});
  } else if (version == kSerialFormatVersion) {
    write(SerialHeader{magic, kSerialFormatVersion, 0, 0});
  } else {
    throw PluginError("cannot write serialized format version " + std::to_string(version));
  }
}

void SerialWriter::finish() {
  if (mLeft != 0) throw PluginError("serialized payload is " + std::to_string(mLeft) + " bytes short");
  if (mVersion == 1) return;  // format 1 has no length and no checksum
  size_t const payloadBytes = mLength - sizeof(SerialHeader);
  char const* payload = mBuffer + sizeof(SerialHeader);
  uint32_t const fields[2] = {static_cast<uint32_t>(payloadBytes), crc32(payload, payloadBytes)};
  std::memcpy(mBuffer + offsetof(SerialHeader, payloadBytes), fields, sizeof(fields));
}

SerialReader::SerialReader(void const* data, size_t length, char const* pluginName, uint32_t expectedMagic)
    : mCursor(static_cast<char const*>(data)), mLeft(length), mPluginName(pluginName) {
  std::string const name(pluginName);
  if (data == nullptr && length > 0) throw PluginError(name + ": null serialized data");
  auto const start = read<SerialHeaderV1>("header");
  if (start.magic != expectedMagic) {
    throw PluginError(name + ": serialized data is not a " + name + " plugin (bad magic number)");
  }
  mVersion = start.version;
  if (mVersion == 1) return;  // no length, no checksum: the caller validates the fields
  if (mVersion != kSerialFormatVersion) {
    throw PluginError(name + ": serialized format version " + std::to_string(mVersion) +
                      " is not supported (this build reads 1 and " + std::to_string(kSerialFormatVersion) +
                      "; rebuild the engine with this library)");
  }
  uint32_t const payloadBytes = read<uint32_t>("payload length");
  uint32_t const checksum = read<uint32_t>("checksum");
  if (payloadBytes != mLeft) {
    throw PluginError(name + ": serialized data truncated or padded (header says " +
                      std::to_string(payloadBytes) + " payload bytes, buffer holds " + std::to_string(mLeft) + ")");
  }
  if (crc32(mCursor, mLeft) != checksum) {
    throw PluginError(name + ": serialized data is corrupt (checksum mismatch); rebuild the engine");
  }
}

PluginFieldReader::PluginFieldReader(nvinfer1::PluginFieldCollection const* fc, char const* pluginName,
                                     std::vector<std::string> knownNames)
    : mFields(fc), mPluginName(pluginName) {
  if (fc == nullptr) throw PluginError(mPluginName + ": null PluginFieldCollection");
  if (fc->nbFields < 0 || (fc->nbFields > 0 && fc->fields == nullptr)) {
    throw PluginError(mPluginName + ": malformed PluginFieldCollection");
  }
  for (int32_t i = 0; i < fc->nbFields; ++i) {
    nvinfer1::PluginField const& field = fc->fields[i];
    if (field.name == nullptr) throw PluginError(mPluginName + ": plugin field without a name");
    bool known = false;
    for (std::string const& name : knownNames) known = known || name == field.name;
    if (!known) {
      std::string list;
      for (std::string const& name : knownNames) list += (list.empty() ? "" : ", ") + name;
      throw PluginError(mPluginName + ": unknown plugin field '" + field.name + "' (known: " + list + ")");
    }
  }
}

nvinfer1::PluginField const* PluginFieldReader::find(char const* name) const {
  for (int32_t i = 0; i < mFields->nbFields; ++i) {
    if (std::strcmp(mFields->fields[i].name, name) == 0) return &mFields->fields[i];
  }
  return nullptr;
}

int32_t PluginFieldReader::readInt32(nvinfer1::PluginField const& field) const {
  if (field.type != nvinfer1::PluginFieldType::kINT32) {
    throw PluginError(mPluginName + ": field '" + field.name + "' must be kINT32 (got type " +
                      std::to_string(static_cast<int32_t>(field.type)) + ")");
  }
  if (field.length != 1 || field.data == nullptr) {
    throw PluginError(mPluginName + ": field '" + field.name + "' must hold exactly one value (length " +
                      std::to_string(field.length) + ")");
  }
  return *static_cast<int32_t const*>(field.data);
}

int32_t PluginFieldReader::requireInt32(char const* name) const {
  nvinfer1::PluginField const* field = find(name);
  if (field == nullptr) throw PluginError(mPluginName + ": missing required field '" + name + "'");
  return readInt32(*field);
}

int32_t PluginFieldReader::int32Or(char const* name, int32_t defaultValue) const {
  nvinfer1::PluginField const* field = find(name);
  return field == nullptr ? defaultValue : readInt32(*field);
}

bool PluginFieldReader::boolOr(char const* name, bool defaultValue) const {
  int32_t const value = int32Or(name, defaultValue ? 1 : 0);
  if (value != 0 && value != 1) {
    throw PluginError(mPluginName + ": field '" + name + "' is a flag and must be 0 or 1 (got " +
                      std::to_string(value) + ")");
  }
  return value == 1;
}

double PluginFieldReader::requireFloat(char const* name) const {
  nvinfer1::PluginField const* field = find(name);
  if (field == nullptr) throw PluginError(mPluginName + ": missing required field '" + name + "'");
  if (field->type != nvinfer1::PluginFieldType::kFLOAT64 && field->type != nvinfer1::PluginFieldType::kFLOAT32) {
    throw PluginError(mPluginName + ": field '" + name + "' must be kFLOAT64 or kFLOAT32 (got type " +
                      std::to_string(static_cast<int32_t>(field->type)) + ")");
  }
  if (field->length != 1 || field->data == nullptr) {
    throw PluginError(mPluginName + ": field '" + name + "' must hold exactly one value (length " +
                      std::to_string(field->length) + ")");
  }
  if (field->type == nvinfer1::PluginFieldType::kFLOAT32) return *static_cast<float const*>(field->data);
  return *static_cast<double const*>(field->data);
}

bool toKernelDType(nvinfer1::DataType type, DType* dtype) noexcept {
  switch (type) {
    case nvinfer1::DataType::kFLOAT:
      *dtype = DType::kFloat32;
      return true;
    case nvinfer1::DataType::kHALF:
      *dtype = DType::kFloat16;
      return true;
    default:
      return false;
  }
}

bool isSupportedFloat(nvinfer1::DataType type) noexcept {
  return type == nvinfer1::DataType::kFLOAT || type == nvinfer1::DataType::kHALF;
}

int64_t checkedMultiply(int64_t a, int64_t b, char const* what) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) {
    throw PluginError(std::string(what) + " overflows 64 bits (" + std::to_string(a) + " * " + std::to_string(b) +
                      ")");
  }
  return product;
}

int64_t volume(nvinfer1::Dims const& dims, int32_t begin, int32_t end) {
  if (dims.nbDims < 0 || dims.nbDims > nvinfer1::Dims::MAX_DIMS || begin < 0 || begin > end ||
      end > dims.nbDims) {
    throw PluginError("dims range [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside rank " +
                      std::to_string(dims.nbDims));
  }
  int64_t product = 1;
  for (int32_t i = begin; i < end; ++i) {
    if (dims.d[i] < 0) throw PluginError("tensor extent unknown at run time");
    product = checkedMultiply(product, dims.d[i], "tensor volume");
  }
  return product;
}

}  // namespace plugin
}  // namespace tftrt_masking
