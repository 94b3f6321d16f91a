// Registration of the tftrt_masking plugin creators.
//
// Never at library load: TensorRT may be absent (a static REGISTER_TENSORRT_PLUGIN
// aborts the process then). Three ways in, all lazy:
//   - inside TensorFlow: the converters call FindTftrtMaskingPluginCreator() on
//     their first Convert(); the Python loader calls TftrtMaskingRegisterPlugins()
//     only when libnvinfer can be loaded, before any engine is deserialized;
//   - plain TensorRT 8.6: IPluginRegistry::loadLibrary() / trtexec --dynamicPlugins use
//     the exported getPluginCreators() + setLoggerFinder();
//   - plain TensorRT, explicit: initTftrtMaskingPlugins(logger, namespace).
// This header needs no TensorRT or CUDA headers, so TF-side code can include it
// next to TensorFlow's own copy of the CUDA headers.
#ifndef TFTRT_MASKING_TRT_CONVERTER_PLUGINS_PLUGIN_REGISTRATION_H_
#define TFTRT_MASKING_TRT_CONVERTER_PLUGINS_PLUGIN_REGISTRATION_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace nvinfer1 {
class IPluginCreator;
class IPluginRegistry;
class ILoggerFinder;
}  // namespace nvinfer1

namespace tftrt_masking {
namespace plugin {

// Registers every creator with the plugin registry of the loaded libnvinfer
// (found with dlopen, so nothing links against it). Idempotent and thread-safe.
// Returns false with a reason when TensorRT cannot be loaded.
bool RegisterPluginsWithTensorRT(std::string* error);

// Registers our creators with `registry` under `libNamespace` (null:
// "tftrt_masking"), skipping those already registered there. Each namespace
// gets its own creator objects: a second namespace never renames the first.
bool RegisterPluginsWithRegistry(nvinfer1::IPluginRegistry* registry, char const* libNamespace, std::string* error);

// Registers (if needed) and returns the registered creator of `name`, version
// "1", namespace "tftrt_masking"; nullptr with a reason on failure.
nvinfer1::IPluginCreator* FindTftrtMaskingPluginCreator(char const* name, std::string* error);

}  // namespace plugin
}  // namespace tftrt_masking

extern "C" {
// For the Python loader (ctypes): 1 on success, 0 with a message in `error`.
int TftrtMaskingRegisterPlugins(char* error, size_t errorLength);

// TensorRT 8.6's plugin-library entry points (loadLibrary, trtexec --dynamicPlugins;
// trtexec --plugins / --staticPlugins only dlopen, which registers nothing here).
nvinfer1::IPluginCreator* const* getPluginCreators(int32_t& nbCreators);
void setLoggerFinder(nvinfer1::ILoggerFinder* finder);

// Like initLibNvInferPlugins: logger is an nvinfer1::ILogger* (may be null);
// libNamespace null means "tftrt_masking". Returns true when registered.
bool initTftrtMaskingPlugins(void* logger, char const* libNamespace);
}

#endif  // TFTRT_MASKING_TRT_CONVERTER_PLUGINS_PLUGIN_REGISTRATION_H_
