// TF-TRT converter for the Masking op: one "Masking" plugin layer; the plugin's
// int32 mask is turned back into TF's bool mask inside the network.
#if GOOGLE_CUDA && GOOGLE_TENSORRT

#include <array>
#include <string>

#include "kernels/masking/masking.h"
#include "tensorflow/compiler/tf2tensorrt/convert/convert_nodes.h"
#include "tensorflow/compiler/tf2tensorrt/convert/op_converter.h"
#include "tensorflow/compiler/tf2tensorrt/convert/op_converter_registry.h"
#include "tf_ops/kernels/masking_attrs.h"
#include "trt_converter/converters/plugin_layers.h"
#include "trt_converter/converters/tensor_helpers.h"
#include "trt_converter/plugins/pluginFieldNames.h"

namespace tensorflow {
namespace tensorrt {
namespace convert {
namespace tftrt_masking {

using ::tftrt_masking::DType;
using ::tftrt_masking::MaskedOutputMode;

class ConvertMasking : public OpConverterBase<ConvertMasking> {
 public:
  explicit ConvertMasking(const OpConverterParams* params)
      : OpConverterBase<ConvertMasking>(params, {DT_FLOAT, DT_HALF}) {}

  static constexpr std::array<InputArgSpec, 1> InputSpec() {
    return {InputArgSpec::Create("x", TrtInputArg::kTensor)};
  }

  Status Validate() {
    TF_RETURN_IF_ERROR(NotSupportedInImplicitBatch());
    const NodeDef& node = params_->node_def;
    const int rank = params_->inputs.at(0).GetTrtDims().nbDims;
    if (rank < 2) {
      return errors::Unimplemented("Masking needs an input of rank >= 2, got rank ",
                                   rank, ", at ", node.name());
    }
    TF_RETURN_IF_ERROR(::tftrt_masking::MaskValueFromAttrs(node, node.name(), &mask_value_));
    // The plugin runs in the graph's dtype, whatever the precision mode: the
    // mask is decided there, as TensorFlow decides it.
    TF_ASSIGN_OR_RETURN(DataType dtype, GetAttrValue<DataType>("T"));
    element_type_ = dtype == DT_HALF ? DType::kFloat16 : DType::kFloat32;
    TF_ASSIGN_OR_RETURN(std::string mode, GetAttrValue<std::string>("output_mode"));
    if (mode == "where") {
      output_mode_ = MaskedOutputMode::kWhere;
    } else if (mode == "multiply") {
      output_mode_ = MaskedOutputMode::kMultiply;
    } else {
      return errors::InvalidArgument("Masking output_mode must be 'where' or ",
                                     "'multiply', got '", mode, "', at ", node.name());
    }
    return OkStatus();
  }

  Status Convert() {
    const int32_t output_mode = static_cast<int32_t>(output_mode_);
    const int32_t element_type = static_cast<int32_t>(element_type_);
    namespace field = ::tftrt_masking::plugin::masking_field;
    const std::vector<nvinfer1::PluginField> fields = {
        {field::kMaskValue, &mask_value_, nvinfer1::PluginFieldType::kFLOAT64, 1},
        {field::kOutputMode, &output_mode, nvinfer1::PluginFieldType::kINT32, 1},
        {field::kElementType, &element_type, nvinfer1::PluginFieldType::kINT32, 1},
    };
    nvinfer1::ITensor* x = params_->inputs.at(0).tensor()->trt_tensor();
    TF_ASSIGN_OR_RETURN(nvinfer1::IPluginV2Layer * layer,
                        AddTftrtMaskingPlugin(params_, ::tftrt_masking::plugin::kMaskingPluginName,
                                              fields, {x}));
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * mask,
                        NonzeroToBool(params_, layer->getOutput(1)));
    AddOutput(TRT_TensorOrWeights(layer->getOutput(0)));
    AddOutput(TRT_TensorOrWeights(mask));
    return OkStatus();
  }

 private:
  double mask_value_ = 0.0;  // compared exactly (kernels/masking/masking.h)
  MaskedOutputMode output_mode_ = MaskedOutputMode::kWhere;
  DType element_type_ = DType::kFloat32;
};

REGISTER_DEFAULT_TRT_OP_CONVERTER(MakeConverterFunction<ConvertMasking>(),
                                  "Masking");

}  // namespace tftrt_masking
}  // namespace convert
}  // namespace tensorrt
}  // namespace tensorflow

#endif  // GOOGLE_CUDA && GOOGLE_TENSORRT
