//===- main.cpp - Catch2 entry point of the unit tests --------------------===//
//
// The only translation unit that defines CATCH_CONFIG_MAIN, so every test
// file can be compiled on its own.
//
//===----------------------------------------------------------------------===//

#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
