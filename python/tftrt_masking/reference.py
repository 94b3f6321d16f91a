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


def activation_grad(name: str):
  """d activation(v) / dv as a NumPy function of the pre-activation v, with
  TensorFlow's gradients at the kinks: relu'(0) = 0; Keras 3 hard_sigmoid
  (relu6(v+3)/6) has slope 1/6 only for 0 < v+3 < 6; tf_keras' clip(0.2v+0.5,
  0, 1) passes the gradient where 0 <= 0.2v+0.5 <= 1 (clip_by_value's rule)."""

  def sigmoid_grad(v):
    with np.errstate(over="ignore"):  # exp(-v) = inf gives the right limit, 0
      s = 1.0 / (1.0 + np.exp(-v))
    return s * (1.0 - s)

  def hard_sigmoid_keras2_grad(v):
    y = 0.2 * v + 0.5
    return np.where((y >= 0.0) & (y <= 1.0), 0.2, 0.0)

  functions = {
      "tanh": lambda v: 1.0 - np.tanh(v) ** 2,
      "sigmoid": sigmoid_grad,
      "relu": lambda v: np.where(v > 0.0, 1.0, 0.0),
      "linear": np.ones_like,
      "hard_sigmoid": lambda v: np.where((v + 3.0 > 0.0) & (v + 3.0 < 6.0), 1.0 / 6.0, 0.0),
      "hard_sigmoid_keras2": hard_sigmoid_keras2_grad,
  }
  if name not in functions:
    raise ValueError(f"unsupported activation {name!r}; supported: {ACTIVATIONS}")
  return functions[name]


def masked_rnn_grad(cell: str, x, mask, kernel, recurrent_kernel, bias=None,
                    initial_state=None, d_output=None, d_final_state=None, *,
                    activation_name: str = "tanh", recurrent_activation: str = "sigmoid",
                    go_backwards: bool = False, return_sequences: bool = False,
                    zero_output_for_mask: bool = False, reset_after: bool = True):
  """Backpropagation through `masked_rnn` (same arguments), by hand, step by step.

  d_output: the gradient of masked_rnn's output (None = 0); d_final_state: of
  its final states, a tuple like final_states (None or None entries = 0).
  Returns a dict with d_x, d_kernel, d_recurrent_kernel, d_bias (None without
  bias) and d_initial_state (a tuple). A masked step passes the state's and the
  carried output's gradients through (the output's only without
  zero_output_for_mask) and adds nothing to d_x or the weights.
  """
  x = np.asarray(x, np.float64)
  batch, steps, _ = x.shape
  units = recurrent_kernel.shape[0]
  kernel = np.asarray(kernel, np.float64)
  rk = np.asarray(recurrent_kernel, np.float64)
  mask = np.ones((batch, steps), bool) if mask is None else np.asarray(mask).astype(bool)
  n_states = 2 if cell == "lstm" else 1
  states = [np.zeros((batch, units)) for _ in range(n_states)]
  if initial_state is not None:
    states = [np.asarray(s, np.float64) for s in initial_state]
  act, rec_act = activation(activation_name), activation(recurrent_activation)
  act_d, rec_act_d = activation_grad(activation_name), activation_grad(recurrent_activation)
  u = units
  if bias is None:
    b_in = np.zeros(kernel.shape[1])
    b_rec = np.zeros(kernel.shape[1])
  elif cell == "gru" and reset_after:
    b_in, b_rec = np.asarray(bias, np.float64)
  else:
    b_in, b_rec = np.asarray(bias, np.float64), np.zeros(kernel.shape[1])

  # Forward, keeping what each step's backward needs.
  saved = []
  for tau in range(steps):
    t = steps - 1 - tau if go_backwards else tau
    h = states[0]
    mx = x[:, t] @ kernel + b_in
    step = {"t": t, "h": h, "mx": mx}
    if cell == "lstm":
      z = mx + h @ rk
      c = states[1]
      c_new = rec_act(z[:, u:2 * u]) * c + rec_act(z[:, :u]) * act(z[:, 2 * u:3 * u])
      h_new = rec_act(z[:, 3 * u:]) * act(c_new)
      step.update(z=z, c=c, c_new=c_new)
      new = [h_new, c_new]
    elif cell == "gru":
      if reset_after:
        mi = h @ rk + b_rec
        r = rec_act(mx[:, u:2 * u] + mi[:, u:2 * u])
        z_h = mx[:, 2 * u:] + r * mi[:, 2 * u:]
      else:
        mi = h @ rk[:, :2 * u]
        r = rec_act(mx[:, u:2 * u] + mi[:, u:2 * u])
        z_h = mx[:, 2 * u:] + (r * h) @ rk[:, 2 * u:]
      z_z, z_r = mx[:, :u] + mi[:, :u], mx[:, u:2 * u] + mi[:, u:2 * u]
      zg = rec_act(z_z)
      h_new = zg * h + (1.0 - zg) * act(z_h)
      step.update(mi=mi, z_z=z_z, z_r=z_r, z_h=z_h)
      new = [h_new]
    else:
      z = mx + h @ rk
      step.update(z=z)
      new = [act(z)]
    keep = mask[:, t][:, None]
    states = [np.where(keep, n, s) for n, s in zip(new, states)]
    saved.append(step)

  # Backward.
  d_x = np.zeros_like(x)
  d_kernel, d_rk = np.zeros_like(kernel), np.zeros_like(rk)
  d_b_in, d_b_rec = np.zeros_like(b_in), np.zeros_like(b_rec)
  d_states = [np.zeros((batch, units)) for _ in range(n_states)]
  if d_final_state is not None:
    d_states = [np.zeros((batch, units)) if d is None else np.asarray(d, np.float64)
                for d in d_final_state]
  carry = np.zeros((batch, units))
  for tau in reversed(range(steps)):
    step = saved[tau]
    t, h = step["t"], step["h"]
    g = carry.copy()
    if d_output is not None:
      if return_sequences:
        g += np.asarray(d_output, np.float64)[:, tau]
      elif tau == steps - 1:
        g += np.asarray(d_output, np.float64)
    keep = mask[:, t][:, None]
    d_h = d_states[0] + g
    if cell == "lstm":
      z, c, c_new = step["z"], step["c"], step["c_new"]
      i, f = rec_act(z[:, :u]), rec_act(z[:, u:2 * u])
      gg, o = act(z[:, 2 * u:3 * u]), rec_act(z[:, 3 * u:])
      d_c = d_states[1] + d_h * o * act_d(c_new)
      d_z = np.concatenate([d_c * gg * rec_act_d(z[:, :u]),
                            d_c * c * rec_act_d(z[:, u:2 * u]),
                            d_c * i * act_d(z[:, 2 * u:3 * u]),
                            d_h * act(c_new) * rec_act_d(z[:, 3 * u:])], axis=1)
      d_z = np.where(keep, d_z, 0.0)
      d_mx = d_mi = d_z
      new_d_states = [d_z @ rk.T, d_c * f]
    elif cell == "gru":
      mi, z_z, z_r, z_h = step["mi"], step["z_z"], step["z_r"], step["z_h"]
      zg, r, hh = rec_act(z_z), rec_act(z_r), act(z_h)
      d_zh = d_h * (1.0 - zg) * act_d(z_h)
      d_zz = d_h * (h - hh) * rec_act_d(z_z)
      d_h_prev = d_h * zg
      if reset_after:
        d_zr = d_zh * mi[:, 2 * u:] * rec_act_d(z_r)
        d_mx = np.concatenate([d_zz, d_zr, d_zh], axis=1)
        d_mi = np.concatenate([d_zz, d_zr, d_zh * r], axis=1)
        d_mx, d_mi = np.where(keep, d_mx, 0.0), np.where(keep, d_mi, 0.0)
        d_h_prev = d_h_prev + d_mi @ rk.T
      else:
        d_rh = d_zh @ rk[:, 2 * u:].T
        d_zr = d_rh * h * rec_act_d(z_r)
        d_mx = np.where(keep, np.concatenate([d_zz, d_zr, d_zh], axis=1), 0.0)
        d_h_prev = d_h_prev + d_rh * r + d_mx[:, :2 * u] @ rk[:, :2 * u].T
        d_rk[:, 2 * u:] += (r * h).T @ d_mx[:, 2 * u:]
        d_mi = np.concatenate([d_mx[:, :2 * u], np.zeros((batch, u))], axis=1)
      new_d_states = [d_h_prev]
    else:
      d_z = np.where(keep, d_h * act_d(step["z"]), 0.0)
      d_mx = d_mi = d_z
      new_d_states = [d_z @ rk.T]
    d_x[:, t] = d_mx @ kernel.T
    d_kernel += x[:, t].T @ d_mx
    d_rk += h.T @ d_mi
    d_b_in += d_mx.sum(axis=0)
    d_b_rec += d_mi.sum(axis=0)
    d_states = [np.where(keep, n, d) for n, d in zip(new_d_states, d_states)]
    # The output carry: a kept step's output is the new h (nothing flows on);
    # a masked one repeats y_{tau-1} (or is a constant 0).
    carry = np.where(keep | zero_output_for_mask, 0.0, g)

  if bias is None:
    d_bias = None
  elif cell == "gru" and reset_after:
    d_bias = np.stack([d_b_in, d_b_rec])
  else:
    d_bias = d_b_in
  return {"d_x": d_x, "d_kernel": d_kernel, "d_recurrent_kernel": d_rk, "d_bias": d_bias,
          "d_initial_state": tuple(d_states)}
