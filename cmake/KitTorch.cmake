# KitTorch.cmake - the torch layer alone, against a prebuilt core.
#
# The GPU machine has its own PyTorch, CMake and a C++ compiler, but neither
# LLVM/MLIR 19 nor fmt, nlohmann-json, CLI11, Catch2 or zlib's headers, and
# the LibTorch this project links here (gigabytes) cannot be carried there.
# So the GPU kit (scripts/gpu-pack.sh) carries a torch-free install of the
# frontend, runtime and compiler (NOS_CORE_PREFIX), the header-only
# libraries and zlib's header (NOS_KIT_INCLUDE), and this
# file builds the torch layer there against the machine's own PyTorch
# (NOS_TORCH_PREFIX, its torch.utils.cmake_prefix_path): nos::Optimizer,
# child training, nos-train, nos-bench and the torch tests that need no
# search. scripts/gpu-torch-build.sh drives it; it is rehearsed here
# against the project's own wheel (docs/gpu.md).
find_package(Threads REQUIRED)
find_package(nos CONFIG REQUIRED PATHS "${NOS_CORE_PREFIX}" NO_DEFAULT_PATH)
if(nos_HAS_TORCH)
  message(FATAL_ERROR "nos: NOS_CORE_PREFIX must hold a torch-free build "
                      "(scripts/gpu-pack.sh makes one)")
endif()
add_library(NOSFrontend ALIAS nos::frontend)
add_library(NOSRuntime ALIAS nos::runtime)
add_library(NOSCompiler ALIAS nos::compiler)

# The header-only libraries, carried (gpu-torch-build.sh unpacks them);
# fmt in its header-only mode.
set(NOS_KIT_INCLUDE "${NOS_CORE_PREFIX}/kit/include" CACHE PATH
    "The carried header-only libraries and zlib's header")
foreach(dep fmt::fmt fmt::fmt-header-only nlohmann_json::nlohmann_json
        Catch2::Catch2 CLI11::CLI11)
  add_library(${dep} INTERFACE IMPORTED)
  set_target_properties(${dep} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${NOS_KIT_INCLUDE}")
endforeach()
set_target_properties(fmt::fmt fmt::fmt-header-only PROPERTIES
  INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
# zlib's library is on every Linux system; its header came with the kit.
find_library(NOS_KIT_LIBZ NAMES z libz.so.1 REQUIRED)
add_library(ZLIB::ZLIB INTERFACE IMPORTED)
set_target_properties(ZLIB::ZLIB PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${NOS_KIT_INCLUDE}"
  INTERFACE_LINK_LIBRARIES "${NOS_KIT_LIBZ}")

if(NOT NOS_TORCH_PREFIX)
  message(FATAL_ERROR "nos: give -DNOS_TORCH_PREFIX=<python -c 'import torch; "
                      "print(torch.utils.cmake_prefix_path)'>")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/nosTorch.cmake)
nos_find_torch("${NOS_TORCH_PREFIX}")
message(STATUS "nos: the torch layer against LibTorch ${Torch_VERSION} and "
               "the core in ${NOS_CORE_PREFIX}")

# The Python binding (nos.Optimizer) for this machine's Python, with the
# carried pybind11, where the interpreter has its headers.
set(NOS_PYBIND11_DIR "${NOS_KIT_INCLUDE}/pybind11/share/cmake/pybind11")
find_package(Python 3 COMPONENTS Interpreter Development.Module)
if(Python_Development.Module_FOUND AND EXISTS "${NOS_PYBIND11_DIR}")
  add_subdirectory(python)
else()
  message(STATUS "nos: the Python binding is not built: no headers for "
                 "${Python_EXECUTABLE}, or no carried pybind11")
endif()

add_subdirectory(report)
add_subdirectory(torch)
add_subdirectory(train)
add_subdirectory(tools/nos-train)
add_subdirectory(bench)
include(test/torch/Sources.cmake)
list(TRANSFORM NOS_TRAIN_TEST_SOURCES PREPEND test/)
add_executable(nos-torch-tests ${NOS_TRAIN_TEST_SOURCES})
target_link_libraries(nos-torch-tests PRIVATE NOSTrain NOSReport
                      Catch2::Catch2)
