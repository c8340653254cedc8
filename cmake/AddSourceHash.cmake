# AddSourceHash.cmake - nos_add_source_hash(), a header of one source hash
#
# nos_add_source_hash(TARGET MACRO HEADER SOURCES...) generates
# generated/HEADER in the current binary folder, defining MACRO as the hash
# of SOURCES (cmake/SourceHash.cmake, rerun at build time when one of them
# changes), and adds it to TARGET's private sources and include path. The
# kernel cache (lib/) and the level-results cache (train/) key on one each.
function(nos_add_source_hash target macro header)
  set(sources ${ARGN})
  list(SORT sources)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/generated/${header})
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${out} -DNAME=${macro}
            "-DSOURCES=${sources}"
            -P ${PROJECT_SOURCE_DIR}/cmake/SourceHash.cmake
    DEPENDS ${sources} ${PROJECT_SOURCE_DIR}/cmake/SourceHash.cmake
    COMMENT "Hashing the sources behind ${macro}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
  target_include_directories(${target} PRIVATE
                             ${CMAKE_CURRENT_BINARY_DIR}/generated)
endfunction()
