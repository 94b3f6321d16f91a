"""The model corpus of issue 16: small masked-sequence Keras models taken from
public Keras code, each with its source and what it exercises.

Every builder takes the Keras module to build with (`keras` for Keras 3, or
`tf_keras`: the same code builds both flavours) and returns a built model with
random weights (seeded by the model's name, no training). Sizes are small
(units 8-16, vocabularies of 50, 1-8 features) so the whole corpus runs in
minutes on CPU. Where a model differs from its source (sizes aside), its
docstring says how and why.

Each CORPUS entry says how its inputs are made (`SequenceInput` /
`StaticInput`) and where its mask comes from, so that one function,
`make_batch`, builds for every model ONE batch whose rows are post-padded,
pre-padded, holed (masked steps in the middle), full, fully masked and
length-1 sequences.

The causes in `CorpusModel.causes` are issue 16's numbering:
  1 loaded functional Keras 3 model: recorded NotEqual+Any mask
  2 recurrence without a mask (bool Fill of an all-true mask)
  3 Bidirectional: ReverseV2 in TensorFlow
  4 dropout / recurrent_dropout / stateful: variable writes in the serving graph
  5 Embedding(mask_zero) and mask plumbing (NotEqual, Any, Cast, ExpandDims,
    LogicalAnd) of GlobalAveragePooling1D / Attention / MultiHeadAttention
  6 TimeDistributed(Dense): while loop in Keras 3's export
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Callable, Optional

import numpy as np

VOCAB = 50  # token vocabularies; token 0 is padding
TIME = 7  # time steps of variable-length inputs in make_batch
KERAS3 = "keras"
TF_KERAS = "tf_keras"


@dataclasses.dataclass(frozen=True)
class SequenceInput:
  """A [batch, time] token input (vocab > 0: ints in [1, vocab), padding 0)
  or a [batch, time, features] float input (padded steps: every feature = pad)."""
  name: str
  features: int = 0
  vocab: int = 0
  pad: float = 0.0
  time: Optional[int] = None  # fixed length in the model; None: any length

  @property
  def is_tokens(self) -> bool:
    return self.vocab > 0


@dataclasses.dataclass(frozen=True)
class StaticInput:
  """A [batch, features] float input (no time axis, never masked)."""
  name: str
  features: int


@dataclasses.dataclass(frozen=True)
class CorpusModel:
  name: str
  build: Callable  # build(keras_module) -> built model, same weights every time
  inputs: tuple  # SequenceInput / StaticInput, in the model's input order
  mask_source: str  # e.g. "Embedding(mask_zero=True)", "Masking(-1.0)", "none"
  causes: tuple  # issue 16 causes this model exercises (see the module docstring)
  tf_keras: bool = False  # also built with tf_keras (.h5 and SavedModel formats)
  batch_size: Optional[int] = None  # fixed batch (stateful models)

  @property
  def source(self) -> str:
    """The builder's docstring: source and what the model exercises."""
    return " ".join((self.build.__doc__ or "").split())


# ---------------------------------------------------------------- builders
# `k` is the Keras module (keras or tf_keras); `L` its layers.


def masking_guide_sequential(k):
  """Source: https://keras.io/guides/understanding_masking_and_padding/
  ("Mask-generating layers: Embedding and Masking"): Sequential
  Embedding(mask_zero=True) -> LSTM. Exercises the most common mask source in
  a Sequential model, the LSTM's last output."""
  L = k.layers
  return k.Sequential([k.Input((None,), dtype="int32", name="tokens"),
                       L.Embedding(VOCAB, 8, mask_zero=True), L.LSTM(16)])


def masking_guide_functional(k):
  """Source: https://keras.io/guides/understanding_masking_and_padding/
  (functional form of the same guide section): Input(None) ->
  Embedding(mask_zero=True) -> LSTM. Exercises a functional model's recorded
  mask (cause 1) with Embedding's NotEqual (cause 5)."""
  L = k.layers
  inputs = k.Input((None,), dtype="int32", name="tokens")
  x = L.Embedding(VOCAB, 8, mask_zero=True)(inputs)
  return k.Model(inputs, L.LSTM(16)(x))


def masking_guide_masking_layer(k):
  """Source: https://keras.io/guides/understanding_masking_and_padding/
  (the Masking layer on float sequences, "skip timesteps that are all 0"):
  Sequential Masking(0.0) -> LSTM -> Dense. The seed case of this project:
  should be ONE engine already."""
  L = k.layers
  return k.Sequential([k.Input((None, 6), name="x"), L.Masking(0.0), L.LSTM(16),
                       L.Dense(4)])


def rnn_guide_gru_simple_rnn(k):
  """Source: https://keras.io/guides/working_with_rnns/ ("Outputs and states"):
  Sequential Embedding -> GRU(return_sequences=True) -> SimpleRNN -> Dense.
  No mask (as in the guide): GRU and SimpleRNN without a mask (cause 2)."""
  L = k.layers
  return k.Sequential([k.Input((None,), dtype="int32", name="tokens"),
                       L.Embedding(VOCAB, 8), L.GRU(16, return_sequences=True),
                       L.SimpleRNN(12), L.Dense(10)])


def rnn_guide_encoder_decoder(k):
  """Source: https://keras.io/guides/working_with_rnns/ ("RNN state reuse"):
  encoder Embedding -> LSTM(return_state=True); decoder Embedding ->
  LSTM(initial_state=encoder states) -> Dense. Two inputs, initial states,
  no mask (cause 2)."""
  L = k.layers
  encoder_input = k.Input((None,), dtype="int32", name="encoder_tokens")
  encoder_embedded = L.Embedding(VOCAB, 8)(encoder_input)
  _, state_h, state_c = L.LSTM(16, return_state=True, name="encoder")(encoder_embedded)
  decoder_input = k.Input((None,), dtype="int32", name="decoder_tokens")
  decoder_embedded = L.Embedding(VOCAB, 8)(decoder_input)
  decoder_output = L.LSTM(16, name="decoder")(decoder_embedded,
                                               initial_state=[state_h, state_c])
  return k.Model([encoder_input, decoder_input], L.Dense(10)(decoder_output))


def rnn_guide_bidirectional(k):
  """Source: https://keras.io/guides/working_with_rnns/ ("Bidirectional RNNs"):
  Sequential Bidirectional(LSTM(return_sequences=True), input_shape=(5, 10)) ->
  Bidirectional(LSTM) -> Dense. Fixed time 5 (features 6 here), no mask:
  causes 2 and 3."""
  L = k.layers
  return k.Sequential([k.Input((5, 6), name="x"),
                       L.Bidirectional(L.LSTM(16, return_sequences=True)),
                       L.Bidirectional(L.LSTM(8)), L.Dense(10)])


def _seq2seq(k, masked):
  L = k.layers
  encoder_inputs = k.Input((None, 8), name="encoder_inputs")
  decoder_inputs = k.Input((None, 7), name="decoder_inputs")
  encoder_x, decoder_x = encoder_inputs, decoder_inputs
  if masked:
    encoder_x = L.Masking(0.0)(encoder_x)
    decoder_x = L.Masking(0.0)(decoder_x)
  _, state_h, state_c = L.LSTM(16, return_state=True)(encoder_x)
  decoder_outputs, _, _ = L.LSTM(16, return_sequences=True, return_state=True)(
      decoder_x, initial_state=[state_h, state_c])
  outputs = L.Dense(7, activation="softmax")(decoder_outputs)
  return k.Model([encoder_inputs, decoder_inputs], outputs)


def lstm_seq2seq(k):
  """Source: https://keras.io/examples/nlp/lstm_seq2seq/ (character-level
  translation, training model): encoder LSTM(return_state=True) on one-hot
  characters, decoder LSTM(return_sequences=True, return_state=True,
  initial_state=encoder states) -> Dense(softmax). As in the example there is
  no Masking: recurrences without a mask (cause 2), two inputs, initial states.
  Random floats stand in for the one-hot characters."""
  return _seq2seq(k, masked=False)


def lstm_seq2seq_masked(k):
  """Source: https://keras.io/examples/nlp/lstm_seq2seq/ with Masking(0.0) on
  both inputs, as many copies of it on GitHub add for zero-padded one-hot
  batches (e.g. github.com/SaminSarker05/NeuraCast model.py masks its inputs the
  same way). Exercises masked encoder + masked decoder with initial_state from
  the encoder, two inputs, two Masking layers (cause 1)."""
  return _seq2seq(k, masked=True)


def lstm_seq2seq_inference_decoder(k):
  """Source: https://keras.io/examples/nlp/lstm_seq2seq/ ("Run inference
  (sampling)": decoder_model): inputs decoder one-hot sequence + state_h +
  state_c, LSTM(return_sequences=True, return_state=True, initial_state=the
  state inputs) -> Dense(softmax); outputs the sequence and both states.
  Initial states fed from the signature, three outputs, no mask (cause 2)."""
  L = k.layers
  decoder_inputs = k.Input((None, 7), name="decoder_inputs")
  state_h_in = k.Input((16,), name="state_h")
  state_c_in = k.Input((16,), name="state_c")
  outputs, state_h, state_c = L.LSTM(16, return_sequences=True, return_state=True)(
      decoder_inputs, initial_state=[state_h_in, state_c_in])
  outputs = L.Dense(7, activation="softmax")(outputs)
  return k.Model([decoder_inputs, state_h_in, state_c_in], [outputs, state_h, state_c])


def addition_rnn(k):
  """Source: github.com/keras-team/keras (Keras 2) examples/addition_rnn.py:
  Sequential LSTM -> RepeatVector(DIGITS + 1) -> LSTM(return_sequences=True) ->
  TimeDistributed(Dense(softmax)). Fixed lengths (7 in, 4 out), no mask:
  causes 2 and 6 (TimeDistributed, here on a known time axis)."""
  L = k.layers
  return k.Sequential([k.Input((7, 12), name="x"), L.LSTM(16), L.RepeatVector(4),
                       L.LSTM(16, return_sequences=True),
                       L.TimeDistributed(L.Dense(12, activation="softmax"))])


def text_classification_rnn(k):
  """Source: https://www.tensorflow.org/text/tutorials/text_classification_rnn
  (first model): Embedding(mask_zero=True) -> Bidirectional(LSTM) ->
  Dense(relu) -> Dense(1), Sequential (the TextVectorization encoder is left
  out: the model takes token ids). Causes 3 and 5."""
  L = k.layers
  return k.Sequential([k.Input((None,), dtype="int32", name="tokens"),
                       L.Embedding(VOCAB, 8, mask_zero=True), L.Bidirectional(L.LSTM(16)),
                       L.Dense(16, activation="relu"), L.Dense(1)])


def text_classification_rnn_stacked(k):
  """Source: https://www.tensorflow.org/text/tutorials/text_classification_rnn
  ("Stack two or more LSTM layers"): Embedding(mask_zero=True) ->
  Bidirectional(LSTM(return_sequences=True)) -> Bidirectional(LSTM) ->
  Dense(relu) -> Dropout -> Dense(1). Causes 3 (ReverseV2 of a sequence) and 5."""
  L = k.layers
  return k.Sequential([k.Input((None,), dtype="int32", name="tokens"),
                       L.Embedding(VOCAB, 8, mask_zero=True),
                       L.Bidirectional(L.LSTM(16, return_sequences=True)),
                       L.Bidirectional(L.LSTM(8)), L.Dense(16, activation="relu"),
                       L.Dropout(0.5), L.Dense(1)])


def bilstm_ner_tagger(k):
  """Source: github.com/Kamin-At/LSTM-CRF-NER using_keras.py: Input(max_len) ->
  Embedding(mask_zero=True) -> Bidirectional(LSTM(return_sequences=True,
  recurrent_dropout=0.1)) -> TimeDistributed(Dense(relu)) -> CRF. The CRF
  (keras_contrib, not in Keras 3) is replaced by TimeDistributed(Dense(softmax)),
  the head of github.com/csprock/keras-NER models/blstm_model.py. Fixed max_len
  12. Causes 1, 3, 4 (recurrent_dropout), 5, 6."""
  L = k.layers
  inputs = k.Input((12,), dtype="int32", name="words")
  x = L.Embedding(VOCAB, 8, mask_zero=True)(inputs)
  x = L.Bidirectional(L.LSTM(12, return_sequences=True, recurrent_dropout=0.1))(x)
  x = L.TimeDistributed(L.Dense(16, activation="relu"))(x)
  return k.Model(inputs, L.TimeDistributed(L.Dense(5, activation="softmax"))(x))


def simple_rnn_pos_tagger(k):
  """Source: github.com/AlxndrMlk/ML_misc [IMPL]_Keras_POS_tagging_RNN.py:
  Sequential InputLayer([None], int32) -> Embedding -> SimpleRNN(return_sequences=
  True) -> TimeDistributed(Dense(softmax)). Variable length, no mask: causes 2
  and 6 (TimeDistributed on an unknown time axis)."""
  L = k.layers
  return k.Sequential([k.Input((None,), dtype="int32", name="words"),
                       L.Embedding(VOCAB, 8), L.SimpleRNN(16, return_sequences=True),
                       L.TimeDistributed(L.Dense(6, activation="softmax"))])


def timeseries_masking_minus_one(k):
  """Source: github.com/yangwohenmai/LSTM 长短期记忆(LSTM)/LSTM的数据准备/
  如何处理序列预测中的缺失时间步长/忽略缺失的学习.py: Sequential
  Masking(mask_value=-1) -> LSTM -> Dense(1) on one feature (missing values
  filled with -1). The source has 2 steps; any length here. Masking with a
  non-zero value."""
  L = k.layers
  return k.Sequential([k.Input((None, 1), name="x"), L.Masking(mask_value=-1.0),
                       L.LSTM(8), L.Dense(1)])


def neuracast_masked_dropout(k):
  """Source: github.com/SaminSarker05/NeuraCast model.py: Input((None, F)) ->
  Masking(0) -> LSTM(dropout=0.25, recurrent_dropout=0.1, return_sequences=True,
  implementation=2) -> TimeDistributed(Dense(1, sigmoid)). Causes 1, 4 (dropout
  in the serving graph) and 6 (TimeDistributed on an unknown time axis)."""
  L = k.layers
  data = k.Input((None, 5), name="data")
  x = L.Masking(0.0, name="input_masked")(data)
  x = L.LSTM(16, dropout=0.25, recurrent_dropout=0.1, return_sequences=True,
             implementation=2, name="lstm")(x)
  return k.Model(data, L.TimeDistributed(L.Dense(1, activation="sigmoid"), name="output")(x))


def simple_rnn_masking_1000(k):
  """Source: github.com/todokku/AI-PAAS example.py (after the TF masking guide):
  Sequential Masking(mask_value=1000.0, input_shape=(None, 1)) ->
  SimpleRNN(return_sequences=True). A large non-zero mask value, SimpleRNN with
  the whole sequence as output (units 8 instead of 1)."""
  L = k.layers
  return k.Sequential([k.Input((None, 1), name="x"), L.Masking(mask_value=1000.0),
                       L.SimpleRNN(8, return_sequences=True)])


def gru4rec_reclearn(k):
  """Source: github.com/ZiyaoGeng/RecLearn reclearn/models/matching/gru4rec.py:
  click sequence -> item Embedding -> (padding zeroed) -> GRU -> Dense ->
  l2-normalize. The source zeroes padded embeddings with a hand-made NotEqual
  mask; here Embedding(mask_zero=True) masks them (the Keras way), and
  UnitNormalization does the l2 norm. The pos/neg item scoring is left out.
  GRU after Embedding's mask (causes 1 and 5)."""
  L = k.layers
  click_seq = k.Input((None,), dtype="int32", name="click_seq")
  x = L.Embedding(VOCAB, 8, mask_zero=True)(click_seq)
  x = L.Dropout(0.0)(x)
  x = L.GRU(16)(x)
  x = L.Dense(8)(x)
  return k.Model(click_seq, L.UnitNormalization()(x))


def gru4rec_stateful(k):
  """Source: github.com/paxcema/KerasGRU4Rec model/gru4rec.py create_model:
  Input(batch_shape=(batch, 1, n_items)) -> GRU(stateful=True,
  return_state=True) -> Dropout(0.25) -> Dense(n_items, softmax). Stateful
  GRU (cause 4) without a mask (cause 2). The source feeds one step per call;
  here a whole (padded) session of any length, batch fixed at 6."""
  L = k.layers
  inputs = k.Input(batch_shape=(BATCH, None, 20), name="items")
  gru, _ = L.GRU(16, stateful=True, return_state=True, name="GRU")(inputs)
  x = L.Dropout(0.25)(gru)
  return k.Model(inputs, L.Dense(20, activation="softmax")(x))


def bilstm_global_average_pooling(k):
  """Source: github.com/okotaku/kaggle_toxic_comment_classification
  solution2/model/bid_lstm_ap.py: Embedding -> Bidirectional(LSTM(
  return_sequences=True, dropout=0.25, recurrent_dropout=0.25)) x2 ->
  GlobalAveragePooling1D -> Dense(relu) -> Dropout -> Dense(6, sigmoid). Here the
  Embedding has mask_zero=True (the source pads with 0 and uses pretrained
  vectors), so the pooling is masked: NaN on fully masked rows, as in Keras.
  Causes 1, 3, 4, 5 (masked GlobalAveragePooling1D)."""
  L = k.layers
  inputs = k.Input((12,), dtype="int32", name="comment")
  x = L.Embedding(VOCAB, 8, mask_zero=True)(inputs)
  for units in (12, 8):
    x = L.Bidirectional(L.LSTM(units, return_sequences=True, dropout=0.25,
                               recurrent_dropout=0.25))(x)
  x = L.GlobalAveragePooling1D()(x)
  x = L.Dense(16, activation="relu")(x)
  x = L.Dropout(0.25)(x)
  return k.Model(inputs, L.Dense(6, activation="sigmoid")(x))


def attention_after_lstm(k):
  """Source: https://keras.io/api/layers/attention_layers/attention/ (the
  query/value example: shared Embedding, shared sequence encoder,
  Attention()([query, value]), GlobalAveragePooling1D of both, Concatenate).
  The example's encoder is a Conv1D; here it is an LSTM(return_sequences=True)
  and the Embedding has mask_zero=True, so both masks reach Attention and the
  pooling. Two inputs, causes 1 and 5."""
  L = k.layers
  query_input = k.Input((None,), dtype="int32", name="query")
  value_input = k.Input((None,), dtype="int32", name="value")
  embedding = L.Embedding(VOCAB, 8, mask_zero=True)
  encoder = L.LSTM(12, return_sequences=True)
  query_seq = encoder(embedding(query_input))
  value_seq = encoder(embedding(value_input))
  attended = L.Attention()([query_seq, value_seq])
  query_encoding = L.GlobalAveragePooling1D()(query_seq)
  attended_encoding = L.GlobalAveragePooling1D()(attended)
  x = L.Concatenate()([query_encoding, attended_encoding])
  return k.Model([query_input, value_input], L.Dense(3)(x))


def nmt_with_attention(k):
  """Source: https://www.tensorflow.org/text/tutorials/nmt_with_attention:
  Encoder Embedding(mask_zero=True) -> Bidirectional(GRU(return_sequences=True),
  merge_mode="sum"); Decoder Embedding(mask_zero=True) -> GRU(return_sequences=
  True, return_state=True) -> CrossAttention (MultiHeadAttention(num_heads=1)
  over the encoder output, Add, LayerNormalization) -> Dense(vocab). The
  tutorial's subclassed layers written as one functional model. Two inputs,
  causes 1, 3 and 5 (MultiHeadAttention's mask plumbing)."""
  L = k.layers
  context_tokens = k.Input((None,), dtype="int32", name="context")
  target_tokens = k.Input((None,), dtype="int32", name="target_in")
  context = L.Embedding(VOCAB, 16, mask_zero=True)(context_tokens)
  context = L.Bidirectional(L.GRU(16, return_sequences=True), merge_mode="sum")(context)
  x = L.Embedding(VOCAB, 16, mask_zero=True)(target_tokens)
  x, _ = L.GRU(16, return_sequences=True, return_state=True)(x)
  attended = L.MultiHeadAttention(key_dim=16, num_heads=1)(query=x, value=context)
  x = L.LayerNormalization()(L.Add()([x, attended]))
  return k.Model([context_tokens, target_tokens], L.Dense(VOCAB)(x))


def imdb_cnn_lstm(k):
  """Source: github.com/keras-team/keras (Keras 2) examples/imdb_cnn_lstm.py:
  Embedding(input_length=maxlen) -> Dropout -> Conv1D(valid, relu) ->
  MaxPooling1D -> LSTM -> Dense(1) -> Activation(sigmoid). Fixed maxlen 16,
  no mask: an LSTM after Conv1D (cause 2)."""
  L = k.layers
  return k.Sequential([k.Input((16,), dtype="int32", name="review"),
                       L.Embedding(VOCAB, 8), L.Dropout(0.25),
                       L.Conv1D(8, 3, padding="valid", activation="relu", strides=1),
                       L.MaxPooling1D(pool_size=2), L.LSTM(12), L.Dense(1),
                       L.Activation("sigmoid")])


def functional_api_multi_input(k):
  """Source: https://keras.io/guides/functional_api/ ("Models with multiple
  inputs and outputs": ticket title + body + tags -> priority and department).
  Embedding -> LSTM for title and body, Concatenate with the tags, two Dense
  heads. Here the Embeddings have mask_zero=True (the guide pads with 0 but
  does not mask). Three inputs (one static), two outputs, causes 1 and 5."""
  L = k.layers
  title_input = k.Input((None,), dtype="int32", name="title")
  body_input = k.Input((None,), dtype="int32", name="body")
  tags_input = k.Input((12,), name="tags")
  title_features = L.LSTM(16)(L.Embedding(VOCAB, 8, mask_zero=True)(title_input))
  body_features = L.LSTM(8)(L.Embedding(VOCAB, 8, mask_zero=True)(body_input))
  x = L.Concatenate()([title_features, body_features, tags_input])
  priority = L.Dense(1, name="priority")(x)
  department = L.Dense(4, name="department")(x)
  return k.Model([title_input, body_input, tags_input], [priority, department])


def gru_reset_after_false(k):
  """Source: https://keras.io/guides/understanding_masking_and_padding/
  (Embedding(mask_zero=True) -> recurrent layer) with GRU(reset_after=False),
  the Keras 2.2 default that TensorFlow.js layers require (tfjs-layers:
  "GRUCell does not support reset_after parameter set to true"). Sequential,
  sigmoid head. The GRU variant with one bias (cause 5 for the mask)."""
  L = k.layers
  return k.Sequential([k.Input((None,), dtype="int32", name="tokens"),
                       L.Embedding(VOCAB, 8, mask_zero=True),
                       L.GRU(16, reset_after=False), L.Dense(1, activation="sigmoid")])


# ------------------------------------------------------------------ the corpus

BATCH = 6  # rows of make_batch: one of each ROW_KINDS


def _tokens(name, time=None):
  return SequenceInput(name, vocab=VOCAB, time=time)


def _values(name, features, pad=0.0, time=None):
  return SequenceInput(name, features=features, pad=pad, time=time)


EMBEDDING = "Embedding(mask_zero=True)"
NONE = "none"

CORPUS = (
    CorpusModel("masking_guide_sequential", masking_guide_sequential, (_tokens("tokens"),),
                EMBEDDING, (5,)),
    CorpusModel("masking_guide_functional", masking_guide_functional, (_tokens("tokens"),),
                EMBEDDING, (1, 5), tf_keras=True),
    CorpusModel("masking_guide_masking_layer", masking_guide_masking_layer,
                (_values("x", 6),), "Masking(0.0)", (), tf_keras=True),
    CorpusModel("rnn_guide_gru_simple_rnn", rnn_guide_gru_simple_rnn, (_tokens("tokens"),),
                NONE, (2,)),
    CorpusModel("rnn_guide_encoder_decoder", rnn_guide_encoder_decoder,
                (_tokens("encoder_tokens"), _tokens("decoder_tokens")), NONE, (2,)),
    CorpusModel("rnn_guide_bidirectional", rnn_guide_bidirectional, (_values("x", 6, time=5),),
                NONE, (2, 3)),
    CorpusModel("lstm_seq2seq", lstm_seq2seq,
                (_values("encoder_inputs", 8), _values("decoder_inputs", 7)), NONE, (2,)),
    CorpusModel("lstm_seq2seq_masked", lstm_seq2seq_masked,
                (_values("encoder_inputs", 8), _values("decoder_inputs", 7)), "Masking(0.0)",
                (1,), tf_keras=True),
    CorpusModel("lstm_seq2seq_inference_decoder", lstm_seq2seq_inference_decoder,
                (_values("decoder_inputs", 7), StaticInput("state_h", 16),
                 StaticInput("state_c", 16)), NONE, (2,)),
    CorpusModel("addition_rnn", addition_rnn, (_values("x", 12, time=7),), NONE, (2, 6)),
    CorpusModel("text_classification_rnn", text_classification_rnn, (_tokens("tokens"),),
                EMBEDDING, (3, 5)),
    CorpusModel("text_classification_rnn_stacked", text_classification_rnn_stacked,
                (_tokens("tokens"),), EMBEDDING, (3, 5), tf_keras=True),
    CorpusModel("bilstm_ner_tagger", bilstm_ner_tagger, (_tokens("words", time=12),),
                EMBEDDING, (1, 3, 4, 5, 6), tf_keras=True),
    CorpusModel("simple_rnn_pos_tagger", simple_rnn_pos_tagger, (_tokens("words"),), NONE,
                (2, 6)),
    CorpusModel("timeseries_masking_minus_one", timeseries_masking_minus_one,
                (_values("x", 1, pad=-1.0),), "Masking(-1.0)", ()),
    CorpusModel("neuracast_masked_dropout", neuracast_masked_dropout, (_values("data", 5),),
                "Masking(0.0)", (1, 4, 6), tf_keras=True),
    CorpusModel("simple_rnn_masking_1000", simple_rnn_masking_1000,
                (_values("x", 1, pad=1000.0),), "Masking(1000.0)", ()),
    CorpusModel("gru4rec_reclearn", gru4rec_reclearn, (_tokens("click_seq"),), EMBEDDING,
                (1, 5)),
    CorpusModel("gru4rec_stateful", gru4rec_stateful, (_values("items", 20),), NONE, (2, 4),
                batch_size=BATCH),
    CorpusModel("bilstm_global_average_pooling", bilstm_global_average_pooling,
                (_tokens("comment", time=12),), EMBEDDING, (1, 3, 4, 5)),
    CorpusModel("attention_after_lstm", attention_after_lstm,
                (_tokens("query"), _tokens("value")), EMBEDDING, (1, 5)),
    CorpusModel("nmt_with_attention", nmt_with_attention,
                (_tokens("context"), _tokens("target_in")), EMBEDDING, (1, 3, 5)),
    CorpusModel("imdb_cnn_lstm", imdb_cnn_lstm, (_tokens("review", time=16),), NONE, (2,)),
    CorpusModel("functional_api_multi_input", functional_api_multi_input,
                (_tokens("title"), _tokens("body"), StaticInput("tags", 12)), EMBEDDING, (1, 5)),
    CorpusModel("gru_reset_after_false", gru_reset_after_false, (_tokens("tokens"),),
                EMBEDDING, (5,), tf_keras=True),
)

BY_NAME = {entry.name: entry for entry in CORPUS}


def keras_module(flavour: str):
  """The Keras module of a flavour: `keras` (Keras 3) or `tf_keras`."""
  if flavour == KERAS3:
    import keras  # pylint: disable=import-outside-toplevel
    return keras
  import tf_keras  # pylint: disable=import-outside-toplevel
  return tf_keras


def build(entry: CorpusModel, flavour: str = KERAS3):
  """The entry's model in one Keras flavour, with random weights seeded by its
  name (so Keras 3 and tf_keras get the same values)."""
  k = keras_module(flavour)
  k.utils.set_random_seed(0)
  model = entry.build(k)
  rng = np.random.default_rng(zlib.crc32(entry.name.encode()))
  # Trainable weights only: a stateful layer's states and the dropout seed
  # generators keep their initial values.
  for weight in model.trainable_weights:
    scale = 0.5 if "embedding" in weight.name else 0.4
    weight.assign(rng.standard_normal(tuple(weight.shape)).astype("float32") * scale)
  return model


# ----------------------------------------------------------------- the batch

ROW_KINDS = ("post_padded", "pre_padded", "holed", "full", "fully_masked", "length_1")


def kept_steps(kind: str, time: int) -> np.ndarray:
  """Which of `time` steps a row of this kind keeps (True) or pads (False)."""
  steps = np.arange(time)
  if kind == "post_padded":
    return steps < max(1, time - 3)
  if kind == "pre_padded":
    return steps >= min(time - 1, 3)
  if kind == "holed":  # first and last kept, holes inside
    holes = {1, time // 2 + 1} if time >= 4 else {1} if time == 3 else set()
    return ~np.isin(steps, sorted(holes))
  if kind == "full":
    return np.ones(time, bool)
  if kind == "fully_masked":
    return np.zeros(time, bool)
  if kind == "length_1":
    return steps < 1
  raise ValueError(f"unknown row kind {kind!r}")


def make_batch(entry: CorpusModel, seed: int = 0, time: int = TIME) -> dict:
  """{input name: array} with one row per ROW_KINDS for every sequence input
  (padded steps hold the input's pad value / token 0); static inputs random.
  Inputs of one model get different lengths (time, time - 2, ...) so that
  encoder and decoder differ."""
  rng = np.random.default_rng(seed + zlib.crc32(entry.name.encode()))
  batch = {}
  sequence_index = 0
  for spec in entry.inputs:
    if isinstance(spec, StaticInput):
      batch[spec.name] = rng.standard_normal((BATCH, spec.features)).astype("float32")
      continue
    length = spec.time or max(3, time - 2 * sequence_index)
    sequence_index += 1
    keep = np.stack([kept_steps(kind, length) for kind in ROW_KINDS])
    if spec.is_tokens:
      values = rng.integers(1, spec.vocab, (BATCH, length)).astype("int32")
      batch[spec.name] = np.where(keep, values, 0).astype("int32")
    else:
      values = rng.standard_normal((BATCH, length, spec.features)).astype("float32")
      batch[spec.name] = np.where(keep[..., None], values, np.float32(spec.pad))
  return batch
