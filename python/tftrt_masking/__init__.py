"""tftrt-masking: Keras Masking and masked recurrences as TensorFlow ops with
TF-TRT converters, so that Masking + LSTM run inside one TensorRT engine.

Load order: import this package (or call load_ops()) BEFORE loading a
SavedModel that uses these ops, so that TensorFlow knows them.
"""

__version__ = "0.1.0"

from tftrt_masking._loader import LibraryNotBuiltError, load_ops


def convert_saved_model(*args, **kwargs):
  """TF-TRT conversion with our converters loaded (see conversion.convert_saved_model)."""
  from tftrt_masking import conversion  # pylint: disable=import-outside-toplevel
  return conversion.convert_saved_model(*args, **kwargs)


def segment_report(*args, **kwargs):
  """Offline TF-TRT segment report (see segments.segment_report)."""
  from tftrt_masking import segments  # pylint: disable=import-outside-toplevel
  return segments.segment_report(*args, **kwargs)


__all__ = ["__version__", "LibraryNotBuiltError", "convert_saved_model", "load_ops",
           "segment_report"]
