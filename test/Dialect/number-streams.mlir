// RUN: nos-opt %s -pass-pipeline='builtin.module(nos.rule(nos-number-streams))' | FileCheck %s
// Random ops are renumbered in pre-order from the yield: node first, lhs
// before rhs, whatever numbers the source gave them.

// CHECK-LABEL: nos.rule @preorder
// CHECK-DAG: nos.noise[1]
// CHECK-DAG: nos.drop %{{.*}}, 5.000000e-01[0]
// CHECK-DAG: nos.anoise[2]
nos.rule @preorder {
  %a = nos.noise [7]
  %d = nos.drop %a, 0.5 [3]
  %b = nos.anoise [9]
  %0 = nos.add %d, %b
  nos.yield %0
}
