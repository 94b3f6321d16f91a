"""pytest plugin: Keras' and tf_keras' own test files run against our layers.

Before collection it replaces, in the namespaces the test files use
(`keras.src.layers` for Keras 3, `tf_keras.src.layers` for tf_keras), the
classes Masking, LSTM, GRU, SimpleRNN and Bidirectional by ours. The public
`keras.layers` / `tf_keras.layers` stay Keras' own: our classes subclass them
and the Bidirectional swap table reads them. Tests that import a class from
its defining module (`from tf_keras.src.layers.rnn import lstm; lstm.LSTM`)
keep testing Keras' class; suites.py lists them.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"
if str(_PYTHON_DIR) not in sys.path:
  sys.path.insert(0, str(_PYTHON_DIR))

SWAPPED_NAMES = ("Masking", "LSTM", "GRU", "SimpleRNN", "Bidirectional")


def our_classes(flavour):
  """{Keras class name: our class} of Keras 3 ('keras') or tf_keras ('tf_keras')."""
  from tftrt_masking import layers  # pylint: disable=import-outside-toplevel

  if flavour == "keras":
    return {"Masking": layers.Masking, "LSTM": layers.LSTM, "GRU": layers.GRU,
            "SimpleRNN": layers.SimpleRNN, "Bidirectional": layers.Bidirectional}
  return {**layers.tf_keras_recurrent_classes(), "Masking": layers.tf_keras_masking_class(),
          "Bidirectional": layers.tf_keras_bidirectional_class()}


def pytest_configure(config):
  del config
  import keras.src.layers  # pylint: disable=import-outside-toplevel
  from tftrt_masking import load_ops  # pylint: disable=import-outside-toplevel

  load_ops()
  namespaces = {"keras": keras.src.layers}
  try:
    import tf_keras.src.layers  # pylint: disable=import-outside-toplevel
    namespaces["tf_keras"] = tf_keras.src.layers
  except ImportError:
    pass
  for flavour, namespace in namespaces.items():
    ours = our_classes(flavour)
    for name in SWAPPED_NAMES:
      assert issubclass(ours[name], getattr(namespace, name)) or name == "Masking"
      setattr(namespace, name, ours[name])
