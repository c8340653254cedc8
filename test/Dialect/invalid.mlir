// RUN: nos-opt %s -split-input-file -verify-diagnostics
// One case per verifier diagnostic of the nos dialect.

nos.rule @bad_beta {
  %g = nos.g
  // expected-error @+1 {{beta must be in [0, 1)}}
  %e = nos.ema %g, 1.0
  nos.yield %e
}

// -----

nos.rule @bad_clip {
  %g = nos.g
  // expected-error @+1 {{bound c must be > 0}}
  %c = nos.clip %g, 0.0
  nos.yield %c
}

// -----

nos.rule @bad_drop {
  %g = nos.g
  // expected-error @+1 {{probability p must be in [0, 1)}}
  %d = nos.drop %g, 1.5 [0]
  nos.yield %d
}

// -----

nos.rule @bad_period {
  // expected-error @+1 {{period n must be > 0}}
  %c = nos.cd -1.0
  nos.yield %c
}

// -----

nos.rule @bad_restart {
  // expected-error @+1 {{period n must be > 0}}
  %r = nos.rd 0.0
  nos.yield %r
}

// -----

nos.rule @too_much_state {
  %g = nos.g
  %m = nos.m
  %v = nos.v
  %gamma = nos.gamma
  %e1 = nos.ema %g, 0.1
  %e2 = nos.ema %g, 0.2
  %e3 = nos.ema %g, 0.3
  %e4 = nos.ema %g, 0.4
  %e5 = nos.ema %g, 0.5
  // expected-error @+1 {{would be state buffer 9 of 9; at most 8 are supported}}
  %e6 = nos.ema %g, 0.6
  %0 = nos.add %m, %v
  %1 = nos.add %0, %gamma
  %2 = nos.add %1, %e1
  %3 = nos.add %2, %e2
  %4 = nos.add %3, %e3
  %5 = nos.add %4, %e4
  %6 = nos.add %5, %e5
  %7 = nos.add %6, %e6
  nos.yield %7
}

// -----

nos.rule @too_many_schedules {
  %0 = nos.cd 1.0
  %1 = nos.cd 2.0
  %2 = nos.cd 3.0
  %3 = nos.cd 4.0
  %4 = nos.cd 5.0
  %5 = nos.cd 6.0
  %6 = nos.cd 7.0
  %7 = nos.cd 8.0
  // expected-error @+1 {{would be distinct schedule 9 of 9; at most 8 are supported}}
  %8 = nos.cd 9.0
  %a = nos.add %0, %1
  %b = nos.add %a, %2
  %c = nos.add %b, %3
  %d = nos.add %c, %4
  %e = nos.add %d, %5
  %f = nos.add %e, %6
  %g = nos.add %f, %7
  %h = nos.add %g, %8
  nos.yield %h
}

// -----

nos.rule @foreign_op {
  // expected-error @+1 {{is not allowed in a nos.rule}}
  %c = arith.constant 1.0 : f32
  nos.yield %c
}

// -----

func.func @yield_outside() {
  %g = nos.g
  // expected-error @+1 {{expects parent op 'nos.rule'}}
  nos.yield %g
}

// -----

// expected-error @+1 {{body must take no arguments}}
nos.rule @with_arguments {
^bb0(%x: f32):
  nos.yield %x
}
