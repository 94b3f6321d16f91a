"""Which optional libraries this configuration builds, from configure.py's findings.

One definition for every BUILD file that needs it (trt_converter, its tests, the
wheel): the TensorRT plugins need TensorRT 8 headers and the CUDA kernels; the
TF-TRT converters also need TF-TRT (TensorFlow <= 2.17).
"""

load("@local_config_cuda//:defs.bzl", "CUDA_AVAILABLE")
load("@local_config_tensorflow//:defs.bzl", "TF_TRT_AVAILABLE")
load("@local_config_tensorrt//:defs.bzl", "TENSORRT_AVAILABLE", "TENSORRT_VERSION")

PLUGINS_AVAILABLE = TENSORRT_AVAILABLE and TENSORRT_VERSION[0] == 8 and CUDA_AVAILABLE

CONVERTERS_AVAILABLE = PLUGINS_AVAILABLE and TF_TRT_AVAILABLE
