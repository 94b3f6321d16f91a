// Element-wise backward math of the Keras recurrent cells, one definition for
// host and device (like cell_math.h), so that the CPU and CUDA gradients agree.
//
// Every function here works on ONE unit n of ONE (row, step) pair and is given
// the gate PRE-activations of that step (what x@W + h@U + b gave before the
// activation). The plain form recomputes the activations with Activate() from
// cell_math.h; the ...WithActivations form takes them too (post = Activate(pre),
// for callers that computed them in bulk, e.g. vectorized) and is the one
// implementation. Pre-activations are needed because the derivatives at the
// kinks depend on the input: TensorFlow's gradients are relu'(0) = 0, relu6' = 1
// only for 0 < x < 6, clip_by_value passes the gradient where lo <= x <= hi.
//
// The matrix products are the caller's. With dG the gate pre-activation
// gradients of a step (G blocks of U side by side, Keras' gate order):
//   d_x_t += dG_input @ W^T,   dW += x_t^T dG_input,   d_input_bias += dG_input
//   d_h_prev += dG_recurrent @ U^T (+ the element-wise part returned here),
//   dU += h_prev^T dG_recurrent,   d_recurrent_bias += dG_recurrent.
// dG_input == dG_recurrent except for GRU (see GruResetAfterStepGrad and the
// reset_before pair). Incoming gradients are totals: d_h is dL/dh_new from
// the state carry plus the output at this step; d_c is dL/dc_new.
#ifndef TFTRT_MASKING_KERNELS_RNN_CELL_GRAD_H_
#define TFTRT_MASKING_KERNELS_RNN_CELL_GRAD_H_

#include "kernels/rnn/cell_math.h"

namespace tftrt_masking {

// d activation(x) / dx at pre-activation x, where y = Activate(activation, x)
// (passed in because the caller usually has it). TensorFlow's conventions at
// the kinks: relu' = (x > 0); Keras 3 hard_sigmoid = relu6(x + 3) / 6 has slope
// 1/6 only for 0 < x + 3 < 6 (x + 3 rounded as the forward rounds it);
// tf_keras' clip(0.2 x + 0.5, 0, 1) has slope 0.2 where 0 <= 0.2 x + 0.5 <= 1.
template <typename Acc>
TFTRT_HOST_DEVICE Acc ActivationGrad(Activation activation, Acc x, Acc y) {
  switch (activation) {
    case Activation::kTanh:
      return Acc(1) - y * y;
    case Activation::kSigmoid:
      return y * (Acc(1) - y);
    case Activation::kRelu:
      return x > Acc(0) ? Acc(1) : Acc(0);
    case Activation::kLinear:
      return Acc(1);
    case Activation::kHardSigmoid: {
      const Acc shifted = x + Acc(3);
      return (shifted > Acc(0) && shifted < Acc(6)) ? Acc(1) / Acc(6) : Acc(0);
    }
    case Activation::kHardSigmoidKeras2: {
      const Acc scaled = Acc(0.2) * x + Acc(0.5);
      return (scaled >= Acc(0) && scaled <= Acc(1)) ? Acc(0.2) : Acc(0);
    }
  }
  return Acc(1);
}

// The same, computing y itself.
template <typename Acc>
TFTRT_HOST_DEVICE Acc ActivationGradAt(Activation activation, Acc x) {
  return ActivationGrad(activation, x, Activate(activation, x));
}

// ---------------------------------------------------------------------------
// LSTM: i,f,o = ra(z_i,f,o); g = act(z_g); c = f*c_prev + i*g; h = o*act(c).
// Takes the four pre-activations, c_prev, c (the new cell state), and the
// incoming d_h, d_c. Returns the pre-activation gradients (dG, same for input
// and recurrent side) and d_c_prev (all of it: c_prev enters no product).
// d_h_prev is dG @ U^T only (no element-wise part).
template <typename Acc>
struct LstmUnitGrad {
  Acc d_i, d_f, d_g, d_o;  // pre-activation gradients
  Acc d_c_prev;
};

// i, f, g, o = the activations of z_i..z_o; act_c = Activate(activation, c).
template <typename Acc>
TFTRT_HOST_DEVICE LstmUnitGrad<Acc> LstmStepGradWithActivations(
    Activation activation, Activation recurrent_activation, Acc z_i, Acc z_f, Acc z_g, Acc z_o,
    Acc i, Acc f, Acc g, Acc o, Acc c_prev, Acc c, Acc act_c, Acc d_h, Acc d_c) {
  const Acc d_c_total = d_c + d_h * o * ActivationGrad(activation, c, act_c);
  LstmUnitGrad<Acc> out;
  out.d_o = d_h * act_c * ActivationGrad(recurrent_activation, z_o, o);
  out.d_i = d_c_total * g * ActivationGrad(recurrent_activation, z_i, i);
  out.d_f = d_c_total * c_prev * ActivationGrad(recurrent_activation, z_f, f);
  out.d_g = d_c_total * i * ActivationGrad(activation, z_g, g);
  out.d_c_prev = d_c_total * f;
  return out;
}

template <typename Acc>
TFTRT_HOST_DEVICE LstmUnitGrad<Acc> LstmStepGrad(Activation activation,
                                                 Activation recurrent_activation, Acc z_i,
                                                 Acc z_f, Acc z_g, Acc z_o, Acc c_prev, Acc c,
                                                 Acc d_h, Acc d_c) {
  return LstmStepGradWithActivations(
      activation, recurrent_activation, z_i, z_f, z_g, z_o, Activate(recurrent_activation, z_i),
      Activate(recurrent_activation, z_f), Activate(activation, z_g),
      Activate(recurrent_activation, z_o), c_prev, c, Activate(activation, c), d_h, d_c);
}

// ---------------------------------------------------------------------------
// GRU, shared tail: h = z*h_prev + (1-z)*hh, z = ra(z_z), hh = act(z_h).
//
// reset_after (Keras' default): with mx = x@W + b_input, mi = h_prev@U + b_rec,
//   z_z = mx_z + mi_z, z_r = mx_r + mi_r, r = ra(z_r), z_h = mx_h + r*mi_h.
// Takes z_z, z_r, z_h, mi_h (the recurrent h-block INCLUDING b_rec), h_prev,
// d_h. Returns the input-side dG (d_z, d_r, d_h_input = dL/dz_h) and the
// recurrent side's h block d_h_recurrent = dL/dmi_h = d_h_input * r (its z and
// r blocks equal the input side's), and d_h_prev's element-wise part (d_h * z;
// the caller adds dG_recurrent @ U^T).
template <typename Acc>
struct GruUnitGrad {
  Acc d_z, d_r;          // pre-activation gradients of z and r (both sides)
  Acc d_h_input;         // dL/dz_h: input side h block
  Acc d_h_recurrent;     // reset_after: dL/dmi_h; reset_before: unused (0)
  Acc d_h_prev_partial;  // element-wise part of dL/dh_prev
};

// z, r, hh = the activations of z_z, z_r, z_h.
template <typename Acc>
TFTRT_HOST_DEVICE GruUnitGrad<Acc> GruResetAfterStepGradWithActivations(
    Activation activation, Activation recurrent_activation, Acc z_z, Acc z_r, Acc z_h, Acc z,
    Acc r, Acc hh, Acc mi_h, Acc h_prev, Acc d_h) {
  GruUnitGrad<Acc> out;
  out.d_h_input = d_h * (Acc(1) - z) * ActivationGrad(activation, z_h, hh);
  out.d_h_recurrent = out.d_h_input * r;
  out.d_z = d_h * (h_prev - hh) * ActivationGrad(recurrent_activation, z_z, z);
  out.d_r = out.d_h_input * mi_h * ActivationGrad(recurrent_activation, z_r, r);
  out.d_h_prev_partial = d_h * z;
  return out;
}

template <typename Acc>
TFTRT_HOST_DEVICE GruUnitGrad<Acc> GruResetAfterStepGrad(Activation activation,
                                                         Activation recurrent_activation,
                                                         Acc z_z, Acc z_r, Acc z_h, Acc mi_h,
                                                         Acc h_prev, Acc d_h) {
  return GruResetAfterStepGradWithActivations(
      activation, recurrent_activation, z_z, z_r, z_h, Activate(recurrent_activation, z_z),
      Activate(recurrent_activation, z_r), Activate(activation, z_h), mi_h, h_prev, d_h);
}

// reset_before (reset_after=False): z_z = mx_z + h_prev@U_z, r = ra(mx_r +
// h_prev@U_r), z_h = mx_h + (r*h_prev)@U_h. Two halves around the product
// d_rh = d_h_input @ U_h^T the caller computes:
// 1) GruResetBeforeStepGrad(z_z, z_h, h_prev, d_h): d_z, d_h_input, and
//    d_h_prev_partial = d_h * z; d_r is filled by the second half (0 here).
//    The recurrent h block's left operand in dU is (r*h_prev), not h_prev.
// 2) GruResetBeforeResetGrad(z_r, h_prev, d_rh): returns
//    {d_r, the further element-wise part of d_h_prev (= d_rh * r)}.
template <typename Acc>
TFTRT_HOST_DEVICE GruUnitGrad<Acc> GruResetBeforeStepGradWithActivations(
    Activation activation, Activation recurrent_activation, Acc z_z, Acc z_h, Acc z, Acc hh,
    Acc h_prev, Acc d_h) {
  GruUnitGrad<Acc> out;
  out.d_h_input = d_h * (Acc(1) - z) * ActivationGrad(activation, z_h, hh);
  out.d_h_recurrent = Acc(0);
  out.d_z = d_h * (h_prev - hh) * ActivationGrad(recurrent_activation, z_z, z);
  out.d_r = Acc(0);
  out.d_h_prev_partial = d_h * z;
  return out;
}

template <typename Acc>
TFTRT_HOST_DEVICE GruUnitGrad<Acc> GruResetBeforeStepGrad(Activation activation,
                                                          Activation recurrent_activation,
                                                          Acc z_z, Acc z_h, Acc h_prev,
                                                          Acc d_h) {
  return GruResetBeforeStepGradWithActivations(activation, recurrent_activation, z_z, z_h,
                                               Activate(recurrent_activation, z_z),
                                               Activate(activation, z_h), h_prev, d_h);
}

template <typename Acc>
struct GruResetUnitGrad {
  Acc d_r;              // pre-activation gradient of r
  Acc d_h_prev_partial;  // add to GruResetBeforeStepGrad's
};

template <typename Acc>
TFTRT_HOST_DEVICE GruResetUnitGrad<Acc> GruResetBeforeResetGradWithActivations(
    Activation recurrent_activation, Acc z_r, Acc r, Acc h_prev, Acc d_rh) {
  GruResetUnitGrad<Acc> out;
  out.d_r = d_rh * h_prev * ActivationGrad(recurrent_activation, z_r, r);
  out.d_h_prev_partial = d_rh * r;
  return out;
}

template <typename Acc>
TFTRT_HOST_DEVICE GruResetUnitGrad<Acc> GruResetBeforeResetGrad(Activation recurrent_activation,
                                                                Acc z_r, Acc h_prev, Acc d_rh) {
  return GruResetBeforeResetGradWithActivations(
      recurrent_activation, z_r, Activate(recurrent_activation, z_r), h_prev, d_rh);
}

// ---------------------------------------------------------------------------
// SimpleRNN: h = act(z), z = x@W + b + h_prev@U. Returns dL/dz (both sides);
// d_h_prev is dL/dz @ U^T only.
template <typename Acc>
TFTRT_HOST_DEVICE Acc SimpleRnnStepGradWithActivation(Activation activation, Acc z, Acc h,
                                                      Acc d_h) {
  return d_h * ActivationGrad(activation, z, h);
}

template <typename Acc>
TFTRT_HOST_DEVICE Acc SimpleRnnStepGrad(Activation activation, Acc z, Acc d_h) {
  return d_h * ActivationGradAt(activation, z);
}

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_CELL_GRAD_H_
