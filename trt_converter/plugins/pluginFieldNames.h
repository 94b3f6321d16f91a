// Names of the tftrt_masking plugins and of their PluginFields: the plugins'
// creators and the TF-TRT converters use these constants, so the two sides
// cannot disagree on a spelling. No TensorRT or CUDA headers (the converters
// include it next to TensorFlow's copies of those).
#ifndef TFTRT_MASKING_TRT_CONVERTER_PLUGINS_PLUGIN_FIELD_NAMES_H_
#define TFTRT_MASKING_TRT_CONVERTER_PLUGINS_PLUGIN_FIELD_NAMES_H_

namespace tftrt_masking {
namespace plugin {

constexpr char kMaskingPluginName[] = "Masking";
constexpr char kMaskedRnnPluginName[] = "MaskedRnn";

namespace masking_field {
constexpr char kMaskValue[] = "mask_value";      // kFLOAT64 (kFLOAT32 accepted), required
constexpr char kOutputMode[] = "output_mode";    // kINT32, 0 where / 1 multiply
constexpr char kElementType[] = "element_type";  // kINT32, required: DType 0 float32 / 1 float16
}  // namespace masking_field

// All kINT32 (see maskedRnnPlugin/README.md).
namespace masked_rnn_field {
constexpr char kCell[] = "cell";
constexpr char kUnits[] = "units";
constexpr char kInputSize[] = "input_size";
constexpr char kActivation[] = "activation";
constexpr char kRecurrentActivation[] = "recurrent_activation";
constexpr char kUseBias[] = "use_bias";
constexpr char kResetAfter[] = "reset_after";
constexpr char kGoBackwards[] = "go_backwards";
constexpr char kReturnSequences[] = "return_sequences";
constexpr char kZeroOutputForMask[] = "zero_output_for_mask";
}  // namespace masked_rnn_field

}  // namespace plugin
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TRT_CONVERTER_PLUGINS_PLUGIN_FIELD_NAMES_H_
