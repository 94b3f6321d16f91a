#include "trt_converter/plugins/pluginRegistration.h"

#include <dlfcn.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "NvInferRuntime.h"
#include "trt_converter/plugins/maskedRnnPlugin/maskedRnnPlugin.h"
#include "trt_converter/plugins/maskingPlugin/maskingPlugin.h"

namespace tftrt_masking {
namespace plugin {
namespace {

// One set of creators per namespace: TensorRT keeps pointers to registered
// creators, so renaming one object for a second namespace would move the
// first registration with it. Creators are plain objects (making them touches
// no TensorRT library) and live until the process ends, as TensorRT expects.
struct CreatorSet {
  explicit CreatorSet(char const* libNamespace) {
    masking.setPluginNamespace(libNamespace);
    maskedRnn.setPluginNamespace(libNamespace);
  }
  MaskingPluginCreator masking;
  MaskedRnnPluginCreator maskedRnn;
  nvinfer1::IPluginCreator* const list[2] = {&masking, &maskedRnn};
};

nvinfer1::IPluginCreator* const* creatorArray(char const* libNamespace, int32_t* count) {
  static std::mutex mutex;
  static auto* sets = new std::map<std::string, std::unique_ptr<CreatorSet>>();
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<CreatorSet>& set = (*sets)[libNamespace];
  if (!set) set = std::make_unique<CreatorSet>(libNamespace);
  *count = static_cast<int32_t>(sizeof(set->list) / sizeof(set->list[0]));
  return set->list;
}

using GetPluginRegistryFn = nvinfer1::IPluginRegistry* (*)();

// The libnvinfer TensorFlow (or the application) already loaded, else the
// first one that loads. Names: TF 2.17 opens libnvinfer.so.8.6.1.
GetPluginRegistryFn findGetPluginRegistry(std::string* error) {
  static char const* const kNames[] = {"libnvinfer.so.8.6.1", "libnvinfer.so.8", "libnvinfer.so"};
  void* handle = nullptr;
  for (char const* name : kNames) {
    if ((handle = dlopen(name, RTLD_NOW | RTLD_NOLOAD))) break;
  }
  std::string lastError;
  for (char const* name : kNames) {
    if (handle) break;
    handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (!handle) {
      char const* message = dlerror();
      lastError = message ? message : name;
    }
  }
  if (!handle) {
    if (error) *error = "TensorRT runtime (libnvinfer.so.8) not found: " + lastError;
    return nullptr;
  }
  auto fn = reinterpret_cast<GetPluginRegistryFn>(dlsym(handle, "getPluginRegistry"));
  if (!fn && error) *error = "libnvinfer has no getPluginRegistry symbol";
  return fn;
}

}  // namespace

bool RegisterPluginsWithRegistry(nvinfer1::IPluginRegistry* registry, char const* libNamespace, std::string* error) {
  if (registry == nullptr) {
    if (error) *error = "null plugin registry";
    return false;
  }
  if (libNamespace == nullptr) libNamespace = kPluginNamespace;
  int32_t count = 0;
  nvinfer1::IPluginCreator* const* creators = creatorArray(libNamespace, &count);
  for (int32_t i = 0; i < count; ++i) {
    nvinfer1::IPluginCreator* creator = creators[i];
    // Already there (loadLibrary, or an earlier call): fine.
    if (registry->getPluginCreator(creator->getPluginName(), creator->getPluginVersion(), libNamespace)) continue;
    if (!registry->registerCreator(*creator, libNamespace)) {
      if (error) *error = std::string("TensorRT refused to register plugin creator ") + creator->getPluginName();
      return false;
    }
  }
  return true;
}

namespace {

std::mutex gRegistrationMutex;
bool gRegistered = false;

}  // namespace

bool RegisterPluginsWithTensorRT(std::string* error) {
  std::lock_guard<std::mutex> lock(gRegistrationMutex);
  if (gRegistered) return true;
  GetPluginRegistryFn getRegistry = findGetPluginRegistry(error);
  if (!getRegistry) return false;
  nvinfer1::IPluginRegistry* registry = getRegistry();
  if (!registry) {
    if (error) *error = "getPluginRegistry() returned null";
    return false;
  }
  gRegistered = RegisterPluginsWithRegistry(registry, kPluginNamespace, error);
  return gRegistered;
}

nvinfer1::IPluginCreator* FindTftrtMaskingPluginCreator(char const* name, std::string* error) {
  if (!RegisterPluginsWithTensorRT(error)) return nullptr;
  std::string unused;
  GetPluginRegistryFn getRegistry = findGetPluginRegistry(error ? error : &unused);
  nvinfer1::IPluginRegistry* registry = getRegistry ? getRegistry() : nullptr;
  nvinfer1::IPluginCreator* creator = registry ? registry->getPluginCreator(name, "1", kPluginNamespace) : nullptr;
  if (!creator && error && error->empty()) {
    *error = std::string("plugin creator ") + name + " (namespace " + kPluginNamespace + ") is not registered";
  }
  return creator;
}

}  // namespace plugin
}  // namespace tftrt_masking

extern "C" {

int TftrtMaskingRegisterPlugins(char* error, size_t errorLength) {
  try {
    std::string message;
    if (tftrt_masking::plugin::RegisterPluginsWithTensorRT(&message)) return 1;
    if (error && errorLength > 0) {
      std::strncpy(error, message.c_str(), errorLength - 1);
      error[errorLength - 1] = '\0';
    }
  } catch (...) {
    if (error && errorLength > 0) std::strncpy(error, "unexpected exception", errorLength - 1);
  }
  return 0;
}

nvinfer1::IPluginCreator* const* getPluginCreators(int32_t& nbCreators) {
  try {
    return tftrt_masking::plugin::creatorArray(tftrt_masking::plugin::kPluginNamespace, &nbCreators);
  } catch (...) {
    nbCreators = 0;
    return nullptr;
  }
}

void setLoggerFinder(nvinfer1::ILoggerFinder* finder) { tftrt_masking::plugin::setLoggerFinder(finder); }

bool initTftrtMaskingPlugins(void* logger, char const* libNamespace) {
  try {
    tftrt_masking::plugin::setLogger(static_cast<nvinfer1::ILogger*>(logger));
    std::string error;
    auto getRegistry = tftrt_masking::plugin::findGetPluginRegistry(&error);
    bool const ok =
        getRegistry && tftrt_masking::plugin::RegisterPluginsWithRegistry(getRegistry(), libNamespace, &error);
    if (!ok) tftrt_masking::plugin::logError("initTftrtMaskingPlugins: " + error);
    return ok;
  } catch (...) {
    return false;
  }
}

}  // extern "C"
