"""Builds the C++ extension mlx_sparse._native; project metadata is in pyproject.toml."""
import glob
import sys

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

if sys.platform == "win32":
    compile_args, link_args = ["/O2"], []
else:
    compile_args = ["-O3", "-pthread"]
    link_args = ["-pthread"]

native = Pybind11Extension(
    "mlx_sparse._native",
    ["csrc/module.cpp"],
    depends=sorted(glob.glob("csrc/*.hpp")),
    cxx_std=17,
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=[native], cmdclass={"build_ext": build_ext})
