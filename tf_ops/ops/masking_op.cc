// Op definition of Masking: Keras' Masking layer as one op.
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tftrt_masking {

using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

REGISTER_OP("Masking")
    .Input("x: T")
    .Output("output: T")
    .Output("mask: bool")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("mask_value: float = 0.0")
    .Attr("exact_mask_value: string = ''")
    .Attr("output_mode: {'where', 'multiply'} = 'where'")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle x;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 2, &x));
      ShapeHandle mask;
      TF_RETURN_IF_ERROR(c->Subshape(x, 0, -1, &mask));
      c->set_output(0, x);
      c->set_output(1, mask);
      return absl::OkStatus();
    })
    .Doc(R"doc(
Keras Masking: mask = any(x != mask_value, axis=-1); output = x at kept steps.

x: input of rank >= 2; the last axis holds the features.
output: x with masked steps replaced: +0.0 ('where', Keras >= 3.15) or
  x * 0 ('multiply', tf_keras and Keras 3.0-3.14: keeps -0.0, gives NaN for inf).
mask: x.shape[:-1], true where at least one feature differs from the mask value.
exact_mask_value: the mask value as a float64 in text (Python repr: '0.1',
  '1e+300', 'inf', 'nan'), compared exactly: an element equals it only if it is
  that very number, so a value x's dtype cannot hold matches nothing (Keras
  compares in a dtype that holds both). TF attrs have no 64-bit float; text keeps
  every float64. Empty (graphs written before it existed): mask_value is used.
mask_value: used when exact_mask_value is empty: rounded to x's dtype and
  compared in it (the behaviour of graphs written before exact_mask_value).
  NaN masks nothing.
)doc");

}  // namespace tftrt_masking
