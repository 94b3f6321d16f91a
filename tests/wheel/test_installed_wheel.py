"""The installed wheel, used as a user would: from a folder outside the checkout,
in a virtual environment holding only the wheel, its requirements and pytest.

scripts/test_wheel.sh builds the wheel, makes that environment, copies this
file into an empty temporary folder and runs it there; it is not a Bazel test
(under Bazel the package comes from the checkout).
"""

import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import numpy as np

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"]).resolve()
TIMESTEPS, FEATURES, UNITS = 10, 8, 16


def clean_env() -> dict:
  """This environment without anything that could point back at a checkout."""
  env = {k: v for k, v in os.environ.items()
         if k not in ("PYTHONPATH", "TFTRT_MASKING_LIB_DIR")}
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  return env


def run(args, cwd) -> subprocess.CompletedProcess:
  return subprocess.run(args, cwd=cwd, env=clean_env(), capture_output=True, text=True,
                        timeout=900, check=False)


def tf_minor() -> tuple:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return tuple(int(p) for p in tf.__version__.split(".")[:2])


def test_package_and_libraries_come_from_site_packages():
  import tftrt_masking  # pylint: disable=import-outside-toplevel
  from tftrt_masking import _build_info, _loader  # pylint: disable=import-outside-toplevel

  package_dir = Path(tftrt_masking.__file__).resolve().parent
  assert package_dir.parent == SITE_PACKAGES, package_dir
  assert "_tftrt_masking_ops.so" in _build_info.LIBRARIES
  for name in _build_info.LIBRARIES:
    assert (package_dir / name).is_file(), name
  tftrt_masking.load_ops()
  ops_library = _loader.find_library(_loader.OPS_LIBRARY, "tf_ops")
  assert ops_library.resolve().parent == package_dir
  converters = _loader.converters_library_path()
  if "_tftrt_masking_converters.so" in _build_info.LIBRARIES:
    assert converters.resolve().parent == package_dir
  else:
    assert converters is None


def test_metadata_pins_the_tensorflow_minor_it_was_built_against():
  from tftrt_masking import _build_info  # pylint: disable=import-outside-toplevel

  major, minor = tf_minor()
  assert tuple(int(p) for p in _build_info.TF_VERSION.split(".")[:2]) == (major, minor)
  assert metadata.version("tftrt-masking").endswith(f"+tf{major}.{minor}")
  (tensorflow,) = [r for r in metadata.requires("tftrt-masking")
                   if r.split(";")[0].replace(" ", "").startswith("tensorflow<")
                   or r.split(";")[0].replace(" ", "").startswith("tensorflow>")]
  specifiers = set(tensorflow.replace("tensorflow", "", 1).replace(" ", "").split(","))
  assert specifiers == {f">={major}.{minor}", f"<{major}.{minor + 1}"}, tensorflow


def test_seed_example_runs_from_outside_the_checkout(tmp_path):
  done = run([sys.executable, "-m", "tftrt_masking", "seed"], cwd=tmp_path)
  print(done.stdout)
  assert done.returncode == 0, done.stdout + done.stderr
  assert "seed example: all checks passed" in done.stdout


def test_console_script():
  script = Path(sys.prefix) / "bin" / "tftrt-masking"
  done = run([str(script), "--help"], cwd=Path(sys.prefix))
  assert done.returncode == 0, done.stderr
  for command in ("seed", "rewrite", "segments", "convert"):
    assert command in done.stdout


def test_saved_model_round_trip_in_a_fresh_process(tmp_path):
  """Export a model using our ops; in a fresh process, load_ops() then load it:
  same output. Without load_ops() TensorFlow does not know the ops."""
  import keras  # pylint: disable=import-outside-toplevel

  from tftrt_masking import rewrite  # pylint: disable=import-outside-toplevel

  rng = np.random.default_rng(20)
  x = rng.standard_normal((4, TIMESTEPS, FEATURES)).astype(np.float32)
  x[:, [2, 7], :] = 0.0
  x[1, 4:, :] = 0.0
  reference = keras.Sequential([keras.Input((TIMESTEPS, FEATURES)), keras.layers.Masking(0.0),
                                keras.layers.LSTM(UNITS)])
  ours, report = rewrite.rewrite_model(reference)
  assert sorted(e.new_class for e in report.replaced) == ["LSTM", "Masking"], report.summary()
  expected = np.asarray(reference(x))
  np.testing.assert_allclose(np.asarray(ours(x)), expected, rtol=0, atol=1e-6)
  ours.export(str(tmp_path / "model"), verbose=False)
  np.save(tmp_path / "x.npy", x)

  loader = """
import sys
import numpy as np
import tensorflow as tf
if sys.argv[1] == "load_ops":
  import tftrt_masking
  tftrt_masking.load_ops()
loaded = tf.saved_model.load("model")
out = loaded.serve(tf.constant(np.load("x.npy")))
np.save("out.npy", np.asarray(out))
"""
  done = run([sys.executable, "-c", loader, "load_ops"], cwd=tmp_path)
  assert done.returncode == 0, done.stderr
  np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=0, atol=1e-6)

  done = run([sys.executable, "-c", loader, "without"], cwd=tmp_path)
  assert done.returncode != 0
  assert "Op type not registered" in done.stderr, done.stderr[-2000:]
