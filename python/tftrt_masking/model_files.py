"""Model files of the rewrite: which format a path holds, the checks made
before anything is opened, the refusal of Python code stored in a model, and
writing without losing anything.

    model = load_keras_model("in.keras")           # refuses Lambda bytecode
    save_model(new_model, "out_saved_model", inputs=["in.keras"])

Reading:
- An input must be a regular file or a folder (os.stat, before any open): a
  FIFO would block the loader forever, a link to /dev/zero would be read until
  memory runs out.
- A model file stores a Lambda's function as marshalled Python bytecode.
  Keras 3 refuses it unless `safe_mode=False`; tf_keras does so only for
  .keras files: its legacy .h5 and SavedModel loaders reach
  `Lambda._parse_function_from_config` -> `generic_utils.func_load` (and
  `cell_wrappers`' the same way) outside any SafeModeScope, so the code runs.
  So the stored config is read as JSON first (.keras: config.json; .h5: the
  `model_config` attribute; SavedModel: every node of keras_metadata.pb) and
  any function stored as bytecode, in any nested model, is refused with the
  layer's name, unless `unsafe=True` (the CLI's --unsafe). The loaders then
  also run under safe mode (tf_keras: SafeModeScope) as a second guard.

Writing (save_model): never over an input (also through links, or when one
holds the other), never over an existing path unless `overwrite`; the model
is written into a temporary sibling folder, loaded back, and only then
renamed into place; a replaced path is removed only after that.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from tftrt_masking import _keras
from tftrt_masking.errors import RewriteError, UserError

KERAS_SUFFIX = ".keras"
H5_SUFFIXES = (".h5", ".hdf5")
FILE_SUFFIXES = (KERAS_SUFFIX,) + H5_SUFFIXES
SAVED_MODEL = "saved_model"
KERAS = "keras"
H5 = "h5"
# Larger config JSON / protos than this are refused before they are read:
# protobuf's own limit, and far beyond any real model's config.
MAX_METADATA_BYTES = 1 << 31
UNSAFE_FLAG = "--unsafe"


class ModelFileError(RewriteError):
  """A model file or output path that cannot be read or written as asked."""


class UnsafeModelError(ModelFileError):
  """The model file holds Python code that loading it would run."""

  def __init__(self, path, findings):
    self.findings = findings  # [(layer path, what is code)]
    named = "; ".join(f"layer '{layer}': {what}" for layer, what in findings[:5])
    more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
    super().__init__(
        f"{path} holds Python code that loading it would run ({named}{more}); refused, as "
        f"Keras' safe_mode does. Only if you trust its source, pass {UNSAFE_FLAG} to load it")


# ------------------------------------------------------------- input checks


def _kind_of(mode: int) -> str:
  for test, kind in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                     (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
    if test(mode):
      return kind
  return "not a regular file"


def _stat(path, role: str) -> os.stat_result:
  """os.stat (following links) with the failures said in words."""
  try:
    return os.stat(path)
  except FileNotFoundError:
    if os.path.islink(path):
      raise ModelFileError(f"{role} {path} is a link to {os.readlink(path)}, which does not "
                           "exist") from None
    raise ModelFileError(f"{role} {path} does not exist") from None
  except NotADirectoryError:
    raise ModelFileError(f"{role} {path} does not exist (a part of it is not a folder)") from None
  except PermissionError:
    raise ModelFileError(f"{role} {path} cannot be read: permission denied") from None
  except OSError as e:  # ELOOP, ENAMETOOLONG, EIO, ...
    raise ModelFileError(f"{role} {path} cannot be read: {e.strerror or e}") from None


def _check_text(text, role: str) -> None:
  if "\0" in str(text):
    raise ModelFileError(f"{role} {str(text)!r} is not a valid path (it holds a NUL byte)")


def check_input_path(path, role: str = "IN") -> Path:
  """The path of a regular file or folder; anything else is a ModelFileError.
  Only os.stat is used: nothing is opened."""
  text = os.fspath(path)
  if not str(text).strip():
    raise ModelFileError(f"{role} is empty: give a model file or a SavedModel folder")
  _check_text(text, role)
  info = _stat(text, role)
  if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
    raise ModelFileError(f"{role} {path} is {_kind_of(info.st_mode)}, not a model file or folder")
  if stat.S_ISDIR(info.st_mode) and not os.access(text, os.R_OK | os.X_OK):
    raise ModelFileError(f"{role} {path} cannot be read: permission denied")
  if stat.S_ISREG(info.st_mode) and not os.access(text, os.R_OK):
    raise ModelFileError(f"{role} {path} cannot be read: permission denied")
  return Path(text)


def _check_folder_entries(folder: Path, role: str) -> None:
  """Every entry of a SavedModel folder (links followed) is a file or folder."""
  for root, dirs, files in os.walk(folder):
    for name in dirs + files:
      entry = os.path.join(root, name)
      info = _stat(entry, f"{role}'s entry")
      if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise ModelFileError(f"{role} {folder} holds {entry}, which is {_kind_of(info.st_mode)}; "
                             "a SavedModel holds only files and folders")


def _is_saved_model(path: Path) -> bool:
  return path.is_dir() and ((path / "saved_model.pb").is_file()
                            or (path / "saved_model.pbtxt").is_file())


def model_format(path, role: str = "IN") -> str:
  """'saved_model', 'keras' or 'h5' for an existing input; ModelFileError otherwise."""
  path = check_input_path(path, role)
  if path.is_dir():
    if any(os.path.lexists(path / name) for name in ("saved_model.pb", "saved_model.pbtxt")):
      _check_folder_entries(path, role)  # e.g. a FIFO named saved_model.pb
    if not _is_saved_model(path):
      raise ModelFileError(f"{role} {path} is a folder without saved_model.pb: not a SavedModel; "
                           "give a .keras / .h5 file or a SavedModel folder")
    return SAVED_MODEL
  suffix = path.suffix.lower()
  if suffix == KERAS_SUFFIX:
    if not zipfile.is_zipfile(path):
      raise ModelFileError(f"{role} {path} is not a .keras archive (not a zip file); "
                           "was it written by model.save?")
    return KERAS
  if suffix in H5_SUFFIXES:
    with open(path, "rb") as f:
      signature = f.read(8)
    if signature != b"\x89HDF\r\n\x1a\n":
      raise ModelFileError(f"{role} {path} is not an HDF5 file (no HDF5 signature); "
                           "was it written by model.save?")
    return H5
  raise ModelFileError(f"{role} {path} is neither a .keras / .h5 file nor a SavedModel folder")


# ------------------------------------------------- Python code in model files


def _stored_configs(path: Path, file_format: str) -> list:
  """[(name of the model or layer, JSON object)]: every Keras config the file
  stores, read without any Keras loader."""
  if file_format == KERAS:
    with zipfile.ZipFile(path) as archive:
      try:
        info = archive.getinfo("config.json")
      except KeyError:
        raise ModelFileError(f"{path} is a zip file without config.json: not a .keras "
                             "model") from None
      if info.file_size > MAX_METADATA_BYTES:
        raise ModelFileError(f"{path}: its config.json is {info.file_size} bytes: refused")
      return [("", _json(archive.read(info), path))]
  if file_format == H5:
    import h5py  # pylint: disable=import-outside-toplevel

    try:
      with h5py.File(path, "r") as h5_file:
        config = h5_file.attrs.get("model_config")
    except OSError as e:  # h5py's errors name no file
      raise ModelFileError(f"{path} is not a readable HDF5 file ({_first_line(e)}); the file "
                           "is damaged or was not written by model.save") from None
    if config is None:
      raise ModelFileError(f"{path} holds no model config (a weights-only .h5?); save the whole "
                           "model with model.save")
    return [("", _json(config, path))]
  metadata_path = path / "keras_metadata.pb"
  if not metadata_path.is_file():
    return []  # no Keras model in it: load_keras_model says so
  if metadata_path.stat().st_size > MAX_METADATA_BYTES:
    raise ModelFileError(f"{metadata_path} is larger than 2 GiB: refused")
  from tf_keras.protobuf import saved_metadata_pb2  # pylint: disable=import-outside-toplevel

  metadata = saved_metadata_pb2.SavedMetadata()
  try:
    metadata.ParseFromString(metadata_path.read_bytes())
  except Exception as e:  # pylint: disable=broad-except
    raise ModelFileError(f"{metadata_path} is not a valid Keras metadata file "
                         f"({type(e).__name__}); the SavedModel is damaged") from None
  configs = []
  for node in metadata.nodes:
    if node.metadata:
      content = _json(node.metadata, metadata_path)
      name = ""
      if isinstance(content, dict) and not _layer_name(content):
        name = str(content.get("name", ""))
      configs.append((name, content))
  return configs


def _json(text, path):
  try:
    return json.loads(text)
  except (ValueError, RecursionError) as e:
    raise ModelFileError(f"{path}: its stored model config is not valid JSON "
                         f"({type(e).__name__}); the file is damaged") from None


def _layer_name(node: dict) -> str:
  config = node.get("config")
  if "class_name" in node and isinstance(config, dict) and isinstance(config.get("name"), str):
    return config["name"]
  return ""


def python_code_in_config(config, name: str = "") -> list:
  """[(layer path, what)] for every function a Keras config stores as Python
  bytecode: Keras 3 (and tf_keras .keras) write {"class_name": "__lambda__"};
  tf_keras' legacy configs write `<field>_type: "lambda"` beside the marshalled
  `<field>` (Lambda's function / output_shape / mask, cell wrappers'
  dropout_state_filter_visitor). Walked without recursion (configs can nest
  deeply)."""
  findings = []
  stack = [(config, [name] if name else [])]
  while stack:
    node, names = stack.pop()
    if isinstance(node, list):
      stack.extend((item, names) for item in reversed(node))
      continue
    if not isinstance(node, dict):
      continue
    layer = _layer_name(node)
    # (A SavedModel's metadata holds its own config again under model_config.)
    here = names + [layer] if layer and names[-1:] != [layer] else names
    where = "/".join(here) or "(model)"
    if node.get("class_name") == "__lambda__":
      findings.append((where, "a Python lambda stored as bytecode"))
    for key, value in node.items():
      if (isinstance(key, str) and key.endswith("_type") and value == "lambda"
          and key[:-len("_type")] in node):
        findings.append((where, f"'{key[:-len('_type')]}' is a Python lambda stored as bytecode"))
    stack.extend((value, here) for value in reversed(list(node.values())))
  return findings


def python_code_in_model_file(path, file_format: str | None = None) -> list:
  """[(layer path, what)]: the functions stored as bytecode anywhere in the
  model file (nested models too); [] when there is none."""
  path = Path(path)
  file_format = file_format or model_format(path)
  findings = []
  for name, config in _stored_configs(path, file_format):
    findings.extend(python_code_in_config(config, name))
  # A SavedModel stores each layer's config again in its own node: keep the
  # longest path of each finding.
  unique = []
  for layer, what in findings:
    longer = [l for l, w in findings if w == what and l != layer and l.endswith("/" + layer)]
    if not longer and (layer, what) not in unique:
      unique.append((layer, what))
  return unique


# ------------------------------------------------------------------- loading


def import_modules(modules) -> None:
  """Imports each module name or .py file path (the CLI's --import), so that
  the custom layers they register are known to the loaders."""
  for module in modules or ():
    label = f"--import {module}"
    try:
      if module.endswith(".py") or os.sep in module:
        path = check_input_path(module, "--import")
        if not path.is_file():
          raise ModelFileError(f"{label}: {module} is a folder, not a .py file")
        name = path.stem
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
          raise ModelFileError(f"{label}: {module} cannot be imported as a Python file")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(name, loaded)
        spec.loader.exec_module(loaded)
      else:
        importlib.import_module(module)
    except ModelFileError:
      raise
    except SystemExit as e:  # the module called sys.exit(): not the end of the rewrite
      raise ModelFileError(f"{label}: importing it called sys.exit({e.code!r})") from e
    except ModuleNotFoundError as e:
      raise ModelFileError(f"{label}: no module named {e.name!r} (is it on PYTHONPATH? a file "
                           "path must end in .py)") from e
    except Exception as e:  # pylint: disable=broad-except
      raise ModelFileError(f"{label}: importing it failed: {type(e).__name__}: "
                           f"{_first_line(e)}") from e


def _first_line(error, limit: int = 300) -> str:
  text = str(error).strip().splitlines()
  line = text[0] if text else type(error).__name__
  return line if len(line) <= limit else line[:limit] + "..."


def register_layers() -> None:
  """All our Keras serializable classes (the tf_keras ones are made lazily)."""
  from tftrt_masking.layers import bidirectional, masking, recurrent  # pylint: disable=import-outside-toplevel

  masking.tf_keras_masking_class()
  recurrent.tf_keras_recurrent_classes()
  bidirectional.tf_keras_bidirectional_class()


def _saved_by_keras_version(path: Path, file_format: str) -> str:
  """The keras_version a .keras (metadata.json) or .h5 (root attribute) file
  records, or '' when it cannot be read."""
  try:
    if file_format == KERAS:
      with zipfile.ZipFile(path) as archive:
        return str(json.loads(archive.read("metadata.json")).get("keras_version", ""))
    import h5py  # pylint: disable=import-outside-toplevel
    with h5py.File(path, "r") as h5_file:
      version = h5_file.attrs.get("keras_version", "")
      return version.decode() if isinstance(version, bytes) else str(version)
  except Exception:  # pylint: disable=broad-except
    return ""  # not readable here: the loaders say what is wrong


def _tf_keras_safe_mode(safe: bool):
  """tf_keras' SafeModeScope: its legacy loaders check it but never enter it."""
  try:
    from tf_keras.src.saving import serialization_lib  # pylint: disable=import-outside-toplevel
  except ImportError:
    return contextlib.nullcontext()
  return serialization_lib.SafeModeScope(safe)


_CUSTOM_HINT = ("; if the model uses custom layers, pass --import MODULE (or a .py file) that "
                "defines and registers them")


def load_keras_model(path, *, unsafe: bool = False):
  """Loads a Keras model from a .keras / .h5 file or a SavedModel folder.

  Refuses (UnsafeModelError) a file that stores Python bytecode unless
  `unsafe`. A SavedModel only holds a Keras model when tf_keras wrote it
  (model.save): Keras 3's model.export and tf.saved_model.save keep just the
  TF graph.
  """
  import keras  # pylint: disable=import-outside-toplevel

  file_format = model_format(path)
  path = Path(path)
  tf_keras = _keras.tf_keras_or_none()
  if file_format == SAVED_MODEL:
    if not (path / "keras_metadata.pb").is_file() or tf_keras is None:
      raise ModelFileError(
          f"the SavedModel {path} has no Keras model in it (no keras_metadata.pb: it was "
          "written by Keras 3's model.export or tf.saved_model.save, which keep only the TF "
          "graph). Rewrite the Keras model itself (.keras / .h5 file) instead.")
  if not unsafe:
    findings = python_code_in_model_file(path, file_format)
    if findings:
      raise UnsafeModelError(path, findings)
  safe_mode = not unsafe
  register_layers()
  if file_format == SAVED_MODEL:
    loaders = [("tf_keras", tf_keras)]
  else:
    loaders = [("Keras 3", keras)]
    if tf_keras is not None:
      # Keras 3 also reads tf_keras files; load them with tf_keras to keep the model tf_keras.
      if _saved_by_keras_version(path, file_format).startswith("2."):
        loaders.insert(0, ("tf_keras", tf_keras))
      else:
        loaders.append(("tf_keras", tf_keras))
  errors = []
  for label, module in loaders:
    scope = _tf_keras_safe_mode(safe_mode) if label == "tf_keras" else contextlib.nullcontext()
    try:
      with scope:
        return module.models.load_model(str(path), compile=False, safe_mode=safe_mode)
    except Exception as e:  # pylint: disable=broad-except
      errors.append((label, e))
  summary = "; ".join(f"{label}: {type(e).__name__}: {_first_line(e, 200)}" for label, e in errors)
  custom = any("Unknown layer" in str(e) or "Could not locate" in str(e)
               or "Unknown object" in str(e) for _, e in errors)
  details = "\n".join(f"{label}: {type(e).__name__}: {e}" for label, e in errors)
  raise ModelFileError(f"could not load {path} as a Keras model ({summary})"
                       + (_CUSTOM_HINT if custom else ""), details=details)


# ------------------------------------------------------------------- writing


def _real(path) -> str:
  return os.path.realpath(os.path.abspath(os.fspath(path)))


def _within(inner: str, outer: str) -> bool:
  return inner != outer and inner.startswith(outer.rstrip(os.sep) + os.sep)


def _same_file(a, b) -> bool:
  try:
    first, second = os.stat(a), os.stat(b)
  except OSError:
    return False
  return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def check_output_path(out, *, overwrite: bool = False, inputs=()) -> Path:
  """OUT as a Path, or a ModelFileError saying why nothing may be written there:
  empty, an input (or inside one, or holding one), an existing path without
  `overwrite`, a folder that is not a SavedModel, a missing or read-only
  parent folder."""
  text = os.fspath(out)
  if not str(text).strip():
    raise ModelFileError("OUT is empty: give the path of the file or folder to write")
  _check_text(text, "OUT")
  out = Path(text)
  if out.name in ("", ".", "..") or str(text).endswith(os.sep):
    raise ModelFileError(f"OUT {text} names an existing folder itself ('.', '..', '/' or a "
                         "trailing '/'): give the path of the file or folder to write")
  real_out = _real(out)
  for source in inputs:
    real_in = _real(source)
    if real_out == real_in or _same_file(out, source):
      raise ModelFileError(f"OUT {out} is the input {source}: an input is never written "
                           "over; choose another OUT")
    if _within(real_out, real_in):
      raise ModelFileError(f"OUT {out} is inside the input {source}: nothing is ever written "
                           "into an input; choose an OUT outside it")
    if _within(real_in, real_out):
      raise ModelFileError(f"OUT {out} holds the input {source}: replacing it would delete the "
                           "input; choose another OUT")
  parent = out.absolute().parent
  parent_info = _stat(parent, "OUT's folder")
  if not stat.S_ISDIR(parent_info.st_mode):
    raise ModelFileError(f"OUT's folder {parent} is not a folder")
  if not os.access(parent, os.W_OK | os.X_OK):
    raise ModelFileError(f"cannot write in {parent} (OUT's folder): permission denied or a "
                         "read-only file system; choose another OUT")
  if os.path.lexists(out):
    if not overwrite:
      raise ModelFileError(f"OUT {out} already exists and is left as it is: pass --overwrite "
                           "to replace it, or choose another OUT")
    try:
      info = os.stat(out)
    except OSError:
      return out  # a dangling link: replacing the link loses nothing
    if stat.S_ISDIR(info.st_mode):
      if os.listdir(out) and not _is_saved_model(out):
        raise ModelFileError(f"OUT {out} is a folder that holds no SavedModel: --overwrite "
                             "replaces only a file or a SavedModel folder; choose another OUT")
    elif not stat.S_ISREG(info.st_mode):
      raise ModelFileError(f"OUT {out} is {_kind_of(info.st_mode)}: not replaced")
  return out


def _flavour_module(model):
  import keras  # pylint: disable=import-outside-toplevel

  if isinstance(model, keras.Model):
    return keras
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is not None and isinstance(model, tf_keras.Model):
    return tf_keras
  raise RewriteError(f"save: expected a Keras 3 or tf_keras Model, got {type(model).__name__}")


def _write(model, out: Path) -> str:
  """Writes `model` to `out`: a .keras / .h5 file by suffix, else a SavedModel
  folder (Keras 3: model.export; tf_keras: model.save in the TF format)."""
  import keras  # pylint: disable=import-outside-toplevel

  module = _flavour_module(model)
  if out.suffix.lower() in FILE_SUFFIXES:
    model.save(str(out))
    return f"{out.suffix[1:]} file"
  if module is keras:
    model.export(str(out), verbose=False)
    return "SavedModel (Keras 3 export: signature 'serve' / 'serving_default')"
  model.save(str(out), save_format="tf")
  return "SavedModel (tf_keras; loads with tf_keras.models.load_model too)"


def _load_back(model, written: Path, unsafe: bool) -> None:
  """Loads what was written, the way a user would; raises if it does not load."""
  if written.is_dir():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from tftrt_masking import _loader  # pylint: disable=import-outside-toplevel

    _loader.load_ops()
    tf.saved_model.load(str(written))
    return
  module = _flavour_module(model)
  register_layers()
  scope = (_tf_keras_safe_mode(not unsafe) if module is _keras.tf_keras_or_none()
           else contextlib.nullcontext())
  with scope:
    module.models.load_model(str(written), compile=False, safe_mode=not unsafe)


def _swap_in(staged: Path, out: Path, staging: Path, overwrite: bool) -> None:
  """Renames `staged` to `out`. An existing `out` (allowed by `overwrite`) is
  first moved into `staging` (deleted with it later), and put back if the
  rename fails."""
  if os.path.lexists(out):
    if not overwrite:
      raise ModelFileError(f"OUT {out} appeared while it was being written; left as it is")
    old = staging / ".replaced"
    os.rename(out, old)
    try:
      os.rename(staged, out)
    except OSError:
      os.rename(old, out)
      raise
    return
  if staged.is_dir():
    os.rename(staged, out)
    return
  try:
    os.link(staged, out)  # fails rather than replace a file that appeared meanwhile
  except FileExistsError:
    raise ModelFileError(f"OUT {out} appeared while it was being written; left as it is") from None
  except OSError:
    os.rename(staged, out)  # a file system without hard links


def write_atomically(out, write, *, overwrite: bool = False, inputs=(), check=None,
                     what: str = "model"):
  """The one way this package writes user-visible output. `out` must pass
  check_output_path; write(staged_path) writes into a temporary sibling of
  `out`, check(staged_path) (if given) must accept it, and only then is it
  renamed to `out` (an existing `out`, allowed by `overwrite`, is removed after
  the rename). On any failure `out` is left as it was and the temporary folder
  is removed. Returns what write() returned."""
  out = check_output_path(out, overwrite=overwrite, inputs=inputs)
  parent = out.absolute().parent
  try:
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
  except OSError as e:
    raise ModelFileError(f"cannot write in {parent} (OUT's folder): {e.strerror or e}") from None
  try:
    staged = staging / out.name
    try:
      result = write(staged)
    except UserError:
      raise
    except (OSError, ValueError, TypeError) as e:
      raise ModelFileError(f"could not write {out}: {type(e).__name__}: {_first_line(e)}; "
                           "nothing was written", details=str(e)) from e
    if not os.path.lexists(staged):
      raise ModelFileError(f"writing the {what} for {out} produced nothing; nothing was written")
    if check is not None:
      try:
        check(staged)
      except Exception as e:  # pylint: disable=broad-except
        raise ModelFileError(f"the {what} written for {out} does not load back "
                             f"({type(e).__name__}: {_first_line(e)}); OUT left as it was",
                             details=str(e)) from e
    _swap_in(staged, out, staging, overwrite)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  return result


def save_model(model, out, *, overwrite: bool = False, inputs=(), unsafe: bool = False) -> str:
  """Writes `model` to `out` (.keras / .h5 file by suffix, else a SavedModel
  folder) through write_atomically: never over one of `inputs`, over an
  existing path only with `overwrite`, loaded back before it is renamed into
  place. Returns what was written, in words."""
  written = write_atomically(out, lambda staged: _write(model, staged), overwrite=overwrite,
                             inputs=inputs, check=lambda staged: _load_back(model, staged, unsafe))
  return f"{written} {out}"
