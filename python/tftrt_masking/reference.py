"""NumPy references of every op in this project, written from the spec alone.

They are what the CPU/GPU kernels, TensorRT plugins and benchmarks are checked
against (shared/docs/keras-masking-spec.md sections 1-3). They use only NumPy, so
the GPU harness can import this file on a machine without TensorFlow. Compute in
float64 by passing float64 arrays.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear", "hard_sigmoid", "hard_sigmoid_keras2")
GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


def masking(x: np.ndarray, mask_value: float = 0.0, output_mode: str = "where"):
  """Keras Masking: returns (output, mask), mask = any(x != mask_value, -1).

  x: as Keras' call sees it (autocast to the compute dtype). The comparison is
  Keras 3's: exact, in a dtype that holds both sides, against a Python float's
  float32 rounding, an integer rounded to x's dtype, or a NumPy floating
  scalar's own value (pass x.dtype.type(v) for tf_keras, which rounds to x's
  dtype). output_mode 'where' gives +0.0 at masked rows (Keras >= 3.15),
  'multiply' gives x * mask (tf_keras, Keras < 3.15: -0.0 or NaN possible).
  """
  x = np.asarray(x)
  if type(mask_value) is float:  # pylint: disable=unidiomatic-typecheck
    value = np.float32(mask_value)
  elif isinstance(mask_value, (int, np.integer)):
    value = np.asarray(mask_value).astype(x.dtype)
  else:
    value = mask_value
  # float64 holds every float16, bfloat16, float32 and float64 value exactly.
  mask = np.any(x.astype(np.float64) != np.float64(value), axis=-1)
  keep = mask[..., None]
  if output_mode == "where":
    out = np.where(keep, x, x.dtype.type(0))
  elif output_mode == "multiply":
    with np.errstate(invalid="ignore"):
      out = x * keep.astype(x.dtype)
  else:
    raise ValueError(f"output_mode must be 'where' or 'multiply', got {output_mode!r}")
  return out.astype(x.dtype), mask


def activation(name: str):
  """The Keras activation `name` as a NumPy function."""
  functions = {
      "tanh": np.tanh,
      "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
      "relu": lambda v: np.maximum(v, 0.0),
      "linear": lambda v: v,
      "hard_sigmoid": lambda v: np.clip(v + 3.0, 0.0, 6.0) / 6.0,  # Keras 3
      "hard_sigmoid_keras2": lambda v: np.clip(0.2 * v + 0.5, 0.0, 1.0),  # tf_keras
  }
  if name not in functions:
    raise ValueError(f"unsupported activation {name!r}; supported: {ACTIVATIONS}")
  return functions[name]


def _cell_step(cell, x_t, state, kernel, recurrent_kernel, bias, act, rec_act, reset_after):
  """One cell step on a batch: returns (output, new_state tuple)."""
  units = recurrent_kernel.shape[0]
  if cell == "lstm":
    h, c = state
    z = x_t @ kernel + h @ recurrent_kernel
    if bias is not None:
      z = z + bias
    i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
    c_new = rec_act(f) * c + rec_act(i) * act(g)
    h_new = rec_act(o) * act(c_new)
    return h_new, (h_new, c_new)
  if cell == "gru":
    (h,) = state
    if reset_after:
      b_in, b_rec = (bias[0], bias[1]) if bias is not None else (0.0, 0.0)
      mx = x_t @ kernel + b_in
      mi = h @ recurrent_kernel + b_rec
      z = rec_act(mx[:, :units] + mi[:, :units])
      r = rec_act(mx[:, units:2 * units] + mi[:, units:2 * units])
      hh = act(mx[:, 2 * units:] + r * mi[:, 2 * units:])
    else:
      b = bias if bias is not None else np.zeros(3 * units, x_t.dtype)
      mx = x_t @ kernel + b
      mi = h @ recurrent_kernel[:, :2 * units]
      z = rec_act(mx[:, :units] + mi[:, :units])
      r = rec_act(mx[:, units:2 * units] + mi[:, units:2 * units])
      hh = act(mx[:, 2 * units:] + (r * h) @ recurrent_kernel[:, 2 * units:])
    h_new = z * h + (1.0 - z) * hh
    return h_new, (h_new,)
  if cell == "simple_rnn":
    (h,) = state
    z = x_t @ kernel
    if bias is not None:
      z = z + bias
    h_new = act(z + h @ recurrent_kernel)
    return h_new, (h_new,)
  raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(GATES)}")


def masked_rnn(cell: str, x, mask, kernel, recurrent_kernel, bias=None, initial_state=None,
               *, activation_name: str = "tanh", recurrent_activation: str = "sigmoid",
               go_backwards: bool = False, return_sequences: bool = False,
               zero_output_for_mask: bool = False, reset_after: bool = True):
  """Keras' masked RNN loop (spec section 2) for cell 'lstm', 'gru' or 'simple_rnn'.

  x [B,T,F], mask [B,T] bool or None, weights in Keras layout; bias None for
  use_bias=False. Returns (output, final_states) where output is [B,T,U] in
  processing order when return_sequences else [B,U], and final_states is
  (h, c) for LSTM, (h,) otherwise.
  """
  x = np.asarray(x)
  batch, steps, _ = x.shape
  units = recurrent_kernel.shape[0]
  dtype = x.dtype
  if mask is None:
    mask = np.ones((batch, steps), bool)
  mask = np.asarray(mask).astype(bool)
  n_states = 2 if cell == "lstm" else 1
  if initial_state is None:
    state = tuple(np.zeros((batch, units), dtype) for _ in range(n_states))
  else:
    state = tuple(np.asarray(s, dtype) for s in initial_state)
  act = activation(activation_name)
  rec_act = activation(recurrent_activation)
  prev_output = np.zeros((batch, units), dtype)
  outputs = []
  for tau in range(steps):
    t = steps - 1 - tau if go_backwards else tau
    out, new_state = _cell_step(cell, x[:, t], state, kernel, recurrent_kernel, bias, act,
                                rec_act, reset_after)
    keep = mask[:, t][:, None]
    state = tuple(np.where(keep, n, s) for n, s in zip(new_state, state))
    fill = np.zeros_like(out) if zero_output_for_mask else prev_output
    prev_output = np.where(keep, out, fill).astype(dtype)
    outputs.append(prev_output)
  if return_sequences:
    output = np.stack(outputs, axis=1) if outputs else np.zeros((batch, 0, units), dtype)
  else:
    output = prev_output
  return output, state
