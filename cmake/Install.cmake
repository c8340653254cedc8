# Install.cmake - install rules and the exported CMake package of nos.
#
# `cmake --install build --prefix P` puts the tools in P/bin, the libraries
# users link in P/lib, their headers in P/include/nos and a package that
# `find_package(nos CONFIG)` reads: nos::frontend (parser, built-in names,
# reference interpreter), nos::runtime (kernel ABI and executors),
# nos::compiler (the JIT facade; MLIR and LLVM stay private to its shared
# library) and, when torch is built, nos::torch (nos::Optimizer). The test
# suite builds examples/ against such an install (test/install/).
include(CMakePackageConfigHelpers)

set(NOS_EXPORTED NOSFrontend NOSRuntime NOSCompiler)
set_target_properties(NOSFrontend PROPERTIES EXPORT_NAME frontend)
set_target_properties(NOSRuntime PROPERTIES EXPORT_NAME runtime)
set_target_properties(NOSCompiler PROPERTIES EXPORT_NAME compiler)
set(NOS_TOOLS nosc)
if(NOS_ENABLE_TORCH)
  list(APPEND NOS_EXPORTED NOSTorch)
  set_target_properties(NOSTorch PROPERTIES EXPORT_NAME torch)
  list(APPEND NOS_TOOLS nos-train nos-search)
endif()

install(TARGETS ${NOS_EXPORTED} EXPORT nosTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ${NOS_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The headers of the exported libraries only; train/, report/, search/ and
# studies/ belong to the tools and are not part of the package.
set(NOS_PUBLIC_HEADERS Args.h AST.h Builtins.h Check.h Compiler.h CpuExecutor.h
    CudaExecutor.h CudaHostRun.h Files.h Function.h Functions.def Hyper.h
    KernelABI.h Operand.h Operands.def OptimizerState.h Parser.h Philox.h
    Printer.h Reference.h Schedule.h StateBuffers.h Tokens.h)
list(TRANSFORM NOS_PUBLIC_HEADERS PREPEND ${PROJECT_SOURCE_DIR}/include/nos/)
install(FILES ${NOS_PUBLIC_HEADERS}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nos)
if(NOS_ENABLE_TORCH)
  install(FILES ${PROJECT_SOURCE_DIR}/include/nos/torch/Optimizer.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nos/torch)
endif()

set(NOS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nos)
install(EXPORT nosTargets NAMESPACE nos:: DESTINATION ${NOS_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/nosConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nosConfig.cmake INSTALL_DESTINATION ${NOS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nosConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nosConfig.cmake
        ${PROJECT_BINARY_DIR}/nosConfigVersion.cmake
        ${CMAKE_CURRENT_LIST_DIR}/nosTorch.cmake
        DESTINATION ${NOS_CMAKE_DIR})
