//===- TrainingHash.cpp - The training stack's sources as one hash --------===//
//
// Apart from Trainer.cpp so that the hash, which changes with almost every
// source of the project, rebuilds one small file and no torch translation
// unit. train/CMakeLists.txt lists what it covers.
//
//===----------------------------------------------------------------------===//
#include "TrainingHash.h"

namespace nos::train {

const char *trainingSourceHash() { return NOS_TRAINING_HASH; }

} // namespace nos::train
