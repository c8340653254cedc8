/*===- KernelABI.h - The calling convention of compiled kernels -*- C -*-===//
 *
 * Plain C structs shared by the compiler (which emits code that reads them)
 * and the runtime (which fills them). Everything a training loop changes per
 * step lives in NosArgs, so changing it never recompiles; per-step scalars
 * that need pow/cos (bias corrections, schedules) are computed once on the
 * host in double precision by nos::makeArgs (include/nos/Args.h) rather
 * than per element in the kernel. Changing this layout changes
 * NOS_ABI_VERSION and the compiler version in every cache key.
 *
 *===----------------------------------------------------------------------===*/
#ifndef NOS_KERNELABI_H
#define NOS_KERNELABI_H

#include <stdint.h>

#define NOS_MAX_STATE 8
#define NOS_MAX_SCHEDULES 8
#define NOS_ABI_VERSION 3

/* Bytes one element's update must move at least (f32): w and each of the
 * rule's `slots` state arrays read and written, g read. What the benches'
 * bandwidth figures divide by. */
#define NOS_BYTES_PER_ELEMENT(slots) (4 * (3 + 2 * (int64_t)(slots)))

/* One contiguous slice of one parameter. state[k] is the k-th slot of the
 * kernel's state layout (m, v, gamma that the rule uses, then each ema in
 * canonical order). rng_base is the element index of w[0] in the random
 * stream (language.md §7), so a slice of a tensor draws the numbers its
 * elements would draw in a whole-tensor call. */
typedef struct NosTensor {
  float *w;
  const float *g;
  float *state[NOS_MAX_STATE];
  int64_t n;
  int64_t rng_base;
} NosTensor;

typedef struct NosArgs {
  float lr;
  float beta1, beta2, beta3;      /* m, v, gamma */
  float eps;                      /* adam, rmsprop */
  float delta;                    /* protected division */
  float bc1, bc2, bc3;            /* 1 / (1 - beta^t): bias corrections */
  float omb1, omb2, omb3;         /* 1 - beta, rounded once from double */
  float anoise_std;               /* (1 + t)^-0.275 */
  float wscale;                   /* 1 - lr * weight_decay (decoupled) */
  float gscale;                   /* -1 to maximize, else 1 */
  float sched[NOS_MAX_SCHEDULES]; /* schedule values, kernel's order */
  int64_t step;
  int64_t total_steps;
  uint64_t seed;
} NosArgs;

/* The f32 fields of NosArgs before sched[], lr ... gscale. */
#define NOS_ARGS_SCALARS 15

/* Each element: g <- gscale * g; the rule's update u from g, w (before the
 * step) and the state; then w <- wscale * w - lr * u. wscale = gscale = 1
 * leaves w - lr * u bit for bit. */
/* Updates every slice of the table in one pass over memory. */
typedef void (*NosCpuKernelFn)(const NosTensor *table, int64_t count,
                               const NosArgs *args);

/* The GPU kernel (PTX entry "nos_rule") works through a list of chunks, as
 * PyTorch's multi_tensor_apply does: a block takes chunk c, c + gridDim.x,
 * ... and its threads stride over elements [begin, end) of table[tensor].
 * Its parameters, in order: the table and the chunk list (device pointers),
 * the chunk count (i64), then every NosArgs field by value in declaration
 * order with sched[] spelled out (lr ... gscale as f32, sched[0..7] as
 * f32, step, total_steps and seed as 64-bit integers): NOS_GPU_PARAMS in
 * all. Passing NosArgs by value keeps a step free of host-to-device copies. */
typedef struct NosChunk {
  int64_t tensor;
  int64_t begin;
  int64_t end;
} NosChunk;

#define NOS_GPU_CHUNK 65536
/* Threads per block of every launch; the kernel declares it as .maxntid so
 * that ptxas keeps each thread within 65536 / 512 = 128 registers, and no
 * rule, however large, can fail to launch for want of registers. */
#define NOS_GPU_BLOCK 512
#define NOS_GPU_PARAMS (3 + NOS_ARGS_SCALARS + NOS_MAX_SCHEDULES + 3)

#endif /* NOS_KERNELABI_H */
