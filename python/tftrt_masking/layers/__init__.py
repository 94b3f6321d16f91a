"""Keras layers backed by this project's ops: drop-ins for Keras' own."""

from tftrt_masking.layers.masking import Masking, tf_keras_masking_class
from tftrt_masking.layers.recurrent import GRU, LSTM, SimpleRNN, tf_keras_recurrent_classes
from tftrt_masking.layers.bidirectional import Bidirectional, tf_keras_bidirectional_class

__all__ = ["Masking", "tf_keras_masking_class", "LSTM", "GRU", "SimpleRNN",
           "tf_keras_recurrent_classes", "Bidirectional", "tf_keras_bidirectional_class"]
