"""pytest_test: one Bazel py_test that runs one pytest file.

Uses the Python configure.py found (the project's virtual environment, first
on PATH). pytest writes JUnit XML where Bazel asks (XML_OUTPUT_FILE), so
scripts/summarize_tests.py can count test cases across all targets.
"""

def pytest_test(name, src, data = [], deps = [], **kwargs):
    native.py_test(
        name = name,
        srcs = ["//tests:pytest_runner.py", src],
        main = "//tests:pytest_runner.py",
        args = ["$(location %s)" % src],
        data = data + ["//tests:conftest.py"],
        deps = deps + ["//python:tftrt_masking"],
        python_version = "PY3",
        srcs_version = "PY3",
        **kwargs
    )
