# PythonEnv.cmake - the project's Python environment: its interpreter,
# pybind11 and PyTorch 2.x (LibTorch from inside PyPI's wheel).
#
# scripts/venv.sh makes <source>/.venv; the build takes Python, pybind11 and
# LibTorch from whichever interpreter Python_EXECUTABLE names (that venv by
# default), so the C++ side and the Python package see one PyTorch. Debian's
# LibTorch 1.13 is never picked up: find_package(Torch) looks only inside
# the wheel.
set(NOS_VENV "${PROJECT_SOURCE_DIR}/.venv" CACHE PATH
    "Virtual environment with PyPI's torch (scripts/venv.sh)")
if(NOT DEFINED Python_EXECUTABLE AND EXISTS "${NOS_VENV}/bin/python")
  set(Python_EXECUTABLE "${NOS_VENV}/bin/python")
endif()
find_package(Python 3.11 REQUIRED COMPONENTS Interpreter Development.Module)

# What the interpreter prints for `code`; empty when it fails (no module).
function(nos_python_query out code)
  execute_process(COMMAND "${Python_EXECUTABLE}" -c "${code}"
                  OUTPUT_VARIABLE dir RESULT_VARIABLE rc ERROR_QUIET
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    set(dir "")
  endif()
  set(${out} "${dir}" PARENT_SCOPE)
endfunction()

nos_python_query(NOS_PYBIND11_DIR
                 "import pybind11; print(pybind11.get_cmake_dir())")

if(NOS_ENABLE_TORCH)
  nos_python_query(NOS_TORCH_PREFIX
                   "import torch.utils; print(torch.utils.cmake_prefix_path)")
  if(NOS_TORCH_PREFIX STREQUAL "")
    message(FATAL_ERROR
      "nos: ${Python_EXECUTABLE} cannot import torch. Run "
      "scripts/install-deps.sh (it makes .venv with PyPI's torch), pass "
      "-DPython_EXECUTABLE=<a python with torch 2.x>, or build without the "
      "torch parts: -DNOS_ENABLE_TORCH=OFF")
  endif()
  include(${CMAKE_CURRENT_LIST_DIR}/nosTorch.cmake)
  nos_find_torch("${NOS_TORCH_PREFIX}")
  # CMake adds the folders of linked libraries to the build's run paths but
  # not to installed ones: libNOSTorch.so and the tools find LibTorch there.
  list(APPEND CMAKE_INSTALL_RPATH "${TORCH_INSTALL_PREFIX}/lib")
  message(STATUS "nos: LibTorch ${Torch_VERSION} from ${NOS_TORCH_PREFIX}")
endif()
