// RUN: nos-opt %s -convert-nos-to-gpu | FileCheck %s
// RUN: nos-opt %s -convert-nos-to-gpu=vector-width=4 | FileCheck %s --check-prefix=WIDE
// A rule becomes a gpu.func kernel: blocks stride over the chunk list,
// threads over a chunk's elements, NosArgs fields arrive as scalars.

// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @nos_kernels
// CHECK: gpu.func @momentum(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %[[COUNT:.*]]: i64, %[[LR:[^:]*]]: f32
// CHECK-SAME: kernel
// CHECK-SAME: nos.state_slots = ["m", "ema0"]
// CHECK: gpu.block_id x
// CHECK: gpu.grid_dim x
// CHECK: gpu.thread_id x
// CHECK: gpu.block_dim x
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[COUNT]] step %{{.*}} : i64
// CHECK: llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr, i64) -> !llvm.ptr, !llvm.struct<(i64, i64, i64)>
// CHECK: llvm.addrspacecast %{{.*}} : !llvm.ptr to !llvm.ptr<1>
// CHECK: scf.for
// CHECK-NOT: vector<
// CHECK: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// CHECK: arith.mulf %[[LR]]
// CHECK: gpu.return
// CHECK-NOT: nos.rule

// With 4 adjacent elements per thread: a vector loop, then a scalar tail.
// WIDE: gpu.func @momentum
// WIDE: arith.remsi
// WIDE: scf.for
// WIDE: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> vector<4xf32>
// WIDE: scf.for
// WIDE: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> f32
nos.rule @momentum {
  %g = nos.g
  %m = nos.m
  %e = nos.ema %g, 0.9
  %0 = nos.add %m, %e
  nos.yield %0
}
