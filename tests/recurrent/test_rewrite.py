"""tftrt_masking.rewrite: Keras models (Sequential, functional, nested; Keras 3
and tf_keras) and saved files -> models with our layers, same weights and
outputs; the report of what stayed Keras and why; the CLI."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import _keras, layers, load_ops, rewrite
from tftrt_masking.__main__ import main as cli_main


@pytest.fixture(scope="module", autouse=True)
def op_library():
  load_ops()


def seed_input(rng):
  """The spec's seed example: 32x10x8 random, timesteps 3 and 5 zeroed."""
  x = rng.random((32, 10, 8)).astype(np.float32)
  x[:, 3] = 0.0
  x[:, 5] = 0.0
  return x


def masked_input(rng, batch=6, steps=9, features=4):
  """Random input whose Masking(0.) mask has holes, left and right padding and
  a fully masked row."""
  x = rng.standard_normal((batch, steps, features)).astype(np.float32)
  x[rng.random((batch, steps)) < 0.25] = 0.0
  x[0, :3] = 0.0
  x[1, -4:] = 0.0
  x[2] = 0.0
  return x


def mixed_model(k, steps=9, features=4):
  """Functional model: Masking -> LSTM(seq) -> Bidirectional(GRU) -> two heads,
  one recurrent head we cannot serve (elu), and a nested Sequential."""
  inputs = k.Input((steps, features))
  masked = k.layers.Masking(0.0)(inputs)
  hidden = k.layers.LSTM(6, return_sequences=True)(masked)
  hidden = k.layers.Bidirectional(k.layers.GRU(5, return_sequences=True, reset_after=False),
                                  merge_mode="sum")(hidden)
  head_a = k.layers.SimpleRNN(3, activation="elu", name="elu_rnn")(hidden)
  head_b = k.layers.LSTM(3, go_backwards=True, name="backwards_lstm")(hidden)
  nested = k.Sequential([k.Input((steps, features)), k.layers.Masking(0.0),
                         k.layers.GRU(2)], name="nested")
  merged = k.layers.Concatenate()([head_a, head_b, nested(inputs)])
  return k.Model(inputs, k.layers.Dense(2)(merged))


def randomize_weights(model, rng):
  model.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.5
                     for w in model.get_weights()])


def report_by_name(report):
  return {entry.name: entry for entry in report.layers}


def op_types_of(concrete_function):
  graph_def = concrete_function.graph.as_graph_def()
  types = {node.op for node in graph_def.node}
  for function in graph_def.library.function:
    types |= {node.op for node in function.node_def}
  return types


# --- the seed example ------------------------------------------------------------

def test_seed_example(rng):
  """Masking(0.) -> LSTM(32) -> Dense: the rewritten model equals the LSTM and
  Dense run on the sequence with steps 3 and 5 removed."""
  model = keras.Sequential([keras.Input((10, 8)), keras.layers.Masking(0.0),
                            keras.layers.LSTM(32), keras.layers.Dense(4)])
  new_model, report = rewrite.rewrite_model(model)
  assert [type(l) for l in new_model.layers[:2]] == [layers.Masking, layers.LSTM]
  assert [e.replaced for e in report.layers] == [True, True]
  x = seed_input(rng)
  compact = np.delete(x, [3, 5], axis=1)
  on_compact = model.layers[2](model.layers[1](compact))
  # The CPU kernel follows Keras' op order: bit for bit, not just close.
  np.testing.assert_array_equal(new_model(x), on_compact)
  np.testing.assert_array_equal(new_model(x), model(x))
  ours_lstm = new_model.layers[1](new_model.layers[0](x))
  np.testing.assert_array_equal(ours_lstm, model.layers[1](compact))


# --- model walking and the report -------------------------------------------------

@pytest.mark.parametrize("flavour", ["keras", "tf_keras"])
def test_mixed_functional_model(rng, flavour):
  k = keras if flavour == "keras" else _keras.tf_keras_or_none()
  if k is None:
    pytest.skip("tf_keras is not installed")
  model = mixed_model(k)
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  assert report.flavour == flavour
  entries = report_by_name(report)
  replaced = {e.name for e in report.replaced}
  assert {"elu_rnn"} == {e.name for e in report.kept}
  assert "activation elu" in entries["elu_rnn"].reasons[0]
  assert "backwards_lstm" in replaced and "nested/" + model.get_layer("nested").layers[1].name \
      in replaced
  assert len(report.layers) == 7  # masking, lstm, bidirectional, 2 heads, nested masking + gru
  x = masked_input(rng)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=2e-6)
  # The original model is unchanged and still Keras'.
  assert type(model.get_layer("backwards_lstm")) is k.layers.LSTM
  summary = report.summary()
  assert "elu_rnn" in summary and "kept Keras" in summary and "replaced" in summary


def test_sequential_tf_keras(rng, tf_keras):
  model = tf_keras.Sequential([tf_keras.Input((9, 4)), tf_keras.layers.Masking(0.0),
                               tf_keras.layers.Bidirectional(tf_keras.layers.LSTM(
                                   4, return_sequences=True)),
                               tf_keras.layers.SimpleRNN(3)])
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  assert len(report.replaced) == 3 and not report.kept
  assert type(new_model.layers[1]) is layers.tf_keras_bidirectional_class()
  x = masked_input(rng)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=2e-6)


@pytest.mark.parametrize("make_layer,reason", [
    (lambda: keras.layers.GRU(4, unroll=True), "unroll=True"),
    (lambda: keras.layers.LSTM(4, recurrent_activation="softsign"),
     "recurrent_activation softsign"),
    (lambda: keras.layers.RNN([keras.layers.LSTMCell(4), keras.layers.GRUCell(4)]),
     "stacked cell"),
])
def test_unservable_layers_stay_keras_with_reason(rng, make_layer, reason):
  layer = make_layer()
  model = keras.Sequential([keras.Input((9, 4), batch_size=6), keras.layers.Masking(0.0), layer])
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  (kept,) = report.kept
  assert kept.name == layer.name and any(reason in r for r in kept.reasons)
  assert type(new_model.layers[-1]) is type(layer)
  x = masked_input(rng)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=1e-6)
  assert reason in report.summary()


@pytest.mark.parametrize("flavour", ["keras", "tf_keras"])
def test_rnn_of_a_keras_cell_becomes_that_layer(rng, flavour):
  """RNN(LSTMCell / GRUCell / SimpleRNNCell) is the LSTM / GRU / SimpleRNN layer."""
  k = keras if flavour == "keras" else _keras.tf_keras_or_none()
  if k is None:
    pytest.skip("tf_keras is not installed")
  ours = (layers.tf_keras_recurrent_classes() if flavour == "tf_keras" else
          {"LSTM": layers.LSTM, "GRU": layers.GRU, "SimpleRNN": layers.SimpleRNN})
  inputs = k.Input((9, 4))
  hidden = k.layers.Masking(0.0)(inputs)
  hidden = k.layers.RNN(k.layers.LSTMCell(5, recurrent_activation="hard_sigmoid"),
                        return_sequences=True, name="rnn_lstm")(hidden)
  hidden = k.layers.RNN(k.layers.GRUCell(4, reset_after=False), return_sequences=True,
                        go_backwards=True, name="rnn_gru")(hidden)
  model = k.Model(inputs, k.layers.RNN(k.layers.SimpleRNNCell(3, activation="relu"),
                                       zero_output_for_mask=True, name="rnn_simple")(hidden))
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  assert len(report.replaced) == 4 and not report.kept
  for name, cls in (("rnn_lstm", "LSTM"), ("rnn_gru", "GRU"), ("rnn_simple", "SimpleRNN")):
    assert type(new_model.get_layer(name)) is ours[cls]
  assert new_model.get_layer("rnn_gru").go_backwards
  assert not new_model.get_layer("rnn_gru").cell.reset_after
  x = masked_input(rng)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=1e-6)


def test_dropout_is_served_with_a_note(rng):
  model = keras.Sequential([keras.Input((9, 4)), keras.layers.LSTM(4, recurrent_dropout=0.2)])
  new_model, report = rewrite.rewrite_model(model)
  (entry,) = report.replaced
  assert "training runs Keras' loop" in entry.notes[0]
  assert type(new_model.layers[0]) is layers.LSTM


def test_vector_mask_value_is_noted(rng):
  model = keras.Sequential([keras.Input((9, 4)), keras.layers.Masking([0.0, 0.0, 0.0, 0.0]),
                            keras.layers.GRU(3)])
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  masking_entry = report.layers[0]
  assert masking_entry.replaced and "non-scalar mask_value" in masking_entry.notes[0]
  x = masked_input(rng)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=1e-6)


def test_layers_already_ours_are_kept_as_ours(rng):
  model = keras.Sequential([keras.Input((9, 4)), layers.Masking(0.0), layers.GRU(3)])
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  assert all(e.replaced and "already" in e.notes[0] for e in report.layers)
  x = masked_input(rng)
  np.testing.assert_array_equal(new_model(x), model(x))


def test_model_without_recurrences(rng):
  model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
  new_model, report = rewrite.rewrite_model(model)
  assert not report.layers and report.other_layer_count == 1
  assert "no Masking" in report.summary()
  x = rng.standard_normal((3, 4)).astype(np.float32)
  np.testing.assert_array_equal(new_model(x), model(x))


def test_bad_inputs_give_clear_errors(tmp_path):
  class Subclassed(keras.Model):

    def __init__(self):
      super().__init__()
      self.lstm = keras.layers.LSTM(3)

    def call(self, x):
      return self.lstm(x)

  subclassed = Subclassed()
  subclassed(np.zeros((1, 5, 2), np.float32))
  with pytest.raises(rewrite.RewriteError, match="subclassed"):
    rewrite.rewrite_model(subclassed)
  with pytest.raises(rewrite.RewriteError, match="expected a Keras 3 or tf_keras Model"):
    rewrite.rewrite_model(keras.layers.LSTM(3))
  with pytest.raises(rewrite.RewriteError, match="does not exist"):
    rewrite.load_keras_model(tmp_path / "missing.keras")
  # A Keras 3 export keeps only the TF graph: no Keras model to rewrite.
  model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(3)])
  model.export(str(tmp_path / "exported"), verbose=False)
  with pytest.raises(rewrite.RewriteError, match="has no Keras model in it"):
    rewrite.load_keras_model(tmp_path / "exported")


# --- round trips through files ----------------------------------------------------

def test_keras3_saved_model_round_trip(rng, tmp_path):
  """Keras model -> rewrite -> SavedModel -> load -> same outputs as the original."""
  model = mixed_model(keras)
  randomize_weights(model, rng)
  new_model, _ = rewrite.rewrite_model(model)
  export_dir = str(tmp_path / "saved_model")
  rewrite.save_model(new_model, export_dir)
  loaded = tf.saved_model.load(export_dir)
  for _ in range(3):
    x = masked_input(rng, batch=int(rng.integers(1, 9)))
    np.testing.assert_allclose(loaded.serve(x), model(x), rtol=0, atol=2e-6)
  op_types = op_types_of(loaded.serve.get_concrete_function(
      tf.TensorSpec([None, 9, 4], tf.float32)))
  assert {"Masking", "MaskedLSTM", "MaskedGRU"} <= op_types
  # The masks come from the Masking op: no NotEqual/Any (TF-TRT cannot convert them).
  assert not {"NotEqual", "Any"} & op_types


def test_functional_masks_come_from_the_masking_op(rng):
  """Keras 3 records Keras' NotEqual/Any mask as a graph input of the LSTM; the
  rewritten model takes the Masking op's mask instead (same values)."""
  inputs = keras.Input((9, 4))
  hidden = keras.layers.LSTM(5, return_sequences=True)(keras.layers.Masking(0.0)(inputs))
  model = keras.Model(inputs, keras.layers.GRU(3)(hidden))
  randomize_weights(model, rng)
  new_model, _ = rewrite.rewrite_model(model)
  graph = tf.function(lambda x: new_model(x, training=False)).get_concrete_function(
      tf.TensorSpec([None, 9, 4], tf.float32)).graph
  recurrences = [op for op in graph.get_operations() if op.type in ("MaskedLSTM", "MaskedGRU")]
  assert len(recurrences) == 2
  for op in recurrences:
    assert op.inputs[1].op.type == "Masking", op.inputs[1].op.type
  x = masked_input(rng)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=1e-6)


def test_explicit_mask_stays_explicit(rng):
  """A mask passed explicitly (not the one Keras propagates) is kept as recorded."""
  inputs = keras.Input((9, 4))
  explicit_mask = keras.Input((9,), dtype="bool")
  masked = keras.layers.Masking(0.0)(inputs)
  model = keras.Model([inputs, explicit_mask],
                      keras.layers.LSTM(5)(masked, mask=explicit_mask))
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  assert len(report.replaced) == 2
  x = masked_input(rng)
  mask = rng.random((6, 9)) > 0.5  # unrelated to x's zero steps
  expected = model([x, mask])
  assert np.abs(np.asarray(expected) - np.asarray(model([x, np.any(x != 0, -1)]))).max() > 1e-3
  np.testing.assert_allclose(new_model([x, mask]), expected, rtol=0, atol=1e-6)


def test_tf_keras_saved_model_round_trip(rng, tmp_path, tf_keras):
  """tf_keras SavedModel in (it keeps the Keras model), SavedModel out. A small
  model: tf_keras traces every layer's call functions when saving."""
  inputs = tf_keras.Input((9, 4))
  hidden = tf_keras.layers.Masking(0.0)(inputs)
  hidden = tf_keras.layers.LSTM(3, go_backwards=True, name="backwards_lstm")(hidden)
  model = tf_keras.Model(inputs, tf_keras.layers.Dense(2)(hidden))
  randomize_weights(model, rng)
  source = tmp_path / "source_saved_model"
  model.save(str(source), save_format="tf")
  out = tmp_path / "rewritten_saved_model"
  _, report = rewrite.rewrite_path(source, out)
  assert len(report.replaced) == 2 and not report.kept
  x = masked_input(rng)
  reloaded = tf_keras.models.load_model(str(out), compile=False)
  assert type(reloaded.get_layer("backwards_lstm")) is layers.tf_keras_recurrent_classes()["LSTM"]
  np.testing.assert_allclose(reloaded(x), model(x), rtol=0, atol=2e-6)
  served = tf.saved_model.load(str(out)).signatures["serving_default"]
  (result,) = served(tf.constant(x)).values()
  np.testing.assert_allclose(result, model(x), rtol=0, atol=2e-6)
  assert "MaskedLSTM" in op_types_of(served)


def test_keras_file_cli_round_trip(rng, tmp_path, capsys):
  model = mixed_model(keras)
  randomize_weights(model, rng)
  source, out = tmp_path / "model.keras", tmp_path / "rewritten.keras"
  model.save(source)
  assert cli_main(["rewrite", str(source), str(out)]) == 0
  printed = capsys.readouterr().out
  assert "6 layer(s) replaced, 1 kept as Keras" in printed and "elu_rnn" in printed
  loaded = keras.models.load_model(out)
  assert type(loaded.get_layer("backwards_lstm")) is layers.LSTM
  x = masked_input(rng)
  np.testing.assert_allclose(loaded(x), model(x), rtol=0, atol=2e-6)


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_tf_keras_files_stay_tf_keras(rng, tmp_path, tf_keras, suffix):
  """Keras 3 can read tf_keras files too; the rewrite keeps them tf_keras."""
  model = tf_keras.Sequential([
      tf_keras.Input((9, 4)), tf_keras.layers.Masking(0.0),
      tf_keras.layers.Bidirectional(tf_keras.layers.LSTM(3, return_sequences=True)),
      tf_keras.layers.GRU(3, recurrent_activation="hard_sigmoid")])
  randomize_weights(model, rng)
  source, out = tmp_path / f"model{suffix}", tmp_path / f"rewritten{suffix}"
  model.save(str(source))
  new_model, report = rewrite.rewrite_path(source, out)
  assert report.flavour == "tf_keras" and len(report.replaced) == 3
  loaded = tf_keras.models.load_model(str(out), compile=False)
  assert type(loaded.layers[-1]) is layers.tf_keras_recurrent_classes()["GRU"]
  x = masked_input(rng)
  np.testing.assert_allclose(loaded(x), model(x), rtol=0, atol=1e-6)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=1e-6)


def test_cli_error_is_a_message_and_exit_code(tmp_path, capsys):
  assert cli_main(["rewrite", str(tmp_path / "missing.keras"), str(tmp_path / "out")]) == 2
  assert "does not exist" in capsys.readouterr().err


# --- what keeps a rewritten model in one engine (issue 16) ------------------------

def mask_sources_of(model, signature):
  """The op feeding the mask input of every masked recurrence in model's graph."""
  graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(
      signature).graph
  return {op.name: op.inputs[1].op.type for op in graph.get_operations()
          if op.type in ("MaskedLSTM", "MaskedGRU", "MaskedSimpleRNN")}


@pytest.mark.parametrize("source", ["in_memory", "keras_file"])
def test_loaded_functional_masks_come_from_the_masking_op(rng, tmp_path, source):
  """A functional model read back from .keras records Keras' NotEqual/Any mask as
  separate operations; the rewrite still feeds the recurrences our Masking op."""
  model = mixed_model(keras)
  randomize_weights(model, rng)
  if source == "keras_file":
    model.save(tmp_path / "model.keras")
    model = rewrite.load_keras_model(tmp_path / "model.keras")
  new_model, _ = rewrite.rewrite_model(model)
  sources = mask_sources_of(new_model, tf.TensorSpec([None, 9, 4], tf.float32))
  assert len(sources) >= 4, sources
  assert set(sources.values()) == {"Masking"}, sources
  x = masked_input(rng)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=2e-6)


def graph_op_types(exported_dir):
  loaded = tf.saved_model.load(str(exported_dir))
  function = loaded.signatures["serving_default"]
  return op_types_of(function), function


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "SimpleRNN"])
def test_dropout_layers_export_without_variable_writes(rng, tmp_path, cell):
  """Keras 3 draws dropout masks (and advances the seed variable) in every call;
  the rewritten layers do not at inference, so the export can be frozen."""
  layer = getattr(keras.layers, cell)
  inputs = keras.Input((None, 4))
  hidden = keras.layers.Masking(0.0)(inputs)
  hidden = layer(5, dropout=0.3, recurrent_dropout=0.2, return_sequences=True)(hidden)
  model = keras.Model(inputs, keras.layers.Bidirectional(layer(3, dropout=0.1))(hidden))
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  assert all(entry.replaced for entry in report.layers)
  assert any("dropout" in note for entry in report.layers for note in entry.notes)
  rewrite.save_model(new_model, tmp_path / "exported")
  op_types, served = graph_op_types(tmp_path / "exported")
  writes = {t for t in op_types if t.startswith("Assign") or "Random" in t}
  assert not writes, writes
  x = masked_input(rng)
  (result,) = served(tf.constant(x)).values()
  np.testing.assert_allclose(result, model(x, training=False), rtol=0, atol=2e-6)


def test_stateful_layer_rewritten_stateless(rng, tmp_path):
  """stateful=True: the rewritten model starts every call from zero state, as the
  Keras model does right after reset_states(); the report says so."""
  model = keras.Sequential([keras.Input(batch_shape=(6, 9, 4)), keras.layers.Masking(0.0),
                            keras.layers.GRU(5, stateful=True), keras.layers.Dense(2)])
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  entry = report_by_name(report)[model.layers[1].name]
  assert entry.replaced and "stateless" in entry.notes[0]
  assert not new_model.layers[1].stateful
  x = masked_input(rng)
  expected = model(x)
  np.testing.assert_allclose(new_model(x), expected, rtol=0, atol=1e-6)
  np.testing.assert_allclose(new_model(x), expected, rtol=0, atol=1e-6)  # no carried state
  rewrite.save_model(new_model, tmp_path / "exported")
  op_types, _ = graph_op_types(tmp_path / "exported")
  assert not {t for t in op_types if t.startswith("Assign")}


@pytest.mark.parametrize("flavour", ["keras", "tf_keras"])
def test_time_distributed_dense_becomes_dense(rng, tmp_path, flavour):
  """TimeDistributed(Dense) with an unknown time axis: Keras 3 exports a loop with
  a wrong output shape; rewritten, it is Dense on [B, T, F], same weights."""
  k = keras if flavour == "keras" else _keras.tf_keras_or_none()
  if k is None:
    pytest.skip("tf_keras is not installed")
  inputs = k.Input((None, 4))
  hidden = k.layers.Masking(0.0)(inputs)
  hidden = k.layers.LSTM(5, return_sequences=True)(hidden)
  hidden = k.layers.TimeDistributed(k.layers.Dense(3, activation="softmax"), name="tags")(hidden)
  model = k.Model(inputs, hidden)
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model)
  entry = report_by_name(report)["tags"]
  assert entry.replaced and entry.new_class == "Dense", report.summary()
  assert type(new_model.get_layer("tags")).__name__ == "Dense"
  x = masked_input(rng)
  np.testing.assert_allclose(new_model(x), model(x), rtol=0, atol=1e-6)
  rewrite.save_model(new_model, tmp_path / "exported")
  op_types, served = graph_op_types(tmp_path / "exported")
  assert not {"While", "StatelessWhile"} & op_types
  (result,) = served(tf.constant(x)).values()
  assert result.shape == (6, 9, 3)
  np.testing.assert_allclose(result, model(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("int32_inputs", [False, True])
def test_int64_token_inputs(rng, int32_inputs):
  """int64 ids cannot enter a TensorRT 8.6 engine: the report says so, and
  int32_inputs=True rewrites the input as int32 (same outputs)."""
  inputs = keras.Input((None,), dtype="int64", name="tokens")
  hidden = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
  model = keras.Model(inputs, keras.layers.LSTM(3)(hidden))
  randomize_weights(model, rng)
  new_model, report = rewrite.rewrite_model(model, int32_inputs=int32_inputs)
  entry = report_by_name(report)["tokens"]
  assert entry.replaced == int32_inputs
  assert ("int32" in entry.notes[0]) if int32_inputs else ("no int64" in entry.reasons[0])
  assert new_model.inputs[0].dtype == ("int32" if int32_inputs else "int64")
  ids = rng.integers(0, 20, (5, 7))
  ids[1, 4:] = 0
  ids[2] = 0
  np.testing.assert_allclose(new_model(ids.astype(new_model.inputs[0].dtype)),
                             model(ids.astype(np.int64)), rtol=0, atol=1e-6)
