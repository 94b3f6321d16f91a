"""Python wrappers of the masked recurrence ops MaskedLSTM, MaskedGRU and
MaskedSimpleRNN, with argument checks that name the op and the shapes.

Semantics: shared/docs/keras-masking-spec.md section 2 (Keras' masked loop) and
docs/DESIGN.md (the op interface). Weights are in Keras' own layout:
kernel [F, G*U], recurrent_kernel [U, G*U], bias [G*U] (GRU reset_after:
[2, G*U]); G = 4 (LSTM, gates i f c o), 3 (GRU, z r h), 1 (SimpleRNN).
"""

from __future__ import annotations

import tensorflow as tf

from tftrt_masking._loader import load_ops

RNN_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)
# Names the ops accept for activation / recurrent_activation.
ACTIVATION_NAMES = ("tanh", "sigmoid", "relu", "linear", "hard_sigmoid", "hard_sigmoid_keras2")
GATE_COUNTS = {"MaskedLSTM": 4, "MaskedGRU": 3, "MaskedSimpleRNN": 1}


def _function_names():
  """{activation function: op name} for the functions Keras layers store.

  Looked up by identity: a function is only mapped when it is Keras' (or
  TensorFlow's) own. Keras 3 hard_sigmoid is relu6(x+3)/6; tf_keras'
  hard_sigmoid is the Keras 2 form clip(0.2x+0.5, 0, 1).
  """
  import keras  # pylint: disable=import-outside-toplevel
  from tftrt_masking import _keras  # pylint: disable=import-outside-toplevel

  names = {}
  for module in (keras.activations, keras.ops):
    for name in ("tanh", "sigmoid", "relu", "hard_sigmoid"):
      names[getattr(module, name)] = name
  names[keras.activations.linear] = "linear"
  names[tf.tanh] = "tanh"
  names[tf.sigmoid] = "sigmoid"
  names[tf.nn.relu] = "relu"
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is not None:
    for name in ("tanh", "sigmoid", "relu", "linear"):
      names[getattr(tf_keras.activations, name)] = name
    names[tf_keras.activations.hard_sigmoid] = "hard_sigmoid_keras2"
  return names


_FUNCTION_NAMES = None


def activation_name(activation) -> str | None:
  """The op's name for a Keras activation (name or function), or None when the
  ops do not implement it. None (Keras: no activation) is 'linear'.

  A string 'hard_sigmoid' means the Keras 3 form; the Keras 2 (tf_keras) form
  is 'hard_sigmoid_keras2' or tf_keras.activations.hard_sigmoid itself.
  """
  global _FUNCTION_NAMES  # pylint: disable=global-statement
  if activation is None:
    return "linear"
  if isinstance(activation, str):
    return activation if activation in ACTIVATION_NAMES else None
  if _FUNCTION_NAMES is None:
    _FUNCTION_NAMES = _function_names()
  try:
    return _FUNCTION_NAMES.get(activation)
  except TypeError:  # unhashable callable
    return None


def describe_activation(activation) -> str:
  """A readable name of an activation: its function name, else its repr."""
  return getattr(activation, "__name__", None) or repr(activation)


def _checked_activation(op_name: str, arg: str, activation) -> str:
  name = activation_name(activation)
  if name is None:
    raise ValueError(f"tftrt_masking.{op_name}: {arg}={describe_activation(activation)} is "
                     f"not supported; supported: {', '.join(ACTIVATION_NAMES)} (or Keras' own "
                     "functions for them)")
  return name


def _check_static(op_name: str, what: str, shape: tf.TensorShape, expected) -> None:
  """Raises when a known dimension of `shape` differs from `expected` (None = any)."""
  if shape.rank is None:
    return
  if shape.rank != len(expected) or any(
      e is not None and d is not None and d != e for d, e in zip(shape.as_list(), expected)):
    wanted = "[" + ", ".join("?" if e is None else str(e) for e in expected) + "]"
    raise ValueError(f"tftrt_masking.{op_name}: {what} must have shape {wanted}, "
                     f"got {shape}")


def _prepare(op_name: str, x, mask, kernel, recurrent_kernel, bias, initial_state, n_states,
             reset_after=False):
  """Converts and checks the tensor arguments; returns them ready for the op."""
  x = tf.convert_to_tensor(x)
  if x.dtype not in RNN_DTYPES:
    raise TypeError(f"tftrt_masking.{op_name}: x must be float16, bfloat16, float32 or "
                    f"float64, got {x.dtype.name} with shape {x.shape}")
  if x.shape.rank is not None and x.shape.rank != 3:
    raise ValueError(f"tftrt_masking.{op_name}: x must have rank 3 [batch, time, features], "
                     f"got shape {x.shape}")
  batch, steps, features = x.shape.as_list() if x.shape.rank is not None else (None,) * 3

  # Weights follow x's dtype, as Keras autocasts float32 variables under mixed precision.
  def weight(value, what):
    value = tf.convert_to_tensor(value)
    if not value.dtype.is_floating:
      raise TypeError(f"tftrt_masking.{op_name}: {what} must be floating point, "
                      f"got {value.dtype.name} with shape {value.shape}")
    return tf.cast(value, x.dtype)

  gates = GATE_COUNTS[op_name]
  kernel = weight(kernel, "kernel")
  recurrent_kernel = weight(recurrent_kernel, "recurrent_kernel")
  _check_static(op_name, "recurrent_kernel", recurrent_kernel.shape, (None, None))
  units = recurrent_kernel.shape[0]
  gate_width = None if units is None else gates * units
  _check_static(op_name, f"recurrent_kernel (units U, {gates}*U)", recurrent_kernel.shape,
                (units, gate_width))
  _check_static(op_name, f"kernel (features F={features}, {gates}*U={gate_width})",
                kernel.shape, (features, gate_width))

  use_bias = bias is not None
  if use_bias:
    bias = weight(bias, "bias")
    bias_shape = (2, gate_width) if reset_after else (gate_width,)
    _check_static(op_name, "bias" + (" (GRU reset_after: [input bias; recurrent bias])"
                                     if reset_after else ""), bias.shape, bias_shape)
  else:
    bias = tf.zeros([0], x.dtype)  # use_bias=False: the op takes an empty bias

  if mask is None:
    mask = tf.ones(tf.shape(x)[:2], tf.bool)
  else:
    mask = tf.convert_to_tensor(mask)
    if mask.dtype != tf.bool:
      if not (mask.dtype.is_integer or mask.dtype.is_floating):
        raise TypeError(f"tftrt_masking.{op_name}: mask must be bool, got {mask.dtype.name}")
      mask = tf.not_equal(mask, tf.zeros([], mask.dtype))  # nonzero = keep, like Keras' cast
    _check_static(op_name, f"mask (x is {x.shape})", mask.shape, (batch, steps))

  if initial_state is None:
    initial_state = [None] * n_states
  elif not isinstance(initial_state, (list, tuple)):
    initial_state = [initial_state]
  if len(initial_state) != n_states:
    raise ValueError(f"tftrt_masking.{op_name}: expected {n_states} initial state tensor(s), "
                     f"got {len(initial_state)}")
  states = []
  for i, state in enumerate(initial_state):
    what = ("initial_h", "initial_c")[i]
    if state is None:
      zero_shape = tf.stack([tf.shape(x)[0], tf.shape(recurrent_kernel)[0]])
      states.append(tf.zeros(zero_shape, x.dtype))
    else:
      state = weight(state, what)
      _check_static(op_name, f"{what} [batch, units] (x is {x.shape})", state.shape,
                    (batch, units))
      states.append(state)
  return x, mask, kernel, recurrent_kernel, bias, use_bias, states


def masked_lstm(x, kernel, recurrent_kernel, bias=None, mask=None, initial_state=None, *,
                activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                return_sequences=False, zero_output_for_mask=False, name=None):
  """Keras' masked LSTM as one op: returns (output, h, c).

  x [B,T,F]; mask [B,T] (None: every step kept); bias None means
  use_bias=False; initial_state (h, c) or None for zeros. output is [B,T,U]
  in processing order when return_sequences, else [B,U].
  """
  x, mask, kernel, recurrent_kernel, bias, use_bias, (h, c) = _prepare(
      "MaskedLSTM", x, mask, kernel, recurrent_kernel, bias, initial_state, 2)
  return load_ops().masked_lstm(
      x=x, mask=mask, kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias,
      initial_h=h, initial_c=c,
      activation=_checked_activation("MaskedLSTM", "activation", activation),
      recurrent_activation=_checked_activation("MaskedLSTM", "recurrent_activation",
                                               recurrent_activation),
      use_bias=use_bias, go_backwards=bool(go_backwards),
      return_sequences=bool(return_sequences),
      zero_output_for_mask=bool(zero_output_for_mask), name=name)


def masked_gru(x, kernel, recurrent_kernel, bias=None, mask=None, initial_state=None, *,
               activation="tanh", recurrent_activation="sigmoid", reset_after=True,
               go_backwards=False, return_sequences=False, zero_output_for_mask=False,
               name=None):
  """Keras' masked GRU as one op: returns (output, h).

  bias is [2, 3U] with reset_after (Keras' default), [3U] without; None means
  use_bias=False. initial_state h (or [h]) or None for zeros.
  """
  x, mask, kernel, recurrent_kernel, bias, use_bias, (h,) = _prepare(
      "MaskedGRU", x, mask, kernel, recurrent_kernel, bias, initial_state, 1,
      reset_after=bool(reset_after))
  return load_ops().masked_gru(
      x=x, mask=mask, kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias,
      initial_h=h,
      activation=_checked_activation("MaskedGRU", "activation", activation),
      recurrent_activation=_checked_activation("MaskedGRU", "recurrent_activation",
                                               recurrent_activation),
      reset_after=bool(reset_after), use_bias=use_bias, go_backwards=bool(go_backwards),
      return_sequences=bool(return_sequences),
      zero_output_for_mask=bool(zero_output_for_mask), name=name)


def masked_simple_rnn(x, kernel, recurrent_kernel, bias=None, mask=None, initial_state=None, *,
                      activation="tanh", go_backwards=False, return_sequences=False,
                      zero_output_for_mask=False, name=None):
  """Keras' masked SimpleRNN as one op: returns (output, h)."""
  x, mask, kernel, recurrent_kernel, bias, use_bias, (h,) = _prepare(
      "MaskedSimpleRNN", x, mask, kernel, recurrent_kernel, bias, initial_state, 1)
  return load_ops().masked_simple_rnn(
      x=x, mask=mask, kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias,
      initial_h=h,
      activation=_checked_activation("MaskedSimpleRNN", "activation", activation),
      use_bias=use_bias, go_backwards=bool(go_backwards),
      return_sequences=bool(return_sequences),
      zero_output_for_mask=bool(zero_output_for_mask), name=name)
