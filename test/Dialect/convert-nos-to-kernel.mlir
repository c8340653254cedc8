// RUN: nos-opt %s -convert-nos-to-kernel=vector-width=8 | FileCheck %s
// A rule becomes a C-callable kernel over the tensor table. Per tensor, two
// phases run one vector loop of 8 lanes: phase 0 over the whole chunks in
// place, phase 1 over the partial last chunk in zeroed stack buffers (w, g
// and each state slot copied in; all but g copied back). State is updated in
// place, w -= lr * U, and the body is emitted once: no scalar tail.

// CHECK-LABEL: func.func @momentum(%{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: !llvm.ptr)
// CHECK-SAME: nos.schedules = []
// CHECK-SAME: nos.state_slots = ["m", "ema0"]
// CHECK-SAME: nos.uses_random = false
// CHECK-COUNT-4: llvm.alloca %{{.*}} x f32 {alignment = 64 : i64}
// CHECK: scf.for
// CHECK: scf.for %[[PHASE:.*]] = %{{.*}} to %c2_i64 step %c1_i64
// CHECK: %[[REST:.*]] = arith.remsi %[[N:.*]], %[[W:.*]] : i64
// CHECK: %[[WHOLE:.*]] = arith.subi %[[N]], %[[REST]]
// CHECK: %[[BUF:.*]] = arith.cmpi ne, %[[PHASE]]
// CHECK: %[[PART:.*]] = arith.andi %[[BUF]]
// CHECK: scf.if %[[PART]] {
// CHECK-COUNT-4: "llvm.intr.memcpy"
// CHECK-NEXT: {{^ +}$}}
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[W]]
// CHECK: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr -> vector<8xf32>
// CHECK: llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : vector<8xf32>, !llvm.ptr
// CHECK: scf.if %[[PART]] {
// CHECK-COUNT-3: "llvm.intr.memcpy"
// CHECK-NEXT: {{^ +}$}}
// CHECK-NOT: -> f32
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

// Every draw of a rule shares one loop of five trips of two rounds: 4 i32
// counter words per draw and the two key words are its loop-carried values,
// so its code grows with the draws, not with ten rounds of each.
// CHECK-LABEL: func.func @two_draws
// CHECK: scf.for %{{.*}} = %{{.*}} to %c5_i64 step %{{.*}} iter_args({{.*}}) -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>)
// CHECK-COUNT-8: arith.mului_extended
// CHECK-NOT: arith.mului_extended
// CHECK: scf.yield
// CHECK-NOT: arith.mului_extended
// CHECK: math.cos
nos.rule @two_draws {
  %g = nos.g
  %n = nos.noise [0]
  %d = nos.drop %g, 0.5 [1]
  %0 = nos.add %n, %d
  nos.yield %0
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
