"""Stand-in for a test that needs the TensorRT headers: says why it did not run."""
import sys

print(f"SKIPPED {' '.join(sys.argv[1:])}. Put the TensorRT 8.6 headers in "
      "third_party_local/tensorrt-8.6.1/include (or set TENSORRT_INCLUDE_DIR) and rerun "
      "configure.py to build and run it (trt_converter/README.md).")
