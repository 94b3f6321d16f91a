// Op definitions of MaskedLSTM, MaskedGRU and MaskedSimpleRNN: Keras' masked
// recurrent loop (shared/docs/keras-masking-spec.md section 2) as one op each.
#include <string>

#include "kernels/rnn/masked_rnn.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tftrt_masking {
namespace {

using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

constexpr char kActivationNames[] =
    "tanh, sigmoid, relu, linear, hard_sigmoid, hard_sigmoid_keras2";

absl::Status CheckActivationAttr(InferenceContext* c, const char* op, const char* attr) {
  std::string name;
  TF_RETURN_IF_ERROR(c->GetAttr(attr, &name));
  Activation activation;
  if (!ParseActivation(name.c_str(), &activation)) {
    return tensorflow::errors::InvalidArgument(op, ": unknown ", attr, " '", name,
                                               "'; supported: ", kActivationNames);
  }
  return absl::OkStatus();
}

// Shapes of one masked recurrence op; inputs x, mask, kernel, recurrent_kernel,
// bias, initial_h[, initial_c]. Checks whatever is known, works with unknown B
// and T (and unknown weights shapes).
absl::Status MaskedRnnShape(InferenceContext* c, const char* op, RnnCell cell) {
  const int gates = GateCount(cell);
  const bool lstm = cell == RnnCell::kLstm;
  bool use_bias = true, return_sequences = false, reset_after = false;
  TF_RETURN_IF_ERROR(c->GetAttr("use_bias", &use_bias));
  TF_RETURN_IF_ERROR(c->GetAttr("return_sequences", &return_sequences));
  if (cell == RnnCell::kGru) TF_RETURN_IF_ERROR(c->GetAttr("reset_after", &reset_after));
  TF_RETURN_IF_ERROR(CheckActivationAttr(c, op, "activation"));
  if (cell != RnnCell::kSimpleRnn) {
    TF_RETURN_IF_ERROR(CheckActivationAttr(c, op, "recurrent_activation"));
  }

  ShapeHandle x, mask, kernel, recurrent_kernel, bias;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &x));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 2, &mask));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 2, &kernel));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 2, &recurrent_kernel));
  DimensionHandle batch = c->Dim(x, 0), steps = c->Dim(x, 1), features = c->Dim(x, 2);
  TF_RETURN_IF_ERROR(c->Merge(batch, c->Dim(mask, 0), &batch));
  TF_RETURN_IF_ERROR(c->Merge(steps, c->Dim(mask, 1), &steps));
  TF_RETURN_IF_ERROR(c->Merge(features, c->Dim(kernel, 0), &features));

  // units from recurrent_kernel [U, G*U], else from kernel [F, G*U].
  DimensionHandle units = c->Dim(recurrent_kernel, 0);
  DimensionHandle gate_width = c->Dim(recurrent_kernel, 1);
  TF_RETURN_IF_ERROR(c->Merge(gate_width, c->Dim(kernel, 1), &gate_width));
  if (c->ValueKnown(gate_width)) {
    if (c->Value(gate_width) % gates != 0) {
      return tensorflow::errors::InvalidArgument(
          op, ": kernel and recurrent_kernel need ", gates, "*units columns, got ",
          c->Value(gate_width), " (kernel ", c->DebugString(kernel), ", recurrent_kernel ",
          c->DebugString(recurrent_kernel), ")");
    }
    DimensionHandle units_from_width = c->MakeDim(c->Value(gate_width) / gates);
    TF_RETURN_IF_ERROR(c->Merge(units, units_from_width, &units));
  }
  DimensionHandle expected_width;
  TF_RETURN_IF_ERROR(c->Multiply(units, gates, &expected_width));
  TF_RETURN_IF_ERROR(c->Merge(gate_width, expected_width, &gate_width));

  if (!use_bias) {
    TF_RETURN_IF_ERROR(c->WithRank(c->input(4), 1, &bias));
    DimensionHandle unused;
    TF_RETURN_IF_ERROR(c->WithValue(c->Dim(bias, 0), 0, &unused));
  } else if (reset_after) {
    TF_RETURN_IF_ERROR(c->WithRank(c->input(4), 2, &bias));
    DimensionHandle unused;
    TF_RETURN_IF_ERROR(c->WithValue(c->Dim(bias, 0), 2, &unused));
    TF_RETURN_IF_ERROR(c->Merge(c->Dim(bias, 1), gate_width, &unused));
  } else {
    TF_RETURN_IF_ERROR(c->WithRank(c->input(4), 1, &bias));
    DimensionHandle unused;
    TF_RETURN_IF_ERROR(c->Merge(c->Dim(bias, 0), gate_width, &unused));
  }

  const int num_states = lstm ? 2 : 1;
  for (int s = 0; s < num_states; ++s) {
    ShapeHandle state;
    TF_RETURN_IF_ERROR(c->WithRank(c->input(5 + s), 2, &state));
    TF_RETURN_IF_ERROR(c->Merge(batch, c->Dim(state, 0), &batch));
    TF_RETURN_IF_ERROR(c->Merge(units, c->Dim(state, 1), &units));
  }

  c->set_output(0, return_sequences ? c->MakeShape({batch, steps, units})
                                    : c->MakeShape({batch, units}));
  for (int s = 0; s < num_states; ++s) c->set_output(1 + s, c->MakeShape({batch, units}));
  return absl::OkStatus();
}

// The gradient op of a masked recurrence: the forward inputs, then d_output,
// d_final_h[, d_final_c]; outputs the gradients of x, kernel,
// recurrent_kernel, bias, initial_h[, initial_c], each its input's shape.
absl::Status MaskedRnnGradShape(InferenceContext* c, const char* op, RnnCell cell) {
  TF_RETURN_IF_ERROR(MaskedRnnShape(c, op, cell));
  const int num_states = cell == RnnCell::kLstm ? 2 : 1;
  const int first_incoming = 5 + num_states;
  for (int i = 0; i <= num_states; ++i) {  // the forward's outputs' shapes
    ShapeHandle unused;
    TF_RETURN_IF_ERROR(c->Merge(c->input(first_incoming + i), c->output(i), &unused));
  }
  const int source_input[] = {0, 2, 3, 4, 5, 6};  // x, kernel, recurrent_kernel, bias, states
  for (int out = 0; out < 4 + num_states; ++out) c->set_output(out, c->input(source_input[out]));
  return absl::OkStatus();
}

constexpr char kGradDoc[] = R"doc(
The gradient of the forward op of the same name without "Grad", with Keras'
carry rules (a masked step passes the gradients of the state and of the output
through). Inputs are the forward op's, then the gradients of its outputs. The
outputs are the gradients of x, kernel, recurrent_kernel, bias ([0] without
bias), initial_h (and initial_c); the mask has none. Recomputes the forward.
)doc";

constexpr char kCommonDoc[] = R"doc(
x: [batch, time, features].
mask: [batch, time]; true = the step is processed, false = the state is kept
  bit-exactly and the output repeats the previous one (or is 0 with
  zero_output_for_mask). Leading masked steps output 0.
kernel: [features, G*units], Keras layout (gate blocks side by side).
recurrent_kernel: [units, G*units].
initial_h: [batch, units].
output: [batch, time, units] in processing order when return_sequences
  (reversed in time when go_backwards), else the last output [batch, units].
final_h: [batch, units], the state after the last kept step.
activation: tanh, sigmoid, relu, linear, hard_sigmoid (Keras 3: relu6(x+3)/6)
  or hard_sigmoid_keras2 (tf_keras: clip(0.2x+0.5, 0, 1)).
use_bias: false means no bias; bias must then be an empty [0] tensor.
go_backwards: process t = T-1 .. 0 (the mask is reversed with the inputs).
return_sequences: output every step, or only the last output.
zero_output_for_mask: masked steps output 0 instead of the previous output.
)doc";

}  // namespace

REGISTER_OP("MaskedLSTM")
    .Input("x: T")
    .Input("mask: bool")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("initial_h: T")
    .Input("initial_c: T")
    .Output("output: T")
    .Output("final_h: T")
    .Output("final_c: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("activation: string = 'tanh'")
    .Attr("recurrent_activation: string = 'sigmoid'")
    .Attr("use_bias: bool = true")
    .Attr("go_backwards: bool = false")
    .Attr("return_sequences: bool = false")
    .Attr("zero_output_for_mask: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      return MaskedRnnShape(c, "MaskedLSTM", RnnCell::kLstm);
    })
    .Doc(std::string(R"doc(
Keras' LSTM with a mask: z = x@W + h@U + b, gates i, f, c, o;
c' = ra(f)*c + ra(i)*act(g); h' = ra(o)*act(c').
bias: [4*units], or [0] when use_bias is false.
initial_c: [batch, units].
final_c: [batch, units].
)doc") + kCommonDoc);

REGISTER_OP("MaskedGRU")
    .Input("x: T")
    .Input("mask: bool")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("initial_h: T")
    .Output("output: T")
    .Output("final_h: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("activation: string = 'tanh'")
    .Attr("recurrent_activation: string = 'sigmoid'")
    .Attr("reset_after: bool = true")
    .Attr("use_bias: bool = true")
    .Attr("go_backwards: bool = false")
    .Attr("return_sequences: bool = false")
    .Attr("zero_output_for_mask: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      return MaskedRnnShape(c, "MaskedGRU", RnnCell::kGru);
    })
    .Doc(std::string(R"doc(
Keras' GRU with a mask, gates z, r, h; h' = z*h + (1-z)*hh.
reset_after: true (Keras default): hh = act(x@W_h + b_in_h + r*(h@U_h + b_rec_h)),
  bias [2, 3*units] = [input bias; recurrent bias]. false: hh = act(x@W_h + b_h
  + (r*h)@U_h), bias [3*units]. [0] when use_bias is false.
)doc") + kCommonDoc);

REGISTER_OP("MaskedSimpleRNN")
    .Input("x: T")
    .Input("mask: bool")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("initial_h: T")
    .Output("output: T")
    .Output("final_h: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("activation: string = 'tanh'")
    .Attr("use_bias: bool = true")
    .Attr("go_backwards: bool = false")
    .Attr("return_sequences: bool = false")
    .Attr("zero_output_for_mask: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      return MaskedRnnShape(c, "MaskedSimpleRNN", RnnCell::kSimpleRnn);
    })
    .Doc(std::string(R"doc(
Keras' SimpleRNN with a mask: h' = act(x@W + b + h@U).
bias: [units], or [0] when use_bias is false.
)doc") + kCommonDoc);

REGISTER_OP("MaskedLSTMGrad")
    .Input("x: T")
    .Input("mask: bool")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("initial_h: T")
    .Input("initial_c: T")
    .Input("d_output: T")
    .Input("d_final_h: T")
    .Input("d_final_c: T")
    .Output("d_x: T")
    .Output("d_kernel: T")
    .Output("d_recurrent_kernel: T")
    .Output("d_bias: T")
    .Output("d_initial_h: T")
    .Output("d_initial_c: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("activation: string = 'tanh'")
    .Attr("recurrent_activation: string = 'sigmoid'")
    .Attr("use_bias: bool = true")
    .Attr("go_backwards: bool = false")
    .Attr("return_sequences: bool = false")
    .Attr("zero_output_for_mask: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      return MaskedRnnGradShape(c, "MaskedLSTMGrad", RnnCell::kLstm);
    })
    .Doc(kGradDoc);

REGISTER_OP("MaskedGRUGrad")
    .Input("x: T")
    .Input("mask: bool")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("initial_h: T")
    .Input("d_output: T")
    .Input("d_final_h: T")
    .Output("d_x: T")
    .Output("d_kernel: T")
    .Output("d_recurrent_kernel: T")
    .Output("d_bias: T")
    .Output("d_initial_h: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("activation: string = 'tanh'")
    .Attr("recurrent_activation: string = 'sigmoid'")
    .Attr("reset_after: bool = true")
    .Attr("use_bias: bool = true")
    .Attr("go_backwards: bool = false")
    .Attr("return_sequences: bool = false")
    .Attr("zero_output_for_mask: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      return MaskedRnnGradShape(c, "MaskedGRUGrad", RnnCell::kGru);
    })
    .Doc(kGradDoc);

REGISTER_OP("MaskedSimpleRNNGrad")
    .Input("x: T")
    .Input("mask: bool")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("initial_h: T")
    .Input("d_output: T")
    .Input("d_final_h: T")
    .Output("d_x: T")
    .Output("d_kernel: T")
    .Output("d_recurrent_kernel: T")
    .Output("d_bias: T")
    .Output("d_initial_h: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("activation: string = 'tanh'")
    .Attr("use_bias: bool = true")
    .Attr("go_backwards: bool = false")
    .Attr("return_sequences: bool = false")
    .Attr("zero_output_for_mask: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      return MaskedRnnGradShape(c, "MaskedSimpleRNNGrad", RnnCell::kSimpleRnn);
    })
    .Doc(kGradDoc);

}  // namespace tftrt_masking
