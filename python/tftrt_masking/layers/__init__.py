"""Keras layers backed by this project's ops: drop-ins for Keras' own."""

from tftrt_masking.layers.masking import Masking, tf_keras_masking_class

__all__ = ["Masking", "tf_keras_masking_class"]
