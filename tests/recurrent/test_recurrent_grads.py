"""Gradients of MaskedLSTM / MaskedGRU / MaskedSimpleRNN and Masking (CPU):
tf.test.compute_gradient in float64, the ...Grad ops against the NumPy
reference backward (reference.masked_rnn_grad), and GradientTape gradients
against Keras' own layers (Keras 3 and tf_keras) on the same weights."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import load_ops, ops, recurrent_ops, reference

# (cell, reset_after): GRU in both forms.
CELLS = [("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True)]
CELL_IDS = ["lstm", "gru", "gru_reset_before", "simple_rnn"]
WRAPPERS = {"lstm": recurrent_ops.masked_lstm, "gru": recurrent_ops.masked_gru,
            "simple_rnn": recurrent_ops.masked_simple_rnn}
GRAD_OPS = {"lstm": "masked_lstm_grad", "gru": "masked_gru_grad",
            "simple_rnn": "masked_simple_rnn_grad"}
KERAS_NAMES = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}


@pytest.fixture(scope="module", autouse=True)
def op_library():
  load_ops()  # also registers the gradients


def n_states(cell):
  return 2 if cell == "lstm" else 1


def make_mask(kind, batch, steps, rng):
  """Masks whose gradients differ when a carry rule is wrong."""
  if kind == "none":
    return np.ones((batch, steps), bool)
  if kind == "holes":  # random holes; step 1 masked in every row
    mask = rng.random((batch, steps)) > 0.35
    mask[:, min(1, steps - 1)] = False
    mask[0, 0] = True
    return mask
  mask = np.ones((batch, steps), bool)
  for row in range(batch):
    pad = rng.integers(1, steps) if steps > 1 else 0
    if kind == "left":
      mask[row, :pad] = False
    elif kind == "right":
      mask[row, steps - pad:] = False
    elif kind != "full_row":
      raise ValueError(kind)
  mask[-1] = False  # a fully masked row: its gradients go straight to the states
  return mask


def random_problem(rng, cell, reset_after, batch=3, steps=5, features=3, units=2,
                   dtype=np.float64, use_bias=True):
  gates = reference.GATES[cell]
  scale = 0.7
  problem = {
      "x": rng.standard_normal((batch, steps, features)),
      "kernel": rng.standard_normal((features, gates * units)) * scale,
      "recurrent_kernel": rng.standard_normal((units, gates * units)) * scale,
      "bias": None,
      "states": [rng.standard_normal((batch, units)) for _ in range(n_states(cell))],
  }
  if use_bias:
    shape = (2, gates * units) if cell == "gru" and reset_after else (gates * units,)
    problem["bias"] = rng.standard_normal(shape) * scale
  for key in ("x", "kernel", "recurrent_kernel", "bias"):
    if problem[key] is not None:
      problem[key] = problem[key].astype(dtype)
  problem["states"] = [s.astype(dtype) for s in problem["states"]]
  return problem


def wrapper_kwargs(cell, reset_after, options):
  kwargs = dict(options)
  if cell == "gru":
    kwargs["reset_after"] = reset_after
  if cell == "simple_rnn":
    kwargs.pop("recurrent_activation", None)
  return kwargs


# --- tf.test.compute_gradient, float64 ----------------------------------------

OPTIONS = {
    "seq": {"return_sequences": True},
    "last": {"return_sequences": False},
    "bwd_seq": {"go_backwards": True, "return_sequences": True},
    "bwd_last_zero": {"go_backwards": True, "zero_output_for_mask": True},
    "seq_zero": {"return_sequences": True, "zero_output_for_mask": True},
    "activations": {"return_sequences": True, "activation": "sigmoid",
                    "recurrent_activation": "tanh"},
}


def check_numeric_gradient(cell, reset_after, options, mask, problem, initial_given=True):
  """Jacobians of a random linear function of every output, w.r.t. every input."""
  rng = np.random.default_rng(7)
  kwargs = wrapper_kwargs(cell, reset_after, options)
  has_bias = problem["bias"] is not None
  output_shape = (mask.shape[0], mask.shape[1], problem["kernel"].shape[1] // reference.GATES[
      cell]) if options.get("return_sequences") else (mask.shape[0], problem["states"][0].shape[1])
  w_out = tf.constant(rng.standard_normal(output_shape))
  w_states = [tf.constant(rng.standard_normal(s.shape)) for s in problem["states"]]

  def loss(x, kernel, recurrent_kernel, *rest):
    bias = rest[0] if has_bias else None
    states = list(rest[1:] if has_bias else rest) if initial_given else None
    output, *finals = WRAPPERS[cell](x, kernel, recurrent_kernel, bias, mask=mask,
                                     initial_state=states, **kwargs)
    total = tf.reduce_sum(w_out * output)
    for w, final in zip(w_states, finals):
      total += tf.reduce_sum(w * final)
    return total

  args = [problem["x"], problem["kernel"], problem["recurrent_kernel"]]
  args += [problem["bias"]] if has_bias else []
  args += problem["states"] if initial_given else []
  analytic, numeric = tf.test.compute_gradient(loss, [tf.constant(a) for a in args], delta=1e-5)
  for i, (a, n) in enumerate(zip(analytic, numeric)):
    np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-7, err_msg=f"argument {i}")
  # Not vacuous: the gradients with respect to x and the weights are not all 0.
  assert np.abs(analytic[0]).max() > 1e-3 and np.abs(analytic[1]).max() > 1e-3


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_numeric_gradient_options(rng, cell, reset_after, option):
  problem = random_problem(rng, cell, reset_after)
  check_numeric_gradient(cell, reset_after, OPTIONS[option], make_mask("holes", 3, 5, rng),
                         problem)


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("mask_kind", ["none", "left", "right", "full_row"])
def test_numeric_gradient_masks(rng, cell, reset_after, mask_kind):
  problem = random_problem(rng, cell, reset_after)
  check_numeric_gradient(cell, reset_after, {"return_sequences": True},
                         make_mask(mask_kind, 3, 5, rng), problem)


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
def test_numeric_gradient_no_bias_no_initial_state(rng, cell, reset_after):
  problem = random_problem(rng, cell, reset_after, use_bias=False)
  check_numeric_gradient(cell, reset_after, {"return_sequences": True},
                         make_mask("holes", 3, 5, rng), problem, initial_given=False)


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("batch,steps", [(1, 4), (3, 1), (1, 1)], ids=["b1", "t1", "b1t1"])
def test_numeric_gradient_small_shapes(rng, cell, reset_after, batch, steps):
  problem = random_problem(rng, cell, reset_after, batch=batch, steps=steps)
  mask = np.ones((batch, steps), bool)
  mask[0, -1] = steps == 1 or bool(rng.integers(0, 2))
  check_numeric_gradient(cell, reset_after, {"return_sequences": True}, mask, problem)


# --- the Grad ops against the NumPy reference backward -------------------------

def op_gradients(cell, reset_after, problem, mask, d_output, d_states, options):
  """The ...Grad op called directly: {d_x, d_kernel, ..., d_initial_state}."""
  kwargs = wrapper_kwargs(cell, reset_after, options)
  dtype = problem["x"].dtype
  use_bias = problem["bias"] is not None
  bias = problem["bias"] if use_bias else np.zeros([0], dtype)
  states = {"initial_h": problem["states"][0]}
  incoming = {"d_output": d_output, "d_final_h": d_states[0]}
  if cell == "lstm":
    states["initial_c"] = problem["states"][1]
    incoming["d_final_c"] = d_states[1]
  results = getattr(load_ops(), GRAD_OPS[cell])(
      x=problem["x"], mask=mask, kernel=problem["kernel"],
      recurrent_kernel=problem["recurrent_kernel"], bias=bias, **states, **incoming,
      use_bias=use_bias, **kwargs)
  results = [np.asarray(r) for r in results]
  return {"d_x": results[0], "d_kernel": results[1], "d_recurrent_kernel": results[2],
          "d_bias": results[3] if use_bias else None, "d_initial_state": tuple(results[4:])}


def reference_gradients(cell, reset_after, problem, mask, d_output, d_states, options):
  f64 = lambda a: None if a is None else np.asarray(a, np.float64)  # pylint: disable=unnecessary-lambda-assignment
  kwargs = dict(options)
  return reference.masked_rnn_grad(
      cell, f64(problem["x"]), mask, f64(problem["kernel"]), f64(problem["recurrent_kernel"]),
      f64(problem["bias"]), [f64(s) for s in problem["states"]], f64(d_output),
      [f64(d) for d in d_states], activation_name=kwargs.pop("activation", "tanh"),
      reset_after=reset_after, **kwargs)


def assert_gradients_close(got, expected, rtol, atol_scale):
  for key in ("d_x", "d_kernel", "d_recurrent_kernel", "d_bias"):
    if expected[key] is None:
      assert got[key] is None
      continue
    scale = max(1.0, float(np.abs(expected[key]).max(initial=0.0)))
    np.testing.assert_allclose(np.float64(got[key]), expected[key], rtol=rtol,
                               atol=atol_scale * scale, err_msg=key)
  for i, (g, e) in enumerate(zip(got["d_initial_state"], expected["d_initial_state"])):
    scale = max(1.0, float(np.abs(e).max(initial=0.0)))
    np.testing.assert_allclose(np.float64(g), e, rtol=rtol, atol=atol_scale * scale,
                               err_msg=f"d_initial_state[{i}]")


def incoming_gradients(rng, problem, mask, return_sequences, dtype):
  batch, steps = mask.shape
  units = problem["recurrent_kernel"].shape[0]
  shape = (batch, steps, units) if return_sequences else (batch, units)
  d_output = rng.standard_normal(shape).astype(dtype)
  d_states = [rng.standard_normal((batch, units)).astype(dtype) for _ in problem["states"]]
  return d_output, d_states


ACTIVATION_PAIRS = [("tanh", "sigmoid"), ("relu", "hard_sigmoid"),
                    ("linear", "hard_sigmoid_keras2"), ("sigmoid", "relu"),
                    ("hard_sigmoid", "tanh")]


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("activations", ACTIVATION_PAIRS, ids=lambda p: "-".join(p))
@pytest.mark.parametrize("option", ["seq", "bwd_last_zero", "seq_zero", "last"])
def test_grad_op_matches_reference(rng, cell, reset_after, activations, option):
  # Larger than the numeric checks: several row blocks of the CPU kernel (32 rows).
  problem = random_problem(rng, cell, reset_after, batch=70, steps=9, features=4, units=5)
  mask = make_mask("holes", 70, 9, rng)
  mask[5] = False
  options = dict(OPTIONS[option], activation=activations[0],
                 recurrent_activation=activations[1])
  options.setdefault("return_sequences", False)
  d_output, d_states = incoming_gradients(rng, problem, mask, options["return_sequences"],
                                          np.float64)
  got = op_gradients(cell, reset_after, problem, mask, d_output, d_states, options)
  expected = reference_gradients(cell, reset_after, problem, mask, d_output, d_states, options)
  assert_gradients_close(got, expected, rtol=1e-9, atol_scale=1e-11)
  # A fully masked row: its outputs are the constant 0, its states pass through.
  for g, d in zip(got["d_initial_state"], d_states):
    np.testing.assert_array_equal(g[5], d[5])
  np.testing.assert_array_equal(got["d_x"][5], 0)


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("dtype,tolerance", [(np.float32, 1e-5), (tf.float16.as_numpy_dtype, 2e-3),
                                             (tf.bfloat16.as_numpy_dtype, 1.6e-2)],
                         ids=["float32", "float16", "bfloat16"])
def test_grad_op_dtypes(rng, cell, reset_after, dtype, tolerance):
  """float32 to float32 rounding; float16/bfloat16 accumulate in float32 and round
  once: within `tolerance` x the largest gradient of the same rounded inputs."""
  problem = random_problem(rng, cell, reset_after, batch=40, steps=12, features=6, units=8,
                           dtype=dtype)
  mask = make_mask("holes", 40, 12, rng)
  options = {"return_sequences": True}
  d_output, d_states = incoming_gradients(rng, problem, mask, True, dtype)
  got = op_gradients(cell, reset_after, problem, mask, d_output, d_states, options)
  assert got["d_x"].dtype == dtype and got["d_kernel"].dtype == dtype
  expected = reference_gradients(cell, reset_after, problem, mask, d_output, d_states, options)
  assert_gradients_close(got, expected, rtol=0, atol_scale=tolerance)


def test_grad_is_deterministic_across_thread_counts(rng):
  """The weight gradients sum per-block partials in block order: the bits do not
  depend on how many threads ran the blocks."""
  script = textwrap.dedent("""
      import hashlib
      import sys
      import numpy as np
      import tensorflow as tf
      tf.config.threading.set_intra_op_parallelism_threads(int(sys.argv[1]))
      from tftrt_masking import load_ops
      rng = np.random.default_rng(3)
      b, t, f, u = 150, 20, 16, 24
      out = load_ops().masked_lstm_grad(
          x=rng.standard_normal((b, t, f)).astype(np.float32), mask=rng.random((b, t)) > 0.3,
          kernel=rng.standard_normal((f, 4 * u)).astype(np.float32) * 0.3,
          recurrent_kernel=rng.standard_normal((u, 4 * u)).astype(np.float32) * 0.3,
          bias=rng.standard_normal(4 * u).astype(np.float32),
          initial_h=np.zeros((b, u), np.float32), initial_c=np.zeros((b, u), np.float32),
          d_output=rng.standard_normal((b, t, u)).astype(np.float32),
          d_final_h=np.ones((b, u), np.float32), d_final_c=np.ones((b, u), np.float32),
          return_sequences=True)
      print(" ".join(hashlib.sha256(np.asarray(o).tobytes()).hexdigest() for o in out))
  """)
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
             TF_CPP_MIN_LOG_LEVEL="3")
  results = []
  for threads in (1, 4):
    completed = subprocess.run([sys.executable, "-c", script, str(threads)], check=True,
                               capture_output=True, text=True, env=env)
    results.append(completed.stdout.split())
  assert len(results[0]) == 6 and results[0] == results[1]


# --- GradientTape: the ops against Keras' own layers ---------------------------

def tape_gradients(layer_call, layer_weights, x, mask, states, loss_weights):
  """Gradients of a random linear function of every output w.r.t. x, the
  weights and the initial states."""
  x = tf.Variable(x)
  states = [tf.Variable(s) for s in states]
  with tf.GradientTape() as tape:
    outputs = layer_call(x, mask, states)
    loss = sum(tf.reduce_sum(w * tf.cast(o, w.dtype)) for w, o in zip(loss_weights, outputs))
  sources = [x] + list(layer_weights) + states
  return [np.asarray(g) for g in tape.gradient(loss, sources)]


KERAS_OPTIONS = [{"return_sequences": True}, {"go_backwards": True},
                 {"return_sequences": True, "zero_output_for_mask": True},
                 {"return_sequences": True, "use_bias": False,
                  "activation": "relu", "recurrent_activation": "hard_sigmoid"}]


def compare_with_keras_layer(rng, keras_module, cell, reset_after, options, training,
                             mask_kind="holes"):
  batch, steps, features, units = 5, 7, 3, 4
  kwargs = dict(options)
  if cell == "gru":
    kwargs["reset_after"] = reset_after
  if cell == "simple_rnn":
    kwargs.pop("recurrent_activation", None)
  theirs = getattr(keras_module.layers, KERAS_NAMES[cell])(units, return_state=True, **kwargs)
  theirs.build((None, None, features))
  theirs.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.6
                      for w in theirs.get_weights()])
  layer_cell = theirs.cell
  use_bias = kwargs.get("use_bias", True)
  weights = [layer_cell.kernel, layer_cell.recurrent_kernel] + (
      [layer_cell.bias] if use_bias else [])
  x = rng.standard_normal((batch, steps, features)).astype(np.float32)
  mask = make_mask(mask_kind, batch, steps, rng)
  states = [rng.standard_normal((batch, units)).astype(np.float32)
            for _ in range(n_states(cell))]
  out_shape = (batch, steps, units) if kwargs.get("return_sequences") else (batch, units)
  loss_weights = [tf.constant(rng.standard_normal(out_shape), tf.float32)] + [
      tf.constant(rng.standard_normal((batch, units)), tf.float32) for _ in states]

  def keras_call(x, mask, states):
    return theirs(x, mask=tf.constant(mask), initial_state=list(states), training=training)

  def op_call(x, mask, states):
    op_kwargs = wrapper_kwargs(cell, reset_after, {
        k: v for k, v in kwargs.items() if k not in ("use_bias", "reset_after")})
    op_kwargs["activation"] = layer_cell.activation
    if cell != "simple_rnn":
      op_kwargs["recurrent_activation"] = layer_cell.recurrent_activation
    return WRAPPERS[cell](x, layer_cell.kernel, layer_cell.recurrent_kernel,
                          layer_cell.bias if use_bias else None, mask=mask,
                          initial_state=list(states), **op_kwargs)

  expected = tape_gradients(keras_call, weights, x, mask, states, loss_weights)
  got = tape_gradients(op_call, weights, x, mask, states, loss_weights)
  names = ["x", "kernel", "recurrent_kernel"] + (["bias"] if use_bias else []) + [
      "initial_h", "initial_c"][:len(states)]
  for name, g, e in zip(names, got, expected):
    scale = max(1.0, float(np.abs(e).max()))
    np.testing.assert_allclose(g, e, rtol=1e-5, atol=2e-6 * scale, err_msg=name)
  assert np.abs(got[1]).max() > 1e-3


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("training", [False, None, True], ids=["inference", "none", "training"])
@pytest.mark.parametrize("option", range(len(KERAS_OPTIONS)))
def test_matches_keras3_layer(rng, cell, reset_after, training, option):
  compare_with_keras_layer(rng, keras, cell, reset_after, KERAS_OPTIONS[option], training)


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("mask_kind", ["left", "right"])
def test_matches_keras3_layer_padding(rng, cell, reset_after, mask_kind):
  compare_with_keras_layer(rng, keras, cell, reset_after, {"return_sequences": True}, None,
                           mask_kind)


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("training", [False, None, True], ids=["inference", "none", "training"])
@pytest.mark.parametrize("option", [0, 1, 3])
def test_matches_tf_keras_layer(rng, tf_keras, cell, reset_after, training, option):
  options = dict(KERAS_OPTIONS[option])
  if options.get("recurrent_activation") == "hard_sigmoid":
    options["recurrent_activation"] = "hard_sigmoid"  # tf_keras': clip(0.2x + 0.5, 0, 1)
  compare_with_keras_layer(rng, tf_keras, cell, reset_after, options, training)


# --- Masking -------------------------------------------------------------------

@pytest.mark.parametrize("flavour", ["keras3", "tf_keras"])
def test_masking_gradient_matches_keras(rng, request, flavour):
  """Keras 3 (where): 0 at masked steps whatever the incoming gradient;
  tf_keras (x * mask): an inf or NaN incoming gradient gives NaN there."""
  if flavour == "keras3":
    layer, mode = keras.layers.Masking(mask_value=0.0), "where"
  else:
    layer, mode = request.getfixturevalue("tf_keras").layers.Masking(mask_value=0.0), "multiply"
  x = rng.standard_normal((4, 6, 3)).astype(np.float32)
  x[1, 2] = 0.0
  x[3, :4] = 0.0
  w = rng.standard_normal(x.shape).astype(np.float32)
  w[1, 2, 0] = np.inf
  w[3, 0, 1] = np.nan
  w = tf.constant(w)
  grads = []
  for fn in (lambda v: layer(v), lambda v: ops.masking(v, 0.0, output_mode=mode)[0]):
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(fn(v) * w)
    grads.append(np.asarray(tape.gradient(loss, v)))
  np.testing.assert_array_equal(grads[0], grads[1])
  assert np.isnan(grads[1][1, 2, 0]) == (mode == "multiply")
  np.testing.assert_array_equal(grads[1][0], np.asarray(w)[0])


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("batch,steps,features", [(0, 4, 3), (3, 0, 3), (3, 4, 0)],
                         ids=["b0", "t0", "f0"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_grad_op_empty_extents(rng, cell, reset_after, batch, steps, features, return_sequences):
  """B = 0: empty gradients, zero weight gradients; T = 0: the final states'
  gradients go to the initial states; F = 0: the recurrence on h@U + b alone."""
  problem = random_problem(rng, cell, reset_after, batch=batch, steps=steps,
                           features=features, units=3)
  mask = make_mask("holes", batch, steps, rng) if batch and steps else np.ones(
      (batch, steps), bool)
  options = {"return_sequences": return_sequences}
  d_output, d_states = incoming_gradients(rng, problem, mask, return_sequences, np.float64)
  got = op_gradients(cell, reset_after, problem, mask, d_output, d_states, options)
  expected = reference_gradients(cell, reset_after, problem, mask, d_output, d_states, options)
  assert got["d_x"].shape == (batch, steps, features)
  assert_gradients_close(got, expected, rtol=1e-9, atol_scale=1e-11)


def test_grad_op_rejects_bad_incoming_shape(rng):
  problem = random_problem(rng, "gru", True)
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"d_output must have shape \[3,2\]"):
    load_ops().masked_gru_grad(
        x=problem["x"], mask=np.ones((3, 5), bool), kernel=problem["kernel"],
        recurrent_kernel=problem["recurrent_kernel"], bias=problem["bias"],
        initial_h=problem["states"][0], d_output=np.zeros((3, 5, 2)),
        d_final_h=np.zeros((3, 2)))


@pytest.mark.parametrize("cell,reset_after", CELLS, ids=CELL_IDS)
def test_gradient_in_graph_mode_with_unconnected_outputs(rng, cell, reset_after):
  """Inside tf.function (as tf_keras' graph-mode fit runs), with only the
  output used: the final states' gradients come as None and count as 0."""
  problem = random_problem(rng, cell, reset_after, batch=4, steps=6)
  mask = make_mask("holes", 4, 6, rng)
  kwargs = wrapper_kwargs(cell, reset_after, {"return_sequences": True})
  weights = [tf.constant(problem[k]) for k in ("kernel", "recurrent_kernel", "bias")]

  @tf.function
  def grads(x):
    with tf.GradientTape() as tape:
      tape.watch([x] + weights)
      output = WRAPPERS[cell](x, *weights, mask=mask, initial_state=problem["states"],
                              **kwargs)[0]
      loss = tf.reduce_sum(output ** 2)
    return tape.gradient(loss, [x] + weights)

  got = [np.asarray(g) for g in grads(tf.constant(problem["x"]))]
  output, _ = reference.masked_rnn(cell, problem["x"], mask, problem["kernel"],
                                   problem["recurrent_kernel"], problem["bias"],
                                   problem["states"], reset_after=reset_after,
                                   return_sequences=True)
  expected = reference_gradients(cell, reset_after, problem, mask, 2 * output,
                                 [None] * n_states(cell), {"return_sequences": True})
  for g, key in zip(got, ("d_x", "d_kernel", "d_recurrent_kernel", "d_bias")):
    np.testing.assert_allclose(g, expected[key], rtol=1e-9, atol=1e-11, err_msg=key)
