# nosTorch.cmake - LibTorch from inside PyPI's torch wheel, for nos's build
# and for projects that find_package(nos) (installed beside nosConfig.cmake).
#
# PyPI's torch is a CUDA build whose CUDA runtime (headers and libcudart)
# comes as wheels beside it. Defining torch::cudart from those before
# find_package(Torch) makes torch's config skip its CUDA probe (which wants
# nvcc and links the toolkit's libcudart, whose version need not be the
# wheel's): one CUDA runtime, the one libtorch_cuda.so loads itself. A
# wheel without them (CPU-only) falls back to that probe.
function(nos_use_wheel_cudart site)
  file(GLOB libs "${site}/nvidia/*/lib/libcudart.so.*")
  list(FILTER libs INCLUDE REGEX "libcudart\\.so\\.[0-9]+$")
  if(NOT libs OR TARGET torch::cudart)
    return()
  endif()
  list(GET libs 0 lib)
  get_filename_component(root "${lib}" DIRECTORY)
  get_filename_component(root "${root}" DIRECTORY)
  add_library(torch::cudart INTERFACE IMPORTED GLOBAL)
  set_target_properties(torch::cudart PROPERTIES
    INTERFACE_LINK_LIBRARIES "${lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${root}/include")
  message(STATUS "nos: torch's CUDA runtime ${lib}")
endfunction()

# find_package(Torch) from `prefix`, torch.utils.cmake_prefix_path. A macro:
# Torch's variables (TORCH_LIBRARIES, Torch_VERSION) reach the caller.
macro(nos_find_torch prefix)
  # MKL is linked into the wheel's libtorch_cpu.so; torch's config would
  # still add an MKL root's lib folders (here /lib/intel64 and kin) to every
  # run path. Defined first, its target stays empty.
  if(NOT TARGET caffe2::mkl)
    add_library(caffe2::mkl INTERFACE IMPORTED GLOBAL)
  endif()
  get_filename_component(_nos_site "${prefix}/../../.." ABSOLUTE)
  nos_use_wheel_cudart("${_nos_site}")
  # First on the prefix path: TorchConfig finds Caffe2's config through it
  # (a Debian libtorch-dev would otherwise lend its own).
  list(PREPEND CMAKE_PREFIX_PATH "${prefix}")
  find_package(Torch REQUIRED CONFIG PATHS "${prefix}/Torch"
               NO_DEFAULT_PATH)
  if(Torch_VERSION VERSION_LESS 2.0)
    message(FATAL_ERROR "nos: needs PyTorch 2.x, found ${Torch_VERSION} in "
                        "${prefix}")
  endif()
endmacro()
