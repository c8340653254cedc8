//===- Printer.h - Print update rules ---------------------------*- C++ -*-===//
//
// The canonical infix printer, structural equality and the tree dump of
// nosc --emit=ast (lib/Frontend/Printer.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NOS_PRINTER_H
#define NOS_PRINTER_H

#include "nos/AST.h"

#include <string>

namespace nos {

/// Prints a rule in the canonical infix form: minimal parentheses, literals
/// in shortest round-trip form; parseRule(printRule(e)) is structurally equal
/// to e.
std::string printRule(const Expr &e);

/// Structural equality (ignores source locations).
bool structurallyEqual(const Expr &a, const Expr &b);

/// Prints the tree one node per line with locations (nosc --emit=ast).
std::string dumpTree(const Expr &e);

} // namespace nos

#endif // NOS_PRINTER_H
