// RUN: nos-opt %s | nos-opt | FileCheck %s
// Every op parses and prints back to the same text.

// CHECK-LABEL: nos.rule @all_ops
nos.rule @all_ops {
  // CHECK: %[[G:.*]] = nos.g
  %g = nos.g
  %g2 = nos.g2
  %g3 = nos.g3
  %m = nos.m
  %v = nos.v
  %gamma = nos.gamma
  %w = nos.w
  %adam = nos.adam
  %rms = nos.rmsprop
  // CHECK: nos.noise[0]
  %noise = nos.noise [0]
  // CHECK: nos.anoise[1]
  %anoise = nos.anoise [1]
  %ld = nos.ld
  // CHECK: nos.cd 5.000000e-01
  %cd = nos.cd 0.5
  %rd = nos.rd 1.0
  // CHECK: nos.constant 2.000000e+00
  %two = nos.constant 2.0
  // CHECK: nos.neg %[[G]]
  %0 = nos.neg %g
  %1 = nos.exp %0
  %2 = nos.log %1
  %3 = nos.sqrt %2
  %4 = nos.sign %3
  // CHECK: nos.clip %{{.*}}, 1.000000e-03
  %5 = nos.clip %4, 1.0e-3
  // CHECK: nos.drop %{{.*}}, 3.000000e-01[2]
  %6 = nos.drop %5, 0.3 [2]
  // CHECK: nos.ema %{{.*}}, 9.000000e-01
  %7 = nos.ema %6, 0.9
  %8 = nos.add %7, %g2
  %9 = nos.sub %8, %g3
  %10 = nos.mul %9, %m
  %11 = nos.div %10, %v
  %12 = nos.pow %11, %gamma
  %13 = nos.left %12, %w
  %14 = nos.add %13, %adam
  %15 = nos.add %14, %rms
  %16 = nos.add %15, %noise
  %17 = nos.add %16, %anoise
  %18 = nos.mul %17, %ld
  %19 = nos.mul %18, %cd
  %20 = nos.mul %19, %rd
  %21 = nos.mul %20, %two
  // CHECK: nos.yield
  nos.yield %21
}
