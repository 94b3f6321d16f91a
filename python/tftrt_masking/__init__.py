"""tftrt-masking: Keras Masking and masked recurrences as TensorFlow ops with
TF-TRT converters, so that Masking + LSTM run inside one TensorRT engine.

Load order: import this package (or call load_ops()) BEFORE loading a
SavedModel that uses these ops, so that TensorFlow knows them.
"""

from tftrt_masking._loader import LibraryNotBuiltError, load_ops

__all__ = ["LibraryNotBuiltError", "load_ops"]
