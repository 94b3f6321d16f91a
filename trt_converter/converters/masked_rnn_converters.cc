// TF-TRT converters for MaskedLSTM, MaskedGRU and MaskedSimpleRNN: one
// "MaskedRnn" plugin layer over the shared fused kernel. Weights must be
// constants (frozen graph); x, mask and initial states are tensors (a constant
// initial state becomes a constant layer).
#if GOOGLE_CUDA && GOOGLE_TENSORRT

#include <array>
#include <exception>
#include <string>
#include <vector>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_shapes.h"
#include "tensorflow/compiler/tf2tensorrt/convert/convert_nodes.h"
#include "tensorflow/compiler/tf2tensorrt/convert/op_converter.h"
#include "tensorflow/compiler/tf2tensorrt/convert/op_converter_registry.h"
#include "trt_converter/converters/plugin_layers.h"
#include "trt_converter/converters/tensor_helpers.h"
#include "trt_converter/plugins/maskedRnnPlugin/maskedRnnPlugin.h"
#include "trt_converter/plugins/pluginFieldNames.h"

namespace tensorflow {
namespace tensorrt {
namespace convert {
namespace tftrt_masking {

using ::tftrt_masking::Activation;
using ::tftrt_masking::RnnCell;

namespace {

std::string DimsString(const nvinfer1::Dims& dims) {
  std::string text = "[";
  for (int i = 0; i < dims.nbDims; ++i) {
    absl::StrAppend(&text, i ? "," : "", dims.d[i] < 0 ? std::string("?") : std::to_string(dims.d[i]));
  }
  return text + "]";
}

}  // namespace

template <RnnCell kCell>
class ConvertMaskedRnn : public OpConverterBase<ConvertMaskedRnn<kCell>> {
  using Base = OpConverterBase<ConvertMaskedRnn<kCell>>;

 public:
  explicit ConvertMaskedRnn(const OpConverterParams* params)
      : Base(params, {DT_FLOAT, DT_HALF}) {}

  static constexpr bool kHasCellState = kCell == RnnCell::kLstm;

  static constexpr auto InputSpec() {
    constexpr size_t kCount = kHasCellState ? 7 : 6;
    std::array<InputArgSpec, kCount> spec = {
        InputArgSpec::Create("x", TrtInputArg::kTensor),
        InputArgSpec::Create("mask", TrtInputArg::kTensor),
        InputArgSpec::Create("kernel", TrtInputArg::kWeight),
        InputArgSpec::Create("recurrent_kernel", TrtInputArg::kWeight),
        InputArgSpec::Create("bias", TrtInputArg::kWeight),
        InputArgSpec::Create("initial_h", TrtInputArg::kBoth),
    };
    if constexpr (kHasCellState) {
      spec[6] = InputArgSpec::Create("initial_c", TrtInputArg::kBoth);
    }
    return spec;
  }

  Status Validate() {
    TF_RETURN_IF_ERROR(this->NotSupportedInImplicitBatch());
    const auto& inputs = this->params_->inputs;
    TF_RETURN_IF_ERROR(ReadAttrs());

    const nvinfer1::Dims x = inputs.at(0).GetTrtDims();
    const nvinfer1::Dims mask = inputs.at(1).GetTrtDims();
    const nvinfer1::Dims kernel = inputs.at(2).GetTrtDims();
    const nvinfer1::Dims recurrent = inputs.at(3).GetTrtDims();
    if (x.nbDims != 3) {
      return Reject("x must be [batch, time, features], got ", DimsString(x));
    }
    if (mask.nbDims != 2) {
      return Reject("mask must be [batch, time], got ", DimsString(mask));
    }
    if (inputs.at(1).TrtDType() != nvinfer1::DataType::kBOOL) {
      return Reject("mask must be bool");
    }
    if (recurrent.nbDims != 2 || kernel.nbDims != 2) {
      return Reject("kernel and recurrent_kernel must be matrices, got ",
                    DimsString(kernel), " and ", DimsString(recurrent));
    }
    rnn_.units = static_cast<int32_t>(recurrent.d[0]);
    rnn_.inputSize = static_cast<int32_t>(kernel.d[0]);
    ::tftrt_masking::MaskedRnnConfig config;
    config.cell = kCell;
    config.batch = x.d[0] >= 0 ? x.d[0] : ::tftrt_masking::kAnyExtent;
    config.time = x.d[1] >= 0 ? x.d[1] : ::tftrt_masking::kAnyExtent;
    config.units = rnn_.units;
    config.input_size = rnn_.inputSize;
    config.activation = rnn_.activation;
    config.recurrent_activation = rnn_.recurrentActivation;
    config.has_bias = rnn_.hasBias;
    config.reset_after = rnn_.resetAfter;
    // The plugin's own validation (fields within its limits), so that a node
    // it would refuse stays in TensorFlow instead of failing the engine.
    try {
      ::tftrt_masking::plugin::validateMaskedRnnPluginConfig(config);
    } catch (const std::exception& e) {
      return Reject(e.what());
    }
    // The same shapes the TF op kernel and the plugin check.
    const ::tftrt_masking::MaskedRnnShapes expected =
        ::tftrt_masking::MaskedRnnExpectedShapes(config);
    const ::tftrt_masking::ExpectedShape* shapes[] = {
        &expected.x, &expected.mask, &expected.kernel, &expected.recurrent_kernel,
        &expected.bias, &expected.initial_h, &expected.initial_c};
    const char* names[] = {"x", "mask", "kernel", "recurrent_kernel",
                           "bias", "initial_h", "initial_c"};
    for (size_t i = 0; i < inputs.size() && i < 7; ++i) {
      const nvinfer1::Dims dims = inputs.at(i).GetTrtDims();
      int64_t extents[nvinfer1::Dims::MAX_DIMS];
      for (int d = 0; d < dims.nbDims && d < nvinfer1::Dims::MAX_DIMS; ++d) extents[d] = dims.d[d];
      if (!shapes[i]->Matches(extents, dims.nbDims)) {
        return Reject(names[i], " has shape ", DimsString(dims), ", expected ",
                      shapes[i]->ToString(), " for ", rnn_.units, " units and ",
                      rnn_.inputSize, " input features");
      }
    }
    return OkStatus();
  }

  Status Convert() {
    const auto& inputs = this->params_->inputs;
    const OpConverterParams* params = this->params_;
    std::vector<nvinfer1::ITensor*> plugin_inputs;
    plugin_inputs.push_back(inputs.at(0).tensor()->trt_tensor());
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * mask,
                        BoolTo(params, inputs.at(1).tensor()->trt_tensor(),
                               nvinfer1::DataType::kINT32));
    plugin_inputs.push_back(mask);
    for (size_t i = 2; i < inputs.size(); ++i) {
      if (i == 4 && !rnn_.hasBias) continue;  // empty bias is not an input
      TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * tensor, AsTrtTensor(params, inputs.at(i)));
      plugin_inputs.push_back(tensor);
    }

    int32_t cell = static_cast<int32_t>(kCell);
    int32_t activation = static_cast<int32_t>(rnn_.activation);
    int32_t recurrent_activation = static_cast<int32_t>(rnn_.recurrentActivation);
    int32_t use_bias = rnn_.hasBias, reset_after = rnn_.resetAfter;
    int32_t go_backwards = rnn_.goBackwards;
    int32_t return_sequences = rnn_.returnSequences;
    int32_t zero_output_for_mask = rnn_.zeroOutputForMask;
    using nvinfer1::PluginFieldType;
    namespace field = ::tftrt_masking::plugin::masked_rnn_field;
    const std::vector<nvinfer1::PluginField> fields = {
        {field::kCell, &cell, PluginFieldType::kINT32, 1},
        {field::kUnits, &rnn_.units, PluginFieldType::kINT32, 1},
        {field::kInputSize, &rnn_.inputSize, PluginFieldType::kINT32, 1},
        {field::kActivation, &activation, PluginFieldType::kINT32, 1},
        {field::kRecurrentActivation, &recurrent_activation, PluginFieldType::kINT32, 1},
        {field::kUseBias, &use_bias, PluginFieldType::kINT32, 1},
        {field::kResetAfter, &reset_after, PluginFieldType::kINT32, 1},
        {field::kGoBackwards, &go_backwards, PluginFieldType::kINT32, 1},
        {field::kReturnSequences, &return_sequences, PluginFieldType::kINT32, 1},
        {field::kZeroOutputForMask, &zero_output_for_mask, PluginFieldType::kINT32, 1},
    };
    TF_ASSIGN_OR_RETURN(nvinfer1::IPluginV2Layer * layer,
                        AddTftrtMaskingPlugin(params, ::tftrt_masking::plugin::kMaskedRnnPluginName,
                                              fields, plugin_inputs));
    for (int i = 0; i < layer->getNbOutputs(); ++i) {
      this->AddOutput(TRT_TensorOrWeights(layer->getOutput(i)));
    }
    return OkStatus();
  }

 private:
  template <typename... Args>
  Status Reject(Args... args) const {
    return errors::Unimplemented(this->params_->node_def.op(), ": ", args..., ", at ",
                                 this->params_->node_def.name());
  }

  Status ParseActivationAttr(const char* attr, Activation* activation) {
    TF_ASSIGN_OR_RETURN(std::string name, this->template GetAttrValue<std::string>(attr));
    if (!::tftrt_masking::ParseActivation(name.c_str(), activation)) {
      return Reject(attr, " '", name, "' is not supported");
    }
    return OkStatus();
  }

  Status ReadAttrs() {
    TF_RETURN_IF_ERROR(ParseActivationAttr("activation", &rnn_.activation));
    if constexpr (kCell != RnnCell::kSimpleRnn) {
      TF_RETURN_IF_ERROR(
          ParseActivationAttr("recurrent_activation", &rnn_.recurrentActivation));
    }
    TF_ASSIGN_OR_RETURN(rnn_.hasBias, this->template GetAttrValue<bool>("use_bias"));
    if constexpr (kCell == RnnCell::kGru) {
      TF_ASSIGN_OR_RETURN(rnn_.resetAfter, this->template GetAttrValue<bool>("reset_after"));
    }
    TF_ASSIGN_OR_RETURN(rnn_.goBackwards, this->template GetAttrValue<bool>("go_backwards"));
    TF_ASSIGN_OR_RETURN(rnn_.returnSequences,
                        this->template GetAttrValue<bool>("return_sequences"));
    TF_ASSIGN_OR_RETURN(rnn_.zeroOutputForMask,
                        this->template GetAttrValue<bool>("zero_output_for_mask"));
    return OkStatus();
  }

  // The node's attrs and weight sizes, filled by Validate(); Validate() checks
  // them as a MaskedRnnConfig, Convert() passes them as the plugin's fields.
  struct {
    int32_t units = 0;
    int32_t inputSize = 0;
    Activation activation = Activation::kTanh;
    Activation recurrentActivation = Activation::kSigmoid;
    bool hasBias = true;
    bool resetAfter = true;
    bool goBackwards = false;
    bool returnSequences = false;
    bool zeroOutputForMask = false;
  } rnn_;
};

REGISTER_DEFAULT_TRT_OP_CONVERTER(MakeConverterFunction<ConvertMaskedRnn<RnnCell::kLstm>>(),
                                  "MaskedLSTM");
REGISTER_DEFAULT_TRT_OP_CONVERTER(MakeConverterFunction<ConvertMaskedRnn<RnnCell::kGru>>(),
                                  "MaskedGRU");
REGISTER_DEFAULT_TRT_OP_CONVERTER(
    MakeConverterFunction<ConvertMaskedRnn<RnnCell::kSimpleRnn>>(), "MaskedSimpleRNN");

}  // namespace tftrt_masking
}  // namespace convert
}  // namespace tensorrt
}  // namespace tensorflow

#endif  // GOOGLE_CUDA && GOOGLE_TENSORRT
