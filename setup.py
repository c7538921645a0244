"""Builds the C++ extension mlx_sparse._native; project metadata is in pyproject.toml.

The extension is several translation units compiled in parallel (pybind11's
ParallelCompile; MLX_SPARSE_BUILD_JOBS sets the number of jobs, default: all cores). No -march flags: the wheel must run on any CPU of its architecture.
"""
import glob
import sys

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

ParallelCompile("MLX_SPARSE_BUILD_JOBS", default=0).install()

if sys.platform == "win32":
    compile_args, link_args = ["/O2"], []
else:
    compile_args = ["-O3", "-pthread"]
    link_args = ["-pthread"]

native = Pybind11Extension(
    "mlx_sparse._native",
    sorted(glob.glob("csrc/*.cpp")),
    depends=sorted(glob.glob("csrc/*.hpp")),
    cxx_std=17,
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=[native], cmdclass={"build_ext": build_ext})
