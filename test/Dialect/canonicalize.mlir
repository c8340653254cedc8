// RUN: nos-opt %s -canonicalize -cse -split-input-file | FileCheck %s
// Folds and the associative-commutative chain canonicalization.

// sign(m) * sign(g) * g * 1 and g * sign(g) * sign(m) reach one form.
// CHECK-LABEL: nos.rule @spelling_a
// CHECK-DAG: %[[G:.*]] = nos.g
// CHECK-DAG: %[[SG:.*]] = nos.sign %[[G]]
// CHECK-DAG: %[[M:.*]] = nos.m
// CHECK-DAG: %[[SM:.*]] = nos.sign %[[M]]
// CHECK: %[[A:.*]] = nos.mul %[[G]], %[[SG]]
// CHECK: %[[B:.*]] = nos.mul %[[A]], %[[SM]]
// CHECK: nos.yield %[[B]]
nos.rule @spelling_a {
  %m = nos.m
  %sm = nos.sign %m
  %g = nos.g
  %sg = nos.sign %g
  %one = nos.constant 1.0
  %0 = nos.mul %sm, %sg
  %1 = nos.mul %0, %g
  %2 = nos.mul %1, %one
  nos.yield %2
}

// -----

// CHECK-LABEL: nos.rule @identities
// CHECK: %[[G:.*]] = nos.g
// CHECK-NOT: nos.neg
// CHECK-NOT: nos.left
// CHECK-NOT: nos.add
// CHECK: %[[S:.*]] = nos.sign %[[G]]
// CHECK-NOT: nos.sign
// CHECK: nos.yield %[[S]]
nos.rule @identities {
  %g = nos.g
  %zero = nos.constant 0.0
  %0 = nos.neg %g
  %1 = nos.neg %0
  %2 = nos.add %1, %zero
  %3 = nos.sign %2
  %4 = nos.sign %3
  %m = nos.m
  %5 = nos.left %4, %m
  nos.yield %5
}

// -----

// exp(0) folds; literal chains fold into one constant, placed last.
// CHECK-LABEL: nos.rule @constants
// CHECK-DAG: %[[G:.*]] = nos.g
// CHECK-DAG: %[[C:.*]] = nos.constant 6.000000e+00
// CHECK: %[[R:.*]] = nos.mul %[[G]], %[[C]]
// CHECK: nos.yield %[[R]]
nos.rule @constants {
  %zero = nos.constant 0.0
  %one = nos.exp %zero
  %two = nos.constant 2.0
  %three = nos.constant 3.0
  %g = nos.g
  %0 = nos.mul %two, %g
  %1 = nos.mul %three, %0
  %2 = nos.mul %1, %one
  nos.yield %2
}

// -----

// Negations leave products; g * g * g becomes g3.
// CHECK-LABEL: nos.rule @negation_and_powers
// CHECK: %[[G3:.*]] = nos.g3
// CHECK: %[[N:.*]] = nos.neg %[[G3]]
// CHECK: nos.yield %[[N]]
nos.rule @negation_and_powers {
  %g = nos.g
  %n = nos.neg %g
  %0 = nos.mul %g, %n
  %1 = nos.mul %0, %g
  nos.yield %1
}

// -----

// x - -y is x + y, which then joins the sum's chain.
// CHECK-LABEL: nos.rule @subtract_negation
// CHECK-NOT: nos.sub
// CHECK-NOT: nos.neg
// CHECK: nos.add
// CHECK-NOT: nos.add
nos.rule @subtract_negation {
  %g = nos.g
  %m = nos.m
  %n = nos.neg %m
  %0 = nos.sub %g, %n
  nos.yield %0
}

// -----

// x * 0 is not folded: it is NaN for x = inf.
// CHECK-LABEL: nos.rule @no_unsafe_fold
// CHECK: nos.mul
nos.rule @no_unsafe_fold {
  %g = nos.g
  %zero = nos.constant 0.0
  %0 = nos.mul %g, %zero
  nos.yield %0
}

// -----

// log|-x| = log|x|, clip(clip(x, a), b) = clip(x, a) for a <= b, drop(x, 0) = x.
// CHECK-LABEL: nos.rule @magnitudes
// CHECK: %[[G:.*]] = nos.g
// CHECK: %[[L:.*]] = nos.log %[[G]]
// CHECK: %[[C:.*]] = nos.clip %[[L]], 1.000000e-03
// CHECK-NOT: nos.clip
// CHECK-NOT: nos.drop
// CHECK: nos.yield %[[C]]
nos.rule @magnitudes {
  %g = nos.g
  %n = nos.neg %g
  %l = nos.log %n
  %c1 = nos.clip %l, 1.0e-3
  %c2 = nos.clip %c1, 1.0e-2
  %d = nos.drop %c2, 0.0 [0]
  nos.yield %d
}

// -----

// Distinct random ops are never merged by CSE.
// CHECK-LABEL: nos.rule @noise_not_merged
// CHECK: nos.noise[0]
// CHECK: nos.noise[1]
nos.rule @noise_not_merged {
  %a = nos.noise [0]
  %b = nos.noise [1]
  %0 = nos.sub %a, %b
  nos.yield %0
}
