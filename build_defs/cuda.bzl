"""cuda_library: compiles .cu files with the nvcc configure.py found.

Bazel 4 has no CUDA rules; each .cu becomes one position-independent object
through a genrule, wrapped in a cc_library that links the static CUDA runtime.
Without CUDA (configure.py found no nvcc) the target is an empty library and
CUDA_AVAILABLE is False, so callers can leave GPU registrations out.
"""

load("@local_config_cuda//:defs.bzl", "CUDA_ARCHS", "CUDA_AVAILABLE", "NVCC")

def _arch_number(arch):
    """80 for "80", 90 for "90a" (an arch with its arch-specific features)."""
    return int(arch.rstrip("a"))

def _gencode_flags(archs, min_arch = None):
    if not archs and min_arch:
        # No configured arch runs this code (e.g. TFTRT_MASKING_CUDA_ARCHS=80 and
        # Hopper-only kernels): PTX of min_arch keeps the launchers linkable; kernel
        # choice never launches them on the configured GPUs.
        return "-gencode=arch=compute_%s,code=compute_%s" % (min_arch, min_arch)
    flags = []
    for arch in archs:
        flags.append("-gencode=arch=compute_%s,code=sm_%s" % (arch, arch))
    if archs:
        # PTX of the newest arch so that later GPUs can JIT it; that of "90a"
        # would run on sm_90 only, so its plain family's ("90").
        last = str(_arch_number(archs[-1]))
        flags.append("-gencode=arch=compute_%s,code=compute_%s" % (last, last))
    return " ".join(flags)

def cuda_library(name, srcs, hdrs = [], deps = [], copts = [], min_arch = None, **kwargs):
    """A cc_library whose .cu sources are compiled by nvcc.

    min_arch: compile only for the configured archs >= this one (e.g. "90" for
    Hopper-only code such as thread-block clusters: with the default archs
    75,80,86,89,90a only the 90a SASS and compute_90 PTX); kernel choice
    (kernels/rnn/rnn_kernel_choice.h) never launches such kernels on older GPUs.
    """
    if not CUDA_AVAILABLE:
        native.cc_library(name = name, hdrs = hdrs, deps = deps, **kwargs)
        return
    archs = [a for a in CUDA_ARCHS if min_arch == None or _arch_number(a) >= _arch_number(min_arch)]
    objects = []
    for src in srcs:
        obj = "_%s_%s.pic.o" % (name, src.replace("/", "_").replace(".cu", ""))
        native.genrule(
            name = obj + "_nvcc",
            # Every kernel header: .cu files include across kernel folders.
            srcs = [src, "//kernels:all_headers"],
            outs = [obj],
            cmd = ("%s -c -O3 -std=c++17 --expt-relaxed-constexpr -Xcompiler -fPIC " +
                   "-D_GLIBCXX_USE_CXX11_ABI=1 -lineinfo %s %s -I. -I$(GENDIR) " +
                   "$(location %s) -o $@") % (NVCC, _gencode_flags(archs, min_arch), " ".join(copts), src),
        )
        objects.append(obj)
    native.cc_library(
        name = name,
        srcs = objects,
        hdrs = hdrs,
        deps = deps + ["@local_config_cuda//:cudart_static"],
        linkstatic = 1,
        **kwargs
    )
