"""wheel_contents: what scripts/build_wheel.sh puts next to the Python package.

Writes `_build_info.py` (the TensorFlow version the libraries were built
against, and what they hold) and a manifest listing it and the libraries, paths
relative to bazel-bin. The manifest is rewritten with every configuration, so a
library left in bazel-bin by an earlier configuration never reaches a wheel.
"""

def _py_list(items):
    return "[" + ", ".join(['"%s"' % i for i in items]) + "]"

def _wheel_contents_impl(ctx):
    build_info = ctx.actions.declare_file(ctx.label.name + "/_build_info.py")
    ctx.actions.write(build_info, "\n".join([
        '"""Written by //pip_package:%s when the wheel was built; do not edit."""' % ctx.label.name,
        "",
        "# The op library links this TensorFlow's C++ ABI: it loads only into the same minor.",
        'TF_VERSION = "%s"' % ctx.attr.tf_version,
        "CUDA_KERNELS = %s" % ("True" if ctx.attr.cuda_archs else "False"),
        "CUDA_ARCHS = %s" % _py_list(ctx.attr.cuda_archs),
        'TENSORRT_HEADERS = "%s"' % ctx.attr.tensorrt_version,
        "LIBRARIES = %s" % _py_list([f.basename for f in ctx.files.libraries]),
        "",
    ]))
    manifest = ctx.actions.declare_file(ctx.label.name + ".txt")
    files = ctx.files.libraries + [build_info]
    ctx.actions.write(manifest, "\n".join([f.short_path for f in files]) + "\n")
    outputs = [manifest] + files
    return [DefaultInfo(files = depset(outputs), runfiles = ctx.runfiles(files = outputs))]

wheel_contents = rule(
    implementation = _wheel_contents_impl,
    attrs = {
        "libraries": attr.label_list(allow_files = [".so"]),
        "tf_version": attr.string(mandatory = True),
        "cuda_archs": attr.string_list(),
        "tensorrt_version": attr.string(),
    },
)
