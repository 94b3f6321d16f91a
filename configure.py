#!/usr/bin/env python3
"""Non-interactive configure step: finds TensorFlow, CUDA and TensorRT headers.

Run it with the Python that has TensorFlow installed (the setup scripts use the
project's virtual environment). It writes:
  third_party/local_config/tensorflow  local repository over the pip package's
                                        headers and libraries
  third_party/local_config/cuda         nvcc, cudart and the target GPU archs
  third_party/local_config/tensorrt     TensorRT headers (NvInfer.h ...)
  third_party/local_config/platforms    Bazel's own `platforms` repository
  .tf_configure.bazelrc                 compile flags (from tf.sysconfig) and the
                                        Python the tests run under
Every repository has a defs.bzl saying whether the dependency was found, so the
BUILD files keep targets that need a missing dependency out of the build, and
this script says which ones.

Environment overrides:
  TFTRT_MASKING_CUDA=0            build without CUDA kernels even if nvcc exists
  CUDA_HOME / CUDA_PATH           CUDA install prefix (else nvcc on PATH, /usr/local/cuda)
  TFTRT_MASKING_CUDA_ARCHS        GPU archs to build SASS for (default DEFAULT_CUDA_ARCHS below; PTX
                                  of the newest one's plain family is embedded too)
  TENSORRT_INCLUDE_DIR            directory holding NvInfer.h
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOCAL_CONFIG = ROOT / "third_party" / "local_config"
BAZELRC = ROOT / ".tf_configure.bazelrc"
# TF 2.17 links TensorRT 8.6 (libnvinfer.so.8.6.1); converters must use its headers.
TF_TRT_MAX_TF_VERSION = (2, 17)
TF_TRT_TENSORRT_MAJOR = 8
BAZEL_PLATFORMS_DIRS = ("/usr/share/bazel/platforms",)
# SASS for every GPU class TF-TRT with TensorRT 8.6 runs on, plus compute_90 PTX:
#   75  T4 (Turing)                    the portable kernels, no tensor-core mma.sync of bf16
#   80  A100, A30                      portable kernels
#   86  A10, A40, RTX 30xx             portable kernels; also what Jetson AGX Orin (8.7) runs,
#                                      as SASS of 8.6 runs on 8.7 (a Jetson build on the
#                                      device itself may set "87")
#   89  L4, L40, RTX 40xx              portable kernels
#   90a H100, H200 (Hopper)            the Hopper kernels (clusters, wgmma, bulk copies) too
#   compute_90 PTX                     newer GPUs (Blackwell) JIT-compile it: the sm_90 code
#                                      without the 90a-only wgmma
# Hopper-only kernels are compiled for 90a only (build_defs/cuda.bzl's min_arch) and never
# chosen below compute capability 9 (kernels/rnn/rnn_kernel_choice.h). A narrower list builds
# faster (e.g. TFTRT_MASKING_CUDA_ARCHS=90a for an H100 alone); a GPU whose class is not in the
# list gets no kernel image and the ops' GPU kernels fail with a clear CUDA error.
DEFAULT_CUDA_ARCHS = "75,80,86,89,90a"


@dataclasses.dataclass
class TensorFlowInfo:
  version: str
  include_dir: Path
  lib_dir: Path
  compile_flags: list
  has_tf_trt: bool  # tf2tensorrt headers and libtensorflow_cc present, TF <= 2.17
  tf_trt_reason: str
  eigen_tanh_float: str  # which float tanh algorithm TensorFlow's Eigen has


@dataclasses.dataclass
class CudaInfo:
  nvcc: Path
  version: str
  cudart_static: Path
  archs: list


@dataclasses.dataclass
class TensorRTInfo:
  include_dir: Path
  version: tuple


def say(msg: str) -> None:
  print(f"configure: {msg}", flush=True)


def find_tensorflow() -> TensorFlowInfo:
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  try:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
  except ImportError as e:
    sys.exit(f"configure: TensorFlow is not importable from {sys.executable} ({e}).\n"
             "  Run scripts/setup.sh, or run configure.py with the Python that has "
             "tensorflow installed.")
  include_dir = Path(tf.sysconfig.get_include())
  lib_dir = Path(tf.sysconfig.get_lib())
  version = tf.__version__
  major_minor = tuple(int(p) for p in version.split(".")[:2])
  converter_header = include_dir / "tensorflow/compiler/tf2tensorrt/convert/op_converter.h"
  if major_minor > TF_TRT_MAX_TF_VERSION:
    has_trt, reason = False, f"TensorFlow {version} has no TF-TRT (2.17 was the last)"
  elif not converter_header.exists():
    has_trt, reason = False, f"{converter_header} is missing"
  elif not (lib_dir / "libtensorflow_cc.so.2").exists():
    has_trt, reason = False, f"{lib_dir}/libtensorflow_cc.so.2 is missing"
  else:
    has_trt, reason = True, ""
  return TensorFlowInfo(version, include_dir, lib_dir, tf.sysconfig.get_compile_flags(),
                        has_trt, reason, eigen_tanh_float(include_dir))


def eigen_tanh_float(include_dir: Path) -> str:
  """Which float tanh TensorFlow's Eigen computes: the CPU kernel reproduces it bit
  for bit. 'rminimax_9_8' (newer Eigen, e.g. TF 2.21's) or 'rational_13_6' (TF 2.17's)."""
  header = include_dir / "Eigen/src/Core/arch/Default/GenericPacketMathFunctions.h"
  text = header.read_text() if header.exists() else ""
  start = text.find("ptanh_float(")
  body = text[start:text.find("\n}", start)] if start >= 0 else ""
  return "rminimax_9_8" if "rminimax" in body else "rational_13_6"


def find_nvcc():
  if os.environ.get("TFTRT_MASKING_CUDA", "1") == "0":
    return None, "TFTRT_MASKING_CUDA=0"
  candidates = []
  for var in ("CUDA_HOME", "CUDA_PATH"):
    if os.environ.get(var):
      candidates.append(Path(os.environ[var]) / "bin" / "nvcc")
  on_path = shutil.which("nvcc")
  if on_path:
    candidates.append(Path(on_path))
  candidates.append(Path("/usr/local/cuda/bin/nvcc"))
  for nvcc in candidates:
    # A wrapper script on PATH has no toolkit beside it: keep looking.
    if nvcc.exists() and (nvcc.resolve().parent.parent / "include/cuda_runtime_api.h").exists():
      return nvcc.resolve(), ""
  return None, "nvcc not found (CUDA_HOME, PATH, /usr/local/cuda)"


def find_cuda():
  nvcc, reason = find_nvcc()
  if nvcc is None:
    return None, reason
  out = subprocess.run([str(nvcc), "--version"], capture_output=True, text=True).stdout
  match = re.search(r"release (\d+\.\d+)", out)
  version = match.group(1) if match else "unknown"
  prefix = nvcc.parent.parent
  cudart = None
  for sub in ("lib64", "lib", "targets/x86_64-linux/lib", "targets/sbsa-linux/lib"):
    candidate = prefix / sub / "libcudart_static.a"
    if candidate.exists():
      cudart = candidate.resolve()
      break
  if cudart is None:
    return None, f"libcudart_static.a not found under {prefix}"
  archs = [a.strip() for a in os.environ.get("TFTRT_MASKING_CUDA_ARCHS", DEFAULT_CUDA_ARCHS).split(",")
           if a.strip()]
  return CudaInfo(nvcc, version, cudart, archs), ""


def tensorrt_version(include_dir: Path) -> tuple:
  text = (include_dir / "NvInferVersion.h").read_text()
  parts = []
  for key in ("MAJOR", "MINOR", "PATCH"):
    match = re.search(rf"#define\s+NV_TENSORRT_{key}\s+(\d+)", text)
    if not match:  # TensorRT 10+ spells them TRT_<KEY>_ENTERPRISE
      match = re.search(rf"#define\s+TRT_{key}_\w+\s+(\d+)", text)
    parts.append(int(match.group(1)) if match else 0)
  return tuple(parts)


def find_tensorrt():
  candidates = []
  if os.environ.get("TENSORRT_INCLUDE_DIR"):
    candidates.append(Path(os.environ["TENSORRT_INCLUDE_DIR"]))
  candidates += sorted(ROOT.glob("third_party_local/tensorrt-*/include"), reverse=True)
  candidates += [Path("/usr/include/x86_64-linux-gnu"), Path("/usr/local/TensorRT/include"),
                 Path("/usr/local/tensorrt/include"), Path("/usr/include")]
  for include_dir in candidates:
    if (include_dir / "NvInfer.h").exists() and (include_dir / "NvInferVersion.h").exists():
      return TensorRTInfo(include_dir.resolve(), tensorrt_version(include_dir)), ""
  return None, ("NvInfer.h not found (set TENSORRT_INCLUDE_DIR, or see README: "
                "'TensorRT headers')")


def write_repo(name: str, build: str, defs: str, links: dict) -> None:
  repo = LOCAL_CONFIG / name
  if repo.exists():
    shutil.rmtree(repo)
  repo.mkdir(parents=True)
  (repo / "WORKSPACE").write_text(f'workspace(name = "local_config_{name}")\n')
  (repo / "BUILD").write_text('package(default_visibility = ["//visibility:public"])\n\n' + build)
  (repo / "defs.bzl").write_text('"""Written by configure.py; do not edit."""\n\n' + defs)
  for link, target in links.items():
    (repo / link).symlink_to(target)


def bzl_list(items) -> str:
  return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def write_tensorflow_repo(tf: TensorFlowInfo) -> None:
  defines = [f[2:] for f in tf.compile_flags if f.startswith("-D")]
  build = f"""\
cc_library(
    name = "tf_header_lib",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.inc",
                 "include/Eigen/**", "include/unsupported/**", "include/absl/**"]),
    includes = ["include"],
    defines = {bzl_list(defines)},
)

cc_library(
    name = "libtensorflow_framework",
    linkopts = ["-L{tf.lib_dir}", "-l:libtensorflow_framework.so.2"],
)

# Converter::* and OpConverterParams live here (TF-TRT converters need both libs).
cc_library(
    name = "libtensorflow_cc",
    linkopts = ["-L{tf.lib_dir}", "-l:libtensorflow_cc.so.2"],
)
"""
  defs = (f'TF_VERSION = "{tf.version}"\n'
          f"TF_TRT_AVAILABLE = {tf.has_tf_trt}\n"
          f'EIGEN_TANH_FLOAT = "{tf.eigen_tanh_float}"\n')
  write_repo("tensorflow", build, defs, {"include": tf.include_dir})


def write_cuda_repo(cuda) -> None:
  if cuda is None:
    write_repo("cuda", "", 'CUDA_AVAILABLE = False\nNVCC = ""\nCUDA_ARCHS = []\n', {})
    return
  build = f"""\
cc_library(
    name = "cudart_static",
    linkopts = ["{cuda.cudart_static}", "-ldl", "-lrt", "-lpthread"],
)

# CUDA headers for host-side code that calls the runtime directly (tests, plugins).
cc_library(
    name = "cuda_headers",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp"]),
    includes = ["include"],
)
"""
  defs = (f"CUDA_AVAILABLE = True\n"
          f'NVCC = "{cuda.nvcc}"\n'
          f'CUDA_VERSION = "{cuda.version}"\n'
          f"CUDA_ARCHS = {bzl_list(cuda.archs)}\n")
  write_repo("cuda", build, defs, {"include": cuda.nvcc.parent.parent / "include"})


def write_tensorrt_repo(trt) -> None:
  if trt is None:
    write_repo("tensorrt", "", "TENSORRT_AVAILABLE = False\nTENSORRT_VERSION = ()\n", {})
    return
  build = """\
cc_library(
    name = "tensorrt_headers",
    hdrs = glob(["include/*.h"]),
    includes = ["include"],
)
"""
  defs = (f"TENSORRT_AVAILABLE = True\n"
          f"TENSORRT_VERSION = {tuple(trt.version)}\n")
  write_repo("tensorrt", build, defs, {"include": trt.include_dir})


def write_platforms_repo() -> None:
  target = LOCAL_CONFIG / "platforms"
  for candidate in BAZEL_PLATFORMS_DIRS:
    if Path(candidate, "BUILD").exists() or Path(candidate, "WORKSPACE").exists():
      if target.is_symlink() or target.exists():
        target.unlink() if target.is_symlink() else shutil.rmtree(target)
      target.symlink_to(candidate)
      return
  sys.exit("configure: Bazel's `platforms` repository was not found in "
           f"{BAZEL_PLATFORMS_DIRS}; install Debian's bazel-bootstrap (scripts/setup.sh).")


def write_bazelrc(tf: TensorFlowInfo, cuda) -> None:
  venv_bin = Path(sys.executable).parent
  path = f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}"
  lines = ["# Written by configure.py; do not edit.",
           f"# TensorFlow {tf.version}, Python {sys.executable}"]
  for flag in tf.compile_flags:
    if flag.startswith("-I"):
      continue  # headers come through @local_config_tensorflow
    if flag.startswith("--std=") or flag.startswith("-std="):
      lines.append(f"build --cxxopt=-{flag.lstrip('-')}")
    else:
      lines.append(f"build --copt={flag}")
  lines += [
      f"build --action_env=PATH={path}",
      f"build --python_path={sys.executable}",
      f"test --test_env=PATH={path}",
      "test --test_env=TF_CPP_MIN_LOG_LEVEL=2",
  ]
  if cuda is not None:
    lines.append("build --define=with_cuda=true")
  BAZELRC.write_text("\n".join(lines) + "\n")


def main() -> int:
  tf = find_tensorflow()
  say(f"TensorFlow {tf.version}: {tf.include_dir} (Eigen float tanh: {tf.eigen_tanh_float})")
  cuda, cuda_reason = find_cuda()
  trt, trt_reason = find_tensorrt()
  LOCAL_CONFIG.mkdir(parents=True, exist_ok=True)
  write_tensorflow_repo(tf)
  write_cuda_repo(cuda)
  write_tensorrt_repo(trt)
  write_platforms_repo()
  write_bazelrc(tf, cuda)

  if cuda:
    newest = cuda.archs[-1].rstrip("a") if cuda.archs else ""
    say(f"CUDA {cuda.version}: {cuda.nvcc} (SASS {', '.join('sm_' + a for a in cuda.archs)}"
        f"{', PTX compute_' + newest if newest else ''}; narrow with TFTRT_MASKING_CUDA_ARCHS)")
  else:
    say(f"CUDA: not used ({cuda_reason}); GPU kernels are left out of the op library.")
  if trt:
    say(f"TensorRT headers {'.'.join(map(str, trt.version))}: {trt.include_dir}")
  else:
    say(f"TensorRT headers: not found ({trt_reason});")
  converters = bool(trt and tf.has_tf_trt and trt.version[0] == TF_TRT_TENSORRT_MAJOR)
  if converters:
    say("TF-TRT converters and TensorRT plugins: enabled (//trt_converter/...).")
  else:
    why = (tf.tf_trt_reason if not tf.has_tf_trt else trt_reason if trt is None else
           f"TF {tf.version} links TensorRT {TF_TRT_TENSORRT_MAJOR}.x, headers are "
           f"{'.'.join(map(str, trt.version))}")
    say(f"TF-TRT converters and TensorRT plugins: DISABLED ({why}). Their targets are "
        "left out and their tests skip.")
  say(f"wrote {BAZELRC.name} and {LOCAL_CONFIG.relative_to(ROOT)}/")
  return 0


if __name__ == "__main__":
  sys.exit(main())
