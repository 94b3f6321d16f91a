"""The tftrt_masking platform wheel (scripts/build_wheel.sh runs this).

Runs in a staging folder holding tftrt_masking/ with the compiled libraries and
_build_info.py beside its modules. As tensorflow-text and tensorflow-addons do:
the libraries are TensorFlow custom-op libraries, not Python extensions, so the
wheel is a platform wheel for any Python 3 (py3-none-<platform>) whose one hard
requirement is the TensorFlow minor the libraries were built against.
"""

import re
from pathlib import Path

import setuptools
from setuptools.command.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "tftrt_masking"


def build_info() -> dict:
  info = {}
  exec((PACKAGE / "_build_info.py").read_text(), info)  # pylint: disable=exec-used
  return info


def package_version(tf_version: str) -> str:
  """The package version with the TensorFlow minor as local label: 0.1.0+tf2.17."""
  text = (PACKAGE / "__init__.py").read_text()
  version = re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)
  return f"{version}+tf{tf_version_minor(tf_version)}"


def tf_version_minor(tf_version: str) -> str:
  return ".".join(tf_version.split(".")[:2])


class BinaryDistribution(setuptools.Distribution):
  """Holds binaries: the package goes to platlib, the wheel gets a platform tag."""

  def has_ext_modules(self):
    return True


class PlatformWheel(bdist_wheel):
  """Platform-specific (it ships .so files), Python-independent (no CPython ABI)."""

  def get_tag(self):
    _, _, platform = super().get_tag()
    return "py3", "none", platform


INFO = build_info()
MAJOR, MINOR = (int(p) for p in INFO["TF_VERSION"].split(".")[:2])

setuptools.setup(
    name="tftrt-masking",
    version=package_version(INFO["TF_VERSION"]),
    description="Keras Masking and masked LSTM/GRU/SimpleRNN as TensorFlow ops, "
    "with TF-TRT converters and TensorRT plugins",
    packages=setuptools.find_packages(include=["tftrt_masking", "tftrt_masking.*"]),
    package_data={"tftrt_masking": ["*.so"]},
    python_requires=">=3.9",
    # The libraries link this TensorFlow minor's C++ ABI: no other minor loads them.
    install_requires=[f"tensorflow>={MAJOR}.{MINOR},<{MAJOR}.{MINOR + 1}", "numpy"],
    extras_require={"tf_keras": [f"tf_keras>={MAJOR}.{MINOR},<{MAJOR}.{MINOR + 1}"]},
    entry_points={"console_scripts": ["tftrt-masking = tftrt_masking.__main__:main"]},
    cmdclass={"bdist_wheel": PlatformWheel},
    distclass=BinaryDistribution,
    zip_safe=False,
)
