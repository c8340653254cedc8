// RUN: nos-opt %s -nos-expand-math | FileCheck %s
// exp, log and cos become polynomial arith code: no math call is left that
// would turn into a scalar libm call per element.

// CHECK-LABEL: func.func @transcendental
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: math.cos
// CHECK: arith.mulf
// CHECK: return
func.func @transcendental(%x: vector<8xf32>) -> vector<8xf32> {
  %0 = math.exp %x : vector<8xf32>
  %1 = math.log %0 : vector<8xf32>
  %2 = math.cos %1 : vector<8xf32>
  return %2 : vector<8xf32>
}
