"""The command line as a user meets it: nothing of theirs lost or overwritten,
no code from a model file run, FIFOs and devices refused at once, every
failure one readable line with a non-zero exit code (--debug: the traceback),
--import for custom layers, segments' and convert's exit codes and messages.

Runs the CLI in this process (tftrt_masking.__main__.main), as
`python -m tftrt_masking` does after its imports.
"""

import hashlib
import os
import stat
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import keras
from tftrt_masking import _keras, load_ops, model_files
from tftrt_masking.__main__ import main as cli_main


@pytest.fixture(scope="module", autouse=True)
def op_library():
  load_ops()


def digest(path) -> str:
  """sha256 over a file, or over every file (names and bytes) of a folder."""
  path = Path(path)
  sha = hashlib.sha256()
  files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
  for file in files:
    sha.update(str(file.relative_to(path) if file != path else file.name).encode())
    sha.update(file.read_bytes())
  return sha.hexdigest()


def keras_model(units=3):
  return keras.Sequential([keras.Input((5, 2)), keras.layers.Masking(0.0),
                           keras.layers.LSTM(units)])


@pytest.fixture
def keras_file(tmp_path):
  path = tmp_path / "model.keras"
  keras_model().save(path)
  return path


def run(capsys, *argv):
  """(exit code, stdout, stderr lines that are not TensorFlow's own log)."""
  code = cli_main([str(a) for a in argv])
  captured = capsys.readouterr()
  err = [line for line in captured.err.splitlines() if line.strip()]
  return code, captured.out, err


def assert_one_line_error(code, err, command, *fragments):
  assert code != 0
  assert err, "no error message"
  assert not any("Traceback" in line for line in err), "\n".join(err)
  mine = [line for line in err if line.startswith(f"{command}: ")]
  assert len(mine) == 1, err
  for fragment in fragments:
    assert fragment in mine[0], mine[0]
  return mine[0]


def no_partial_left(folder):
  return not [p for p in Path(folder).iterdir() if ".partial-" in p.name]


# --- never over the input --------------------------------------------------------

def test_rewrite_in_in_leaves_the_input_intact(capsys, keras_file):
  before = digest(keras_file)
  for out in (keras_file, keras_file.parent / "." / keras_file.name):
    code, _, err = run(capsys, "rewrite", keras_file, out)
    assert_one_line_error(code, err, "rewrite", "is the input")
    code, _, err = run(capsys, "rewrite", keras_file, out, "--overwrite")
    assert_one_line_error(code, err, "rewrite", "is the input")
  assert digest(keras_file) == before


def test_rewrite_through_a_link_or_a_hard_link_leaves_the_input_intact(capsys, keras_file):
  before = digest(keras_file)
  (keras_file.parent / "link.keras").symlink_to(keras_file)
  os.link(keras_file, keras_file.parent / "hard.keras")
  for name in ("link.keras", "hard.keras"):
    code, _, err = run(capsys, "rewrite", keras_file, keras_file.parent / name, "--overwrite")
    assert_one_line_error(code, err, "rewrite", "is the input")
  assert digest(keras_file) == before


def test_tf_keras_saved_model_in_in_and_out_inside_in(capsys, tmp_path, tf_keras):
  source = tmp_path / "tfk_saved_model"
  tf_keras.Sequential([tf_keras.Input((5, 2)), tf_keras.layers.Masking(0.0),
                       tf_keras.layers.LSTM(3)]).save(str(source), save_format="tf")
  before = digest(source)
  cases = [(source, "is the input"), (source / "rewritten", "inside the input"),
           (source / "variables", "inside the input"), (tmp_path, "holds the input")]
  for out, fragment in cases:
    code, _, err = run(capsys, "rewrite", source, out, "--overwrite")
    assert_one_line_error(code, err, "rewrite", fragment)
  assert digest(source) == before


# --- never over an existing path without --overwrite -------------------------------

def test_existing_out_is_left_untouched(capsys, tmp_path, keras_file):
  other = tmp_path / "other.keras"
  keras_model(units=4).save(other)
  plain = tmp_path / "notes"  # a plain file without suffix
  plain.write_text("my notes")
  saved_model = tmp_path / "exported"
  keras_model(units=2).export(str(saved_model), verbose=False)
  user_folder = tmp_path / "user_folder"
  user_folder.mkdir()
  (user_folder / "thesis.tex").write_text("work of years")
  for out in (other, plain, saved_model, user_folder):
    before = digest(out)
    code, _, err = run(capsys, "rewrite", keras_file, out)
    assert_one_line_error(code, err, "rewrite", "already exists", "--overwrite")
    assert digest(out) == before
  # --overwrite never replaces a folder that is not a SavedModel.
  code, _, err = run(capsys, "rewrite", keras_file, user_folder, "--overwrite")
  assert_one_line_error(code, err, "rewrite", "holds no SavedModel")
  assert (user_folder / "thesis.tex").read_text() == "work of years"


def test_empty_out_is_refused(capsys, tmp_path, keras_file, monkeypatch):
  monkeypatch.chdir(tmp_path)
  before = sorted(p.name for p in tmp_path.iterdir())
  for out in ("", " ", ".", "..", "somewhere/"):
    code, _, err = run(capsys, "rewrite", keras_file, out)
    assert_one_line_error(code, err, "rewrite")
  assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_overwrite_swaps_in_a_loadable_model(capsys, rng, tmp_path, keras_file):
  out = tmp_path / "out.keras"
  keras_model(units=4).save(out)
  code, stdout, _ = run(capsys, "rewrite", keras_file, out, "--overwrite")
  assert code == 0, stdout
  from tftrt_masking import layers  # pylint: disable=import-outside-toplevel

  loaded = keras.models.load_model(out)
  assert type(loaded.layers[-1]) is layers.LSTM and loaded.layers[-1].units == 3
  x = rng.standard_normal((2, 5, 2)).astype(np.float32)
  np.testing.assert_allclose(loaded(x), keras.models.load_model(keras_file)(x), atol=1e-6)
  assert no_partial_left(tmp_path)
  # A SavedModel folder replaced by a SavedModel folder.
  saved_model = tmp_path / "saved_model"
  keras_model(units=2).export(str(saved_model), verbose=False)
  assert run(capsys, "rewrite", keras_file, saved_model, "--overwrite")[0] == 0
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  served = tf.saved_model.load(str(saved_model))  # referenced while it runs
  np.testing.assert_allclose(served.serve(x), loaded(x), atol=1e-6)
  assert no_partial_left(tmp_path)


def test_a_model_that_does_not_load_back_replaces_nothing(capsys, tmp_path, keras_file,
                                                          monkeypatch):
  out = tmp_path / "out.keras"
  keras_model(units=4).save(out)
  before = digest(out)

  def broken(*_):
    raise ValueError("simulated: the written file is damaged")

  monkeypatch.setattr(model_files, "_load_back", broken)
  code, _, err = run(capsys, "rewrite", keras_file, out, "--overwrite")
  assert_one_line_error(code, err, "rewrite", "does not load back", "simulated")
  assert digest(out) == before and no_partial_left(tmp_path)
  code, _, err = run(capsys, "rewrite", keras_file, tmp_path / "new.keras")
  assert_one_line_error(code, err, "rewrite", "does not load back")
  assert not (tmp_path / "new.keras").exists() and no_partial_left(tmp_path)


# --- no code from the model file ----------------------------------------------------

def marker_lambda(marker: Path):
  """A lambda whose bytecode writes `marker` (the path is a constant in it)."""
  return eval(f"lambda x: (open({str(marker)!r}, 'w').write('ran'), x)[1]")  # pylint: disable=eval-used


def lambda_model(k, marker, nested: bool):
  evil = k.layers.Lambda(marker_lambda(marker), name="evil")
  if nested:
    inner = k.Sequential([k.Input((5, 2)), evil], name="inner")
    return k.Sequential([k.Input((5, 2)), inner, k.layers.LSTM(3)])
  return k.Sequential([k.Input((5, 2)), evil, k.layers.LSTM(3)])


LAMBDA_FILES = [("tf_keras", ".h5", False), ("tf_keras", ".h5", True),
                ("tf_keras", "", True), ("tf_keras", ".keras", True),
                ("keras", ".keras", False), ("keras", ".keras", True), ("keras", ".h5", False)]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("flavour,suffix,nested", LAMBDA_FILES)
def test_lambda_code_is_not_run(capsys, tmp_path, flavour, suffix, nested):
  k = keras if flavour == "keras" else _keras.tf_keras_or_none()
  if k is None:
    pytest.skip("tf_keras is not installed")
  marker = tmp_path / "marker"
  source = tmp_path / f"model{suffix or '_saved_model'}"
  model = lambda_model(k, marker, nested)
  if suffix:
    model.save(str(source))
  else:
    model.save(str(source), save_format="tf")
  marker.unlink()  # building and saving ran it
  code, _, err = run(capsys, "rewrite", source, tmp_path / "out.keras")
  line = assert_one_line_error(code, err, "rewrite", "evil", "--unsafe")
  if nested:
    assert "inner/evil" in line
  assert not marker.exists(), "the Lambda's code ran"
  assert not (tmp_path / "out.keras").exists()


@pytest.mark.filterwarnings("ignore")
def test_unsafe_allows_lambda_code(capsys, tmp_path, tf_keras):
  """The marker is a working detector: with --unsafe tf_keras runs the code."""
  marker = tmp_path / "marker"
  source = tmp_path / "model.h5"
  lambda_model(tf_keras, marker, nested=True).save(str(source))
  marker.unlink()
  code, stdout, _ = run(capsys, "rewrite", source, tmp_path / "out.h5", "--unsafe")
  assert code == 0, stdout
  assert marker.exists()


@pytest.mark.filterwarnings("ignore")
def test_tf_keras_legacy_loaders_run_under_safe_mode(tmp_path, tf_keras, monkeypatch):
  """Second guard: were the config check to miss a Lambda, tf_keras' legacy
  loader still runs inside SafeModeScope and refuses it."""
  marker = tmp_path / "marker"
  source = tmp_path / "model.h5"
  lambda_model(tf_keras, marker, nested=False).save(str(source))
  marker.unlink()
  monkeypatch.setattr(model_files, "python_code_in_model_file", lambda *_: [])
  with pytest.raises(model_files.ModelFileError, match="could not load"):
    model_files.load_keras_model(source)
  assert not marker.exists()


def test_python_code_in_config_names_every_form():
  config = {"class_name": "Functional", "config": {"name": "outer", "layers": [
      {"class_name": "Lambda", "config": {"name": "a", "function": ["code", None, None],
                                          "function_type": "lambda",
                                          "output_shape": ["code"], "output_shape_type": "lambda"}},
      {"class_name": "Lambda", "config": {"name": "b", "function": "relu",
                                          "function_type": "function"}},
      {"class_name": "Bidirectional", "config": {"name": "c", "layer": {
          "class_name": "Lambda", "config": {"name": "d", "function": {
              "class_name": "__lambda__", "config": {"code": "..."}}}}}}]}}
  found = model_files.python_code_in_config(config)
  assert [layer for layer, _ in found] == ["outer/a", "outer/a", "outer/c/d"]
  assert "'output_shape'" in found[1][1]


# --- inputs that are not files or folders --------------------------------------------

def timed_cli(capsys, *argv):
  start = time.monotonic()
  code, _, err = run(capsys, *argv)
  return code, err, time.monotonic() - start


def test_fifo_and_device_inputs_are_refused_within_a_second(capsys, tmp_path):
  fifo = tmp_path / "x.keras"
  os.mkfifo(fifo)
  zero = tmp_path / "zero.keras"
  zero.symlink_to("/dev/zero")
  folder = tmp_path / "saved_model"
  folder.mkdir()
  os.mkfifo(folder / "saved_model.pb")
  for source, kind in ((fifo, "FIFO"), (zero, "character device"), (folder, "FIFO")):
    for command in (["rewrite", source, tmp_path / "out.keras"],
                    ["segments", source], ["convert", source, tmp_path / "converted"]):
      code, err, seconds = timed_cli(capsys, *command)
      assert_one_line_error(code, err, command[0], kind)
      assert seconds < 1.0, (command, seconds)
  # As OUT: a FIFO is never written through, even with --overwrite.
  code, err, _ = timed_cli(capsys, "rewrite", tmp_path / "missing.keras", fifo, "--overwrite")
  assert_one_line_error(code, err, "rewrite", "does not exist")


# --- failures that were raw tracebacks -------------------------------------------------

def read_only_folder(tmp_path) -> Path:
  folder = tmp_path / "read_only"
  folder.mkdir()
  folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
  if os.access(folder, os.W_OK):  # root: permission bits do not stop it
    return Path("/proc/self")
  return folder


def test_former_tracebacks_are_one_line(capsys, tmp_path, keras_file, tf_keras):
  plain = tmp_path / "plainfile"
  plain.write_text("x")
  damaged = tmp_path / "damaged_saved_model"
  tf_keras.Sequential([tf_keras.Input((5, 2)), tf_keras.layers.LSTM(3)]).save(
      str(damaged), save_format="tf")
  (damaged / "saved_model.pb").write_bytes(b"\x08\x01garbage" * 10)
  damaged_metadata = tmp_path / "damaged_metadata"
  tf_keras.Sequential([tf_keras.Input((5, 2)), tf_keras.layers.LSTM(3)]).save(
      str(damaged_metadata), save_format="tf")
  (damaged_metadata / "keras_metadata.pb").write_bytes(b"\xff" * 64)
  not_zip = tmp_path / "text.keras"
  not_zip.write_text("not a zip")
  read_only = read_only_folder(tmp_path)
  (tmp_path / "plain_folder").mkdir()
  cases = [
      (["rewrite", keras_file, plain], "already exists"),
      (["rewrite", keras_file, read_only / "out"], "cannot write"),
      (["rewrite", keras_file, read_only / "out.keras"], "cannot write"),
      (["rewrite", keras_file, tmp_path / "no" / "such" / "out.keras"], "does not exist"),
      (["rewrite", damaged, tmp_path / "out1"], "could not load"),
      (["rewrite", damaged_metadata, tmp_path / "out2"], "keras_metadata.pb"),
      (["rewrite", not_zip, tmp_path / "out3"], "not a .keras archive"),
      (["rewrite", tmp_path / "plain_folder", tmp_path / "out4"], "not a SavedModel"),
  ]
  for argv, fragment in cases:
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, "rewrite", fragment)
  assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == []


def test_debug_shows_the_traceback(capsys, tmp_path, keras_file):
  code, _, err = run(capsys, "rewrite", keras_file, keras_file, "--debug")
  assert code == 2
  assert any(line.startswith("Traceback") for line in err)
  assert err[-1].startswith("rewrite: ") and "is the input" in err[-1]
  code, _, err = run(capsys, "--debug", "rewrite", tmp_path / "missing.keras", tmp_path / "o")
  assert code == 2 and any(line.startswith("Traceback") for line in err)


# --- --import -----------------------------------------------------------------------

CUSTOM_LAYER_MODULE = '''
import keras

@keras.saving.register_keras_serializable(package="cli_test")
class Doubling(keras.layers.Layer):
  def call(self, x):
    return 2.0 * x
'''


def test_import_registers_custom_layers(capsys, rng, tmp_path, monkeypatch):
  module_file = tmp_path / "cli_test_layers.py"
  module_file.write_text(CUSTOM_LAYER_MODULE)
  monkeypatch.syspath_prepend(str(tmp_path))
  import importlib  # pylint: disable=import-outside-toplevel

  custom = importlib.import_module("cli_test_layers")
  model = keras.Sequential([keras.Input((5, 2)), custom.Doubling(), keras.layers.Masking(0.0),
                            keras.layers.LSTM(3)])
  source = tmp_path / "custom.keras"
  model.save(source)
  # As in a fresh process: the class is not registered until --import.
  registered = keras.saving.get_custom_objects()
  monkeypatch.delitem(registered, "cli_test>Doubling")
  monkeypatch.delitem(sys.modules, "cli_test_layers")
  code, _, err = run(capsys, "rewrite", source, tmp_path / "out_a.keras")
  assert_one_line_error(code, err, "rewrite", "could not load", "--import")
  for value in ("cli_test_layers", str(module_file)):
    monkeypatch.delitem(registered, "cli_test>Doubling", raising=False)
    out = tmp_path / f"out_{len(value)}.keras"
    code, stdout, err = run(capsys, "rewrite", "--import", value, source, out)
    assert code == 0, err
    assert "2 layer(s) replaced" in stdout
  x = rng.standard_normal((2, 5, 2)).astype(np.float32)
  np.testing.assert_allclose(keras.models.load_model(out)(x), model(x), atol=1e-6)
  code, _, err = run(capsys, "rewrite", "--import", "no_such_module_here", source,
                     tmp_path / "out_b.keras")
  assert_one_line_error(code, err, "rewrite", "no_such_module_here")
  code, _, err = run(capsys, "rewrite", "--import", str(tmp_path / "missing.py"), source,
                     tmp_path / "out_c.keras")
  assert_one_line_error(code, err, "rewrite", "missing.py", "does not exist")


# --- segments and convert ---------------------------------------------------------------

def test_segments_error_is_one_readable_line(capsys, tmp_path):
  damaged = tmp_path / "damaged"
  keras_model().export(str(damaged), verbose=False)
  (damaged / "saved_model.pb").write_bytes(b"\xff\xff garbage")
  code, stdout, err = run(capsys, "segments", damaged)
  line = assert_one_line_error(code, err, "segments", "cannot load the SavedModel")
  assert len(err) == 1 and not stdout, err  # no tail of the child's log
  assert len(line) < 700
  code, _, err = run(capsys, "segments", tmp_path / "missing")
  assert_one_line_error(code, err, "segments", "does not exist")
  code, _, err = run(capsys, "segments", damaged, "--debug")
  assert any("Traceback" in line for line in err)  # the child's traceback


def test_segments_on_a_graph_that_writes_variables(capsys, tmp_path):
  """Keras 3 LSTM(dropout=...) exports a seed variable write (issue 16, case 4)."""
  model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(3, dropout=0.5)])
  model.export(str(tmp_path / "dropout"), verbose=False)
  code, _, err = run(capsys, "segments", tmp_path / "dropout")
  if code == 0:
    pytest.skip("this Keras exports no variable write for dropout")
  assert_one_line_error(code, err, "segments", "writes variables", "AssignVariableOp")


def test_segment_summary_hides_unused_constants_unless_verbose():
  from tftrt_masking import segments  # pylint: disable=import-outside-toplevel

  unused = segments._NO_SEGMENT_REASON  # pylint: disable=protected-access
  report = segments.SegmentReport(
      "/m", "serving_default", 3, list(segments.OUR_OPS),
      [segments.EngineSegment("TRTEngineOp_000_000", [("m", "Masking"), ("l", "MaskedLSTM")])],
      [segments.TensorFlowNode("kernel_const", "Const", unused),
       segments.TensorFlowNode("shape_const", "Const", unused),
       segments.TensorFlowNode("x", "Placeholder", unused),
       segments.TensorFlowNode("dbl", "Cast", "Unsupported data type DT_DOUBLE")])
  short = report.summary()
  assert "kernel_const" not in short and "shape_const" not in short
  assert "x (Placeholder)" in short and "dbl (Cast)" in short
  assert "2 constant(s)" in short and "--verbose" in short
  verbose = report.summary(verbose=True)
  assert "kernel_const (Const)" in verbose and "shape_const (Const)" in verbose


def test_convert_rejects_flags_it_would_ignore(capsys, tmp_path):
  saved_model = tmp_path / "saved_model"
  keras_model().export(str(saved_model), verbose=False)
  for flags, fragment in ((["--batch-sizes", "1,8"], "--batch-sizes needs --time-steps"),
                          (["--time-steps", "10"], "--time-steps needs --batch-sizes")):
    code, _, err = run(capsys, "convert", saved_model, tmp_path / "out", *flags)
    assert_one_line_error(code, err, "convert", fragment)
  with pytest.raises(SystemExit) as exit_info:
    cli_main(["convert", str(saved_model), str(tmp_path / "out"), "--minimum-segment-size", "0"])
  assert exit_info.value.code == 2
  assert not (tmp_path / "out").exists()


def test_convert_without_tensorrt_exits_non_zero_and_reports(capsys, tmp_path):
  from tftrt_masking import conversion  # pylint: disable=import-outside-toplevel

  if conversion.tensorrt_available()[0]:
    pytest.skip("TensorRT is available here: convert would really convert")
  saved_model = tmp_path / "saved_model"
  keras_model().export(str(saved_model), verbose=False)
  code, stdout, err = run(capsys, "convert", saved_model, tmp_path / "out")
  assert code == 1
  assert stdout.splitlines()[0].startswith("convert: ") and "nothing converted" in stdout
  assert_one_line_error(code, err, "convert", "nothing converted")
  assert "TensorRT engine(s):" in stdout  # the offline report is still printed
  assert not (tmp_path / "out").exists()
  existing = tmp_path / "existing"
  existing.mkdir()
  code, _, err = run(capsys, "convert", saved_model, existing)
  assert_one_line_error(code, err, "convert", "already exists")
