#include "trt_converter/plugins/common/pluginUtils.h"

#include <atomic>
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

uint32_t SerialReader::readHeader(uint32_t expectedMagic, uint32_t maxVersion) {
  auto const header = read<SerialHeader>("header");
  if (header.magic != expectedMagic) {
    throw PluginError(std::string(mPluginName) + ": serialized data is not a " + mPluginName +
                      " plugin (bad magic number)");
  }
  if (header.version == 0 || header.version > maxVersion) {
    throw PluginError(std::string(mPluginName) + ": serialized format version " +
                      std::to_string(header.version) + " is not supported (this build reads 1.." +
                      std::to_string(maxVersion) + ")");
  }
  return header.version;
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

float PluginFieldReader::requireFloat32(char const* name) const {
  nvinfer1::PluginField const* field = find(name);
  if (field == nullptr) throw PluginError(mPluginName + ": missing required field '" + name + "'");
  if (field->type != nvinfer1::PluginFieldType::kFLOAT32) {
    throw PluginError(mPluginName + ": field '" + name + "' must be kFLOAT32 (got type " +
                      std::to_string(static_cast<int32_t>(field->type)) + ")");
  }
  if (field->length != 1 || field->data == nullptr) {
    throw PluginError(mPluginName + ": field '" + name + "' must hold exactly one value (length " +
                      std::to_string(field->length) + ")");
  }
  return *static_cast<float const*>(field->data);
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

int64_t volume(nvinfer1::Dims const& dims, int32_t begin, int32_t end) {
  int64_t product = 1;
  for (int32_t i = begin; i < end; ++i) {
    if (dims.d[i] < 0) throw PluginError("tensor extent unknown at run time");
    product *= dims.d[i];
  }
  return product;
}

}  // namespace plugin
}  // namespace tftrt_masking
