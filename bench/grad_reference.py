"""Float64 NumPy backward pass of reference.masked_rnn (the GPU gradient's reference).

NumPy only. Written from the forward loop in python/tftrt_masking/reference.py, independently
of the kernels (derivatives from pre-activations, the whole step backpropagated with matrix
products per step). `python3 bench/grad_reference.py` checks it against central differences of
reference.masked_rnn for every cell and option.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    "reference", os.path.join(ROOT, "python", "tftrt_masking", "reference.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)


def activation_grad(name, x):
  """d act(x) / dx with TensorFlow's conventions at the kinks."""
  if name == "tanh":
    return 1.0 - np.tanh(x) ** 2
  if name == "sigmoid":
    s = 1.0 / (1.0 + np.exp(-x))
    return s * (1.0 - s)
  if name == "relu":
    return (x > 0).astype(x.dtype)
  if name == "linear":
    return np.ones_like(x)
  if name == "hard_sigmoid":
    return ((x + 3.0 > 0) & (x + 3.0 < 6.0)) / 6.0
  if name == "hard_sigmoid_keras2":
    s = 0.2 * x + 0.5
    return ((s >= 0) & (s <= 1)) * 0.2
  raise ValueError(name)


def masked_rnn_grad(cell, x, mask, kernel, recurrent_kernel, bias, initial_state, d_output,
                    d_final_states, *, activation_name="tanh", recurrent_activation="sigmoid",
                    go_backwards=False, return_sequences=False, zero_output_for_mask=False,
                    reset_after=True):
  """Gradients of reference.masked_rnn's (output, final states) with incoming gradients
  d_output and d_final_states (a list like the states; entries may be None). Returns a dict
  with x, kernel, recurrent_kernel, bias (None without bias) and initial_state (a list)."""
  x = np.asarray(x, np.float64)
  B, T, F = x.shape
  U = recurrent_kernel.shape[0]
  W, R = np.asarray(kernel, np.float64), np.asarray(recurrent_kernel, np.float64)
  mask = np.ones((B, T), bool) if mask is None else np.asarray(mask).astype(bool)
  lstm, gru = cell == "lstm", cell == "gru"
  n_states = 2 if lstm else 1
  state = ([np.zeros((B, U)) for _ in range(n_states)] if initial_state is None else
           [np.asarray(s, np.float64) for s in initial_state])
  act, rec_act = reference.activation(activation_name), reference.activation(recurrent_activation)
  dact = lambda v: activation_grad(activation_name, v)
  drec = lambda v: activation_grad(recurrent_activation, v)
  if bias is None:
    b_in, b_rec = 0.0, 0.0
  elif gru and reset_after:
    b_in, b_rec = bias[0], bias[1]
  else:
    b_in, b_rec = bias, 0.0
  blk = lambda a, k: a[:, k * U:(k + 1) * U]

  # Forward, keeping each step's values.
  cache = []
  for tau in range(T):
    t = T - 1 - tau if go_backwards else tau
    h = state[0]
    mx = x[:, t] @ W + b_in
    step = dict(t=t, h=h, keep=mask[:, t][:, None])
    if lstm:
      c = state[1]
      z = mx + h @ R
      i, f, g, o = (blk(z, k) for k in range(4))
      c_new = rec_act(f) * c + rec_act(i) * act(g)
      h_new = rec_act(o) * act(c_new)
      step.update(z=z, c=c, c_new=c_new)
      new = [h_new, c_new]
    elif gru:
      if reset_after:
        mi = h @ R + b_rec
        zz = blk(mx, 0) + blk(mi, 0)
        zr = blk(mx, 1) + blk(mi, 1)
        r = rec_act(zr)
        zh = blk(mx, 2) + r * blk(mi, 2)
        step.update(mi_h=blk(mi, 2))
      else:
        zz = blk(mx, 0) + h @ blk(R, 0)
        zr = blk(mx, 1) + h @ blk(R, 1)
        r = rec_act(zr)
        zh = blk(mx, 2) + (r * h) @ blk(R, 2)
      z_gate = rec_act(zz)
      h_new = z_gate * h + (1.0 - z_gate) * act(zh)
      step.update(zz=zz, zr=zr, zh=zh, r=r)
      new = [h_new]
    else:
      z = mx + h @ R
      h_new = act(z)
      step.update(z=z)
      new = [h_new]
    state = [np.where(step["keep"], nv, s) for nv, s in zip(new, state)]
    cache.append(step)

  # Backward.
  zeros = np.zeros((B, U))
  dh = zeros.copy() if d_final_states[0] is None else np.array(d_final_states[0], np.float64)
  dc = None
  if lstm:
    dc = zeros.copy() if d_final_states[1] is None else np.array(d_final_states[1], np.float64)
  dy = zeros.copy()
  dx = np.zeros_like(x)
  dW, dR = np.zeros_like(W), np.zeros_like(R)
  db_in, db_rec = np.zeros(W.shape[1]), np.zeros(W.shape[1])
  for tau in reversed(range(T)):
    s = cache[tau]
    t, h, keep = s["t"], s["h"], s["keep"]
    g = dy.copy()
    if d_output is not None:
      if return_sequences:
        g += d_output[:, tau]
      elif tau == T - 1:
        g += d_output
    dhn = dh + g
    if lstm:
      z = s["z"]
      i, f, gg, o = (blk(z, k) for k in range(4))
      tc = act(s["c_new"])
      dcn = dc + dhn * rec_act(o) * dact(s["c_new"])
      dG = np.concatenate([dcn * act(gg) * drec(i), dcn * s["c"] * drec(f),
                           dcn * rec_act(i) * dact(gg), dhn * tc * drec(o)], axis=1)
      dG_rec, d_rec_in = dG, h
      dh_prev = dG @ R.T
      dc_prev = dcn * rec_act(f)
    elif gru:
      zg, r, zh = rec_act(s["zz"]), s["r"], s["zh"]
      d_zz = dhn * (h - act(zh)) * drec(s["zz"])
      d_zh = dhn * (1.0 - zg) * dact(zh)
      if reset_after:
        d_zr = d_zh * s["mi_h"] * drec(s["zr"])
        dG = np.concatenate([d_zz, d_zr, d_zh], axis=1)
        dG_rec = np.concatenate([d_zz, d_zr, d_zh * r], axis=1)
        dh_prev = dhn * zg + dG_rec @ R.T
      else:
        d_rh = d_zh @ blk(R, 2).T
        d_zr = d_rh * h * drec(s["zr"])
        dG = np.concatenate([d_zz, d_zr, d_zh], axis=1)
        dG_rec = dG
        dh_prev = (dhn * zg + d_rh * r + d_zz @ blk(R, 0).T + d_zr @ blk(R, 1).T)
    else:
      dG = dhn * dact(s["z"])
      dG_rec = dG
      dh_prev = dG @ R.T
    dG = np.where(keep, dG, 0.0)
    dG_rec = np.where(keep, dG_rec, 0.0)
    dx[:, t] = dG @ W.T
    dW += x[:, t].T @ dG
    if gru and not reset_after:
      dR[:, :2 * U] += h.T @ dG[:, :2 * U]
      dR[:, 2 * U:] += (s["r"] * h).T @ dG[:, 2 * U:]
    else:
      dR += h.T @ dG_rec
    db_in += dG.sum(0)
    db_rec += dG_rec.sum(0)
    dh = np.where(keep, dh_prev, dh)
    if lstm:
      dc = np.where(keep, dc_prev, dc)
    dy = np.where(keep | zero_output_for_mask, 0.0, g)
  if bias is None:
    d_bias = None
  elif gru and reset_after:
    d_bias = np.stack([db_in, db_rec])
  else:
    d_bias = db_in
  return dict(x=dx, kernel=dW, recurrent_kernel=dR, bias=d_bias,
              initial_state=[dh] + ([dc] if lstm else []))


def _loss(cell, inputs, d_output, d_states, attrs):
  out, states = reference.masked_rnn(cell, inputs["x"], inputs["mask"], inputs["kernel"],
                                     inputs["recurrent_kernel"], inputs["bias"],
                                     inputs["initial_state"], **attrs)
  total = np.sum(out * d_output)
  for s, d in zip(states, d_states):
    total += np.sum(s * d)
  return total


def finite_difference_check(cell, B, T, F, U, seed, eps=1e-6, verbose=False, **attrs):
  """Max relative error of masked_rnn_grad vs central differences (every input element)."""
  rng = np.random.default_rng(seed)
  gates = reference.GATES[cell]
  reset_after = attrs.get("reset_after", True)
  has_bias = attrs.pop("has_bias", True)
  bias_shape = (2, gates * U) if cell == "gru" and reset_after else (gates * U,)
  inputs = dict(
      x=rng.uniform(-1, 1, (B, T, F)), kernel=rng.uniform(-0.7, 0.7, (F, gates * U)),
      recurrent_kernel=rng.uniform(-0.7, 0.7, (U, gates * U)),
      bias=rng.uniform(-0.5, 0.5, bias_shape) if has_bias else None,
      initial_state=[rng.uniform(-0.5, 0.5, (B, U)) for _ in range(2 if cell == "lstm" else 1)],
      mask=rng.uniform(size=(B, T)) < 0.6)
  if B > 1:
    inputs["mask"][1] = False  # a fully masked row
  d_output = rng.uniform(-1, 1, (B, T, U) if attrs.get("return_sequences") else (B, U))
  d_states = [rng.uniform(-1, 1, (B, U)) for _ in inputs["initial_state"]]
  got = masked_rnn_grad(cell, inputs["x"], inputs["mask"], inputs["kernel"],
                        inputs["recurrent_kernel"], inputs["bias"], inputs["initial_state"],
                        d_output, d_states, **attrs)
  worst = 0.0
  for name in ("x", "kernel", "recurrent_kernel", "bias", "initial_state"):
    if inputs[name] is None:
      continue
    arrays = inputs[name] if name == "initial_state" else [inputs[name]]
    grads = got[name] if name == "initial_state" else [got[name]]
    for a, g in zip(arrays, grads):
      num = np.zeros_like(a)
      for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + eps
        up = _loss(cell, inputs, d_output, d_states, attrs)
        a[idx] = keep - eps
        down = _loss(cell, inputs, d_output, d_states, attrs)
        a[idx] = keep
        num[idx] = (up - down) / (2 * eps)
      err = np.linalg.norm(g - num) / max(np.linalg.norm(num), 1e-12)
      worst = max(worst, err)
      if verbose:
        print(f"    {name}: {err:.1e}")
  return worst


def main():
  failures = 0
  cases = []
  for cell, ra in (("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True)):
    for gb, rs, zof in itertools.product((False, True), repeat=3):
      cases.append((cell, dict(reset_after=ra, go_backwards=gb, return_sequences=rs,
                               zero_output_for_mask=zof)))
    for act, ract in (("relu", "hard_sigmoid"), ("linear", "hard_sigmoid_keras2"),
                      ("sigmoid", "tanh")):
      cases.append((cell, dict(reset_after=ra, activation_name=act, recurrent_activation=ract,
                               return_sequences=True, has_bias=False)))
  for k, (cell, attrs) in enumerate(cases):
    for B, T in ((3, 5), (1, 1)):
      err = finite_difference_check(cell, B, T, 2, 3, seed=k, **dict(attrs))
      ok = err < 1e-6
      failures += not ok
      print(f"  {'ok ' if ok else 'FAIL'} {cell} B{B} T{T} {attrs}: {err:.1e}")
  print(f"grad_reference vs central differences: {len(cases) * 2} cases, {failures} failures")
  sys.exit(1 if failures else 0)


if __name__ == "__main__":
  main()
