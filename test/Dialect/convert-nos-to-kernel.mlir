// RUN: nos-opt %s -convert-nos-to-kernel=vector-width=8 | FileCheck %s
// A rule becomes a C-callable kernel over the tensor table: a vector loop of
// 8 lanes and a scalar tail, state updated in place, w -= lr * U.

// CHECK-LABEL: func.func @momentum(%{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: !llvm.ptr)
// CHECK-SAME: nos.schedules = []
// CHECK-SAME: nos.state_slots = ["m", "ema0"]
// CHECK-SAME: nos.uses_random = false
// CHECK: scf.for
// CHECK: arith.remsi
// CHECK: scf.for
// CHECK: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr -> vector<8xf32>
// CHECK: llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : vector<8xf32>, !llvm.ptr
// CHECK: scf.for
// CHECK: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr -> f32
// CHECK-NOT: nos.
nos.rule @momentum {
  %g = nos.g
  %m = nos.m
  %e = nos.ema %g, 0.9
  %0 = nos.add %m, %e
  nos.yield %0
}

// Random ops lower to Philox rounds on i32 lanes.
// CHECK-LABEL: func.func @noisy
// CHECK-SAME: nos.uses_random = true
// CHECK: arith.mului_extended %{{.*}}, %{{.*}} : vector<8xi32>
// CHECK: math.cos
nos.rule @noisy {
  %n = nos.noise [0]
  nos.yield %n
}

// Schedules come from NosArgs::sched in layout order.
// CHECK-LABEL: func.func @scheduled
// CHECK-SAME: nos.schedules = {{\[\[}}"cd", 2.000000e+00], {{\[}}"ld", 0.000000e+00]]
nos.rule @scheduled {
  %c = nos.cd 2.0
  %l = nos.ld
  %0 = nos.mul %c, %l
  nos.yield %0
}
