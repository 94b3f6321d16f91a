// TF-TRT converters for the bool plumbing Keras builds around masks, and for
// Bidirectional's time flip, so that a masked model stays in one engine:
//
//   Embedding(mask_zero=True)        NotEqual(ids, 0)
//   Masking (Keras' own formula)     NotEqual, Any
//   RNN without a mask               Fill(shape, true)
//   masked pooling / attention       Cast(bool -> float, int32 -> float), ExpandDims /
//                                    Reshape / StridedSlice / ... on bool, SelectV2
//   Bidirectional                    ReverseV2 (the backward half, time-aligned)
//
// TF 2.17's TF-TRT has no converter for NotEqual, Any, All or ReverseV2, and its
// converters for Fill, Cast, ExpandDims & co. reject bool (its Cast also takes
// float and half inputs only). Where TF-TRT has a converter, ours is
// registered at a higher priority, serves only what TF-TRT's rejects, and hands
// every other node to TF-TRT's converter unchanged (`DelegatingConverter`). The ops TF-TRT already converts for int32 take bool
// through one mechanism (`ConvertBoolAsInt32`): bool tensors become int32
// 0/1, TF-TRT's converter runs on the int32 node, and its outputs become bool
// again. Validate is what the segmenter runs (validation-only mode); Convert
// builds layers (it never ran here: no TensorRT runtime).
#if GOOGLE_CUDA && GOOGLE_TENSORRT

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tensorflow/compiler/tf2tensorrt/convert/convert_nodes.h"
#include "tensorflow/compiler/tf2tensorrt/convert/op_converter.h"
#include "tensorflow/compiler/tf2tensorrt/convert/op_converter_registry.h"
#include "tensorflow/core/framework/node_def_util.h"
#include "tensorflow/core/framework/op.h"
#include "trt_converter/converters/tensor_helpers.h"

namespace tensorflow {
namespace tensorrt {
namespace convert {
namespace tftrt_masking {
namespace {

// Above TF-TRT's kDefaultConverterPriority: LookUp returns ours first.
constexpr int kOverTfTrtPriority = 100;

template <typename... Args>
Status RejectNode(const OpConverterParams* params, Args... args) {
  return errors::Unimplemented(params->node_def.op(), ": ", args..., ", at ",
                               params->node_def.name());
}

// Reads a constant int vector (axes) of int32 or int64 weights.
StatusOr<std::vector<int64_t>> AxesOf(const OpConverterParams* params,
                                      const TRT_TensorOrWeights& input, int rank) {
  if (!input.is_weights()) return RejectNode(params, "the axes must be a constant");
  const Tensor& tensor = input.weights().GetTensor();
  std::vector<int64_t> axes;
  if (tensor.dtype() == DT_INT32) {
    for (int32_t axis : input.weights().GetSpan<int32_t>()) axes.push_back(axis);
  } else if (tensor.dtype() == DT_INT64) {
    for (int64_t axis : input.weights().GetSpan<int64_t>()) axes.push_back(axis);
  } else {
    return RejectNode(params, "the axes must be int32 or int64");
  }
  for (int64_t& axis : axes) {
    if (axis < -rank || axis >= rank) {
      return RejectNode(params, "axis ", axis, " is out of range for rank ", rank);
    }
    if (axis < 0) axis += rank;
  }
  return axes;
}

// --------------------------------------------------------------- NotEqual

// NotEqual(x, y) = NOT(EQUAL(x, y)), XOR for bool; broadcasting as TF-TRT's
// binary converters do it.
class ConvertNotEqual : public OpConverterBase<ConvertNotEqual> {
 public:
  explicit ConvertNotEqual(const OpConverterParams* params)
      : OpConverterBase<ConvertNotEqual>(params,
                                         {DT_FLOAT, DT_HALF, DT_INT32, DT_BOOL}) {}

  static constexpr std::array<InputArgSpec, 2> InputSpec() {
    return {InputArgSpec::Create("x", TrtInputArg::kBoth),
            InputArgSpec::Create("y", TrtInputArg::kBoth)};
  }

  Status Validate() {
    TF_RETURN_IF_ERROR(NotSupportedInImplicitBatch());
    const auto& inputs = params_->inputs;
    if (inputs.at(0).is_weights() && inputs.at(1).is_weights()) {
      return RejectNode(params_, "both inputs are constants");
    }
    TF_ASSIGN_OR_RETURN(is_bool_, GetAttrValue<DataType>("T"));
    return GetTrtBroadcastShape(inputs.at(0), inputs.at(1), /*check_feasibility=*/true,
                                params_->use_implicit_batch, &dims_x_, &dims_y_);
  }

  Status Convert() {
    const auto& inputs = params_->inputs;
    ITensorProxyPtr x = nullptr, y = nullptr;
    TF_RETURN_IF_ERROR(PrepareTensorForShape(params_->converter, inputs.at(0), dims_x_,
                                             false, &x, params_->node_def));
    TF_RETURN_IF_ERROR(PrepareTensorForShape(params_->converter, inputs.at(1), dims_y_,
                                             false, &y, params_->node_def));
    nvinfer1::INetworkDefinition* network = params_->converter->network();
    nvinfer1::ILayer* layer = nullptr;
    if (is_bool_ == DT_BOOL) {
      TF_ASSIGN_OR_RETURN(layer, Checked(params_, network->addElementWise(
                                                      *x->trt_tensor(), *y->trt_tensor(),
                                                      nvinfer1::ElementWiseOperation::kXOR),
                                         "not_equal"));
    } else {
      TF_ASSIGN_OR_RETURN(nvinfer1::IElementWiseLayer * equal,
                          Checked(params_, network->addElementWise(
                                               *x->trt_tensor(), *y->trt_tensor(),
                                               nvinfer1::ElementWiseOperation::kEQUAL),
                                  "equal"));
      TF_ASSIGN_OR_RETURN(layer, Checked(params_, network->addUnary(
                                                      *equal->getOutput(0),
                                                      nvinfer1::UnaryOperation::kNOT),
                                         "not_equal"));
    }
    AddOutput(TRT_TensorOrWeights(layer->getOutput(0)));
    return OkStatus();
  }

 private:
  DataType is_bool_ = DT_FLOAT;
  nvinfer1::Dims dims_x_, dims_y_;
};

// --------------------------------------------------------------- Any / All

// Any / All over constant axes: bool -> float 0/1, MAX / MIN, back to bool
// (TensorRT reduces no bool).
template <bool kAny>
class ConvertAnyAll : public OpConverterBase<ConvertAnyAll<kAny>> {
  using Base = OpConverterBase<ConvertAnyAll<kAny>>;

 public:
  explicit ConvertAnyAll(const OpConverterParams* params) : Base(params) {}

  // Any and All have no "T": their input is always bool.
  static constexpr const char* NodeDefDataTypeAttributeName() { return ""; }

  static constexpr std::array<InputArgSpec, 2> InputSpec() {
    return {InputArgSpec::Create("input", TrtInputArg::kTensor),
            InputArgSpec::Create("reduction_indices", TrtInputArg::kWeight)};
  }

  Status Validate() {
    TF_RETURN_IF_ERROR(this->NotSupportedInImplicitBatch());
    const auto& inputs = this->params_->inputs;
    const int rank = inputs.at(0).GetTrtDims().nbDims;
    if (inputs.at(0).TrtDType() != nvinfer1::DataType::kBOOL) {
      return RejectNode(this->params_, "the input must be bool");
    }
    TF_ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesOf(this->params_, inputs.at(1), rank));
    axes_bits_ = 0;
    for (int64_t axis : axes) axes_bits_ |= 1u << axis;
    TF_ASSIGN_OR_RETURN(keep_dims_, this->template GetAttrValue<bool>("keep_dims"));
    return OkStatus();
  }

  Status Convert() {
    nvinfer1::ITensor* input = this->params_->inputs.at(0).tensor()->trt_tensor();
    if (axes_bits_ == 0) {  // no axis: TF returns the input
      this->AddOutput(TRT_TensorOrWeights(input));
      return OkStatus();
    }
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * numbers,
                        BoolTo(this->params_, input, nvinfer1::DataType::kFLOAT));
    TF_ASSIGN_OR_RETURN(
        nvinfer1::IReduceLayer * reduce,
        Checked(this->params_,
                this->params_->converter->network()->addReduce(
                    *numbers,
                    kAny ? nvinfer1::ReduceOperation::kMAX : nvinfer1::ReduceOperation::kMIN,
                    axes_bits_, keep_dims_),
                "reduce"));
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * result,
                        NonzeroToBool(this->params_, reduce->getOutput(0)));
    this->AddOutput(TRT_TensorOrWeights(result));
    return OkStatus();
  }

 private:
  uint32_t axes_bits_ = 0;
  bool keep_dims_ = false;
};

// ------------------------------------------------------------- ReverseV2

// ReverseV2 as a slice with stride -1 on the reversed axes, starting at the
// last index (start = (shape - 1) * reversed, computed from the shape at run
// time), as onnx-tensorrt imports Slice with negative steps.
class ConvertReverseV2 : public OpConverterBase<ConvertReverseV2> {
 public:
  explicit ConvertReverseV2(const OpConverterParams* params)
      : OpConverterBase<ConvertReverseV2>(params, {DT_FLOAT, DT_HALF, DT_INT32, DT_BOOL}) {}

  static constexpr std::array<InputArgSpec, 2> InputSpec() {
    return {InputArgSpec::Create("tensor", TrtInputArg::kTensor),
            InputArgSpec::Create("axis", TrtInputArg::kWeight)};
  }

  Status Validate() {
    TF_RETURN_IF_ERROR(NotSupportedInImplicitBatch());
    const auto& inputs = params_->inputs;
    rank_ = inputs.at(0).GetTrtDims().nbDims;
    if (rank_ < 1) return RejectNode(params_, "the input must have rank >= 1");
    TF_ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesOf(params_, inputs.at(1), rank_));
    reversed_.assign(rank_, 0);
    for (int64_t axis : axes) {
      if (reversed_[axis]) return RejectNode(params_, "axis ", axis, " is given twice");
      reversed_[axis] = 1;
    }
    return OkStatus();
  }

  Status Convert() {
    nvinfer1::INetworkDefinition* network = params_->converter->network();
    nvinfer1::ITensor* input = params_->inputs.at(0).tensor()->trt_tensor();
    std::vector<int32_t> strides(rank_);
    for (int i = 0; i < rank_; ++i) strides[i] = reversed_[i] ? -1 : 1;
    TF_ASSIGN_OR_RETURN(nvinfer1::IShapeLayer * shape,
                        Checked(params_, network->addShape(*input), "shape"));
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * ones, Int32Vector(params_, std::vector<int32_t>(rank_, 1)));
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * reversed, Int32Vector(params_, reversed_));
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * stride, Int32Vector(params_, strides));
    TF_ASSIGN_OR_RETURN(
        nvinfer1::IElementWiseLayer * last,
        Checked(params_, network->addElementWise(*shape->getOutput(0), *ones,
                                                 nvinfer1::ElementWiseOperation::kSUB),
                "last_index"));
    TF_ASSIGN_OR_RETURN(
        nvinfer1::IElementWiseLayer * start,
        Checked(params_, network->addElementWise(*last->getOutput(0), *reversed,
                                                 nvinfer1::ElementWiseOperation::kPROD),
                "start"));
    nvinfer1::Dims unused;
    unused.nbDims = rank_;
    for (int i = 0; i < rank_; ++i) unused.d[i] = 0;
    TF_ASSIGN_OR_RETURN(nvinfer1::ISliceLayer * slice,
                        Checked(params_, network->addSlice(*input, unused, unused, unused),
                                "reverse"));
    slice->setInput(1, *start->getOutput(0));
    slice->setInput(2, *shape->getOutput(0));
    slice->setInput(3, *stride);
    AddOutput(TRT_TensorOrWeights(slice->getOutput(0)));
    return OkStatus();
  }

 private:
  int rank_ = 0;
  std::vector<int32_t> reversed_;
};

// ----------------------------------------------------------- bool Fill

// Fill(dims, true/false) on bool: an int32 0/1 constant of unit shape,
// broadcast to `dims` by a stride-0 slice, then compared with 0.
class ConvertBoolFill : public OpConverterBase<ConvertBoolFill> {
 public:
  explicit ConvertBoolFill(const OpConverterParams* params)
      : OpConverterBase<ConvertBoolFill>(params, {DT_BOOL}) {}

  static constexpr std::array<InputArgSpec, 2> InputSpec() {
    return {InputArgSpec::Create("dims", TrtInputArg::kBoth),
            InputArgSpec::Create("value", TrtInputArg::kWeight)};
  }

  Status Validate() {
    TF_RETURN_IF_ERROR(NotSupportedInImplicitBatch());
    const auto& inputs = params_->inputs;
    const nvinfer1::Dims dims = inputs.at(0).GetTrtDims();
    if (dims.nbDims != 1 || dims.d[0] < 0) {
      return RejectNode(params_, "dims must be a vector of known length");
    }
    rank_ = static_cast<int>(dims.d[0]);
    const Tensor& value = inputs.at(1).weights().GetTensor();
    if (value.dtype() != DT_BOOL || value.NumElements() != 1) {
      return RejectNode(params_, "value must be one bool");
    }
    value_ = value.flat<bool>()(0);
    if (inputs.at(0).is_weights()) {
      const Tensor& shape = inputs.at(0).weights().GetTensor();
      if (shape.dtype() != DT_INT32) return RejectNode(params_, "constant dims must be int32");
    } else if (inputs.at(0).TrtDType() != nvinfer1::DataType::kINT32) {
      return RejectNode(params_, "dims must be int32");
    }
    return OkStatus();
  }

  Status Convert() {
    nvinfer1::INetworkDefinition* network = params_->converter->network();
    nvinfer1::ITensor* shape = nullptr;
    if (params_->inputs.at(0).is_weights()) {
      const auto span = params_->inputs.at(0).weights().GetSpan<int32_t>();
      TF_ASSIGN_OR_RETURN(shape, Int32Vector(params_, std::vector<int32_t>(span.begin(), span.end())));
    } else {
      shape = params_->inputs.at(0).tensor()->trt_tensor();
    }
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * unit,
                        ScalarOfRank(params_, nvinfer1::DataType::kINT32, value_ ? 1 : 0, rank_));
    nvinfer1::Dims zeros;
    zeros.nbDims = rank_;
    for (int i = 0; i < rank_; ++i) zeros.d[i] = 0;
    TF_ASSIGN_OR_RETURN(nvinfer1::ISliceLayer * broadcast,
                        Checked(params_, network->addSlice(*unit, zeros, zeros, zeros),
                                "broadcast"));
    broadcast->setInput(2, *shape);  // size = dims; start and stride stay 0
    TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * result, NonzeroToBool(params_, broadcast->getOutput(0)));
    AddOutput(TRT_TensorOrWeights(result));
    return OkStatus();
  }

 private:
  int rank_ = 0;
  bool value_ = false;
};

// ------------------------------------------------------------------ Cast

// The casts TF-TRT's Cast refuses (it takes float and half inputs only): from
// or to bool (Keras' cast of a mask), and from int32 (counts, token ids).
class ConvertCastFromBoolOrInt32 : public OpConverterBase<ConvertCastFromBoolOrInt32> {
 public:
  explicit ConvertCastFromBoolOrInt32(const OpConverterParams* params)
      : OpConverterBase<ConvertCastFromBoolOrInt32>(params) {}

  static constexpr const char* NodeDefDataTypeAttributeName() { return ""; }

  static constexpr std::array<InputArgSpec, 1> InputSpec() {
    return {InputArgSpec::Create("x", TrtInputArg::kTensor)};
  }

  // The nodes this converter takes; TF-TRT's own Cast converter takes the rest.
  static bool Serves(const NodeDef& node) {
    DataType source = DT_INVALID, target = DT_INVALID;
    if (!GetNodeAttr(AttrSlice(node), "SrcT", &source).ok() ||
        !GetNodeAttr(AttrSlice(node), "DstT", &target).ok()) {
      return false;
    }
    return source == DT_BOOL || source == DT_INT32 || target == DT_BOOL;
  }

  Status Validate() {
    TF_RETURN_IF_ERROR(NotSupportedInImplicitBatch());
    TF_ASSIGN_OR_RETURN(source_, GetAttrValue<DataType>("SrcT"));
    TF_ASSIGN_OR_RETURN(target_, GetAttrValue<DataType>("DstT"));
    for (DataType type : {source_, target_}) {
      if (type != DT_BOOL && type != DT_FLOAT && type != DT_HALF && type != DT_INT32) {
        return RejectNode(params_, "casts between bool, float, half and int32 only, got ",
                          DataTypeString(source_), " -> ", DataTypeString(target_));
      }
    }
    return OkStatus();
  }

  Status Convert() {
    nvinfer1::ITensor* input = params_->inputs.at(0).tensor()->trt_tensor();
    nvinfer1::ITensor* result = input;
    if (source_ == target_) {
      // nothing to do
    } else if (source_ == DT_BOOL) {
      nvinfer1::DataType type;
      TF_RETURN_IF_ERROR(TfTypeToTrtType(target_, &type));
      TF_ASSIGN_OR_RETURN(result, BoolTo(params_, input, type));
    } else if (target_ == DT_BOOL) {
      TF_ASSIGN_OR_RETURN(result, NonzeroToBool(params_, input));
    } else {
      nvinfer1::DataType type;
      TF_RETURN_IF_ERROR(TfTypeToTrtType(target_, &type));
      TF_ASSIGN_OR_RETURN(
          nvinfer1::ICastLayer * cast,
          Checked(params_, params_->converter->network()->addCast(*input, type), "cast"));
      result = cast->getOutput(0);
    }
    AddOutput(TRT_TensorOrWeights(result));
    return OkStatus();
  }

 private:
  DataType source_ = DT_BOOL, target_ = DT_BOOL;
};

// -------------------------------------------- bool through TF-TRT's int32

// Positions of the inputs (or outputs) of `node` whose type is `type_attr`,
// from the op's definition (list arguments expand to their length).
StatusOr<std::vector<bool>> ArgsOfType(const NodeDef& node, const std::string& type_attr,
                                       bool outputs) {
  const OpDef* op_def = nullptr;
  TF_RETURN_IF_ERROR(OpRegistry::Global()->LookUpOpDef(node.op(), &op_def));
  std::vector<bool> of_type;
  const auto& args = outputs ? op_def->output_arg() : op_def->input_arg();
  for (const OpDef::ArgDef& arg : args) {
    int count = 1;
    if (!arg.number_attr().empty()) {
      TF_RETURN_IF_ERROR(GetNodeAttr(AttrSlice(node), arg.number_attr(), &count));
    } else if (!arg.type_list_attr().empty()) {
      return errors::Unimplemented(node.op(), ": list-typed arguments are not handled");
    }
    of_type.insert(of_type.end(), count, arg.type_attr() == type_attr);
  }
  return of_type;
}

// Runs TF-TRT's converter `original` on `node` with its bool tensors as int32
// 0/1 and its `type_attr` set to int32, then turns the outputs of that type
// back into bool. For ops whose TF-TRT converter takes int32 but not bool
// (shape ops: ExpandDims, Reshape, Squeeze, StridedSlice, ConcatV2, ...).
Status ConvertBoolAsInt32(const OpConverterParams* params, const OpConverter& original,
                          const std::string& type_attr) {
  NodeDef node = params->node_def;
  (*node.mutable_attr())[type_attr].set_type(DT_INT32);
  TF_ASSIGN_OR_RETURN(std::vector<bool> bool_inputs, ArgsOfType(node, type_attr, false));
  TF_ASSIGN_OR_RETURN(std::vector<bool> bool_outputs, ArgsOfType(node, type_attr, true));
  if (bool_inputs.size() != params->inputs.size()) {
    return RejectNode(params, "expected ", bool_inputs.size(), " inputs, got ",
                      params->inputs.size());
  }
  std::vector<TRT_TensorOrWeights> inputs;
  for (size_t i = 0; i < params->inputs.size(); ++i) {
    const TRT_TensorOrWeights& input = params->inputs[i];
    if (!bool_inputs[i]) {
      inputs.push_back(input);
    } else if (input.is_weights()) {
      // A bool constant: the same values as int32 weights.
      const Tensor& values = input.weights().GetTensor();
      TF_ASSIGN_OR_RETURN(TRT_ShapedWeights weights,
                          params->weight_store->GetTempWeights(nvinfer1::DataType::kINT32,
                                                               input.weights().Shape()));
      int32_t* out = weights.GetPointer<int32_t>();
      const auto flat = values.flat<bool>();
      for (int64_t j = 0; j < flat.size(); ++j) out[j] = flat(j) ? 1 : 0;
      inputs.push_back(TRT_TensorOrWeights(weights));
    } else if (params->validation_only) {
      inputs.push_back(TRT_TensorOrWeights(nvinfer1::DataType::kINT32, input.GetTrtDims(),
                                           input.batch_size()));
    } else {
      TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * numbers,
                          BoolTo(params, input.tensor()->trt_tensor(),
                                 nvinfer1::DataType::kINT32));
      inputs.push_back(TRT_TensorOrWeights(numbers));
    }
  }
  std::vector<TRT_TensorOrWeights> outputs;
  if (params->validation_only) {
    OpConverterParams int32_params(node, inputs, &outputs, params->weight_store,
                                   params->precision_mode, params->use_calibration,
                                   params->use_implicit_batch, params->use_explicit_precision);
    return original(&int32_params);
  }
  OpConverterParams int32_params(params->converter, node, inputs, &outputs,
                                 params->weight_store);
  TF_RETURN_IF_ERROR(original(&int32_params));
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (i < bool_outputs.size() && bool_outputs[i] && outputs[i].is_tensor()) {
      TF_ASSIGN_OR_RETURN(nvinfer1::ITensor * mask,
                          NonzeroToBool(params, outputs[i].tensor()->trt_tensor()));
      params->outputs->push_back(TRT_TensorOrWeights(mask));
    } else {
      params->outputs->push_back(outputs[i]);
    }
  }
  return OkStatus();
}

// ---------------------------------------------------------- registration

bool HasBoolAttr(const NodeDef& node, const std::string& attr) {
  DataType type;
  return GetNodeAttr(AttrSlice(node), attr, &type).ok() && type == DT_BOOL;
}

// TF-TRT's converter of `op` as registered before ours (null where none).
OpConverter TfTrtConverter(const std::string& op) {
  StatusOr<OpConverter> found = GetOpConverterRegistry()->LookUp(op);
  return found.ok() ? *found : OpConverter();
}

// Ours for the nodes `serves` picks, TF-TRT's for every other node.
OpConverter DelegatingConverter(const std::string& op,
                                std::function<bool(const NodeDef&)> serves,
                                OpConverter ours) {
  OpConverter original = TfTrtConverter(op);
  return [op, serves, ours, original](const OpConverterParams* params) -> Status {
    if (serves(params->node_def)) return ours(params);
    if (!original) return RejectNode(params, "no TF-TRT converter for this case");
    return original(params);
  };
}

// Ops whose TF-TRT converter takes int32 and that Keras' mask code uses on
// bool, with the attribute that holds their element type.
const std::vector<std::pair<std::string, std::string>>& BoolAsInt32Ops() {
  static const auto* ops = new std::vector<std::pair<std::string, std::string>>{
      {"ExpandDims", "T"}, {"Reshape", "T"}, {"Squeeze", "T"},    {"StridedSlice", "T"},
      {"Slice", "T"},      {"ConcatV2", "T"}, {"Pack", "T"},      {"Unpack", "T"},
      {"Transpose", "T"},  {"Tile", "T"},     {"GatherV2", "Tparams"}, {"SelectV2", "T"},
      {"Select", "T"},
  };
  return *ops;
}

bool RegisterMaskPlumbingConverters() {
  OpConverterRegistry* registry = GetOpConverterRegistry();
  registry->Register("NotEqual", kDefaultConverterPriority,
                     MakeConverterFunction<ConvertNotEqual>());
  registry->Register("Any", kDefaultConverterPriority,
                     MakeConverterFunction<ConvertAnyAll<true>>());
  registry->Register("All", kDefaultConverterPriority,
                     MakeConverterFunction<ConvertAnyAll<false>>());
  registry->Register("ReverseV2", kDefaultConverterPriority,
                     MakeConverterFunction<ConvertReverseV2>());
  auto is_bool = [](const char* attr) {
    return [attr](const NodeDef& node) { return HasBoolAttr(node, attr); };
  };
  registry->Register("Fill", kOverTfTrtPriority,
                     DelegatingConverter("Fill", is_bool("T"),
                                         MakeConverterFunction<ConvertBoolFill>()));
  registry->Register("Cast", kOverTfTrtPriority,
                     DelegatingConverter("Cast", ConvertCastFromBoolOrInt32::Serves,
                                         MakeConverterFunction<ConvertCastFromBoolOrInt32>()));
  for (const auto& [op, type_attr] : BoolAsInt32Ops()) {
    OpConverter original = TfTrtConverter(op);
    if (!original) continue;  // nothing to hand the int32 node to
    const std::string attr = type_attr;
    registry->Register(op, kOverTfTrtPriority,
                       [original, attr](const OpConverterParams* params) -> Status {
                         if (!HasBoolAttr(params->node_def, attr)) return original(params);
                         return ConvertBoolAsInt32(params, original, attr);
                       });
  }
  return true;
}

const bool kRegistered = RegisterMaskPlumbingConverters();

}  // namespace
}  // namespace tftrt_masking
}  // namespace convert
}  // namespace tensorrt
}  // namespace tensorflow

#endif  // GOOGLE_CUDA && GOOGLE_TENSORRT
