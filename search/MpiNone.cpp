//===- MpiNone.cpp - The MPI entry points of a build without MPI ----------===//
//
// CMake found no MPI, so nos-search runs threads only; started by mpirun it
// says so instead of running N independent searches into one folder.
//
//===----------------------------------------------------------------------===//
#include "nos/search/Workers.h"

#include <stdexcept>

namespace nos::search {

bool haveMpi() { return false; }

MpiSession::MpiSession(int &, char **&) {
  throw std::runtime_error("this nos-search was built without MPI (install "
                           "libopenmpi-dev and rebuild)");
}
MpiSession::~MpiSession() = default;
int MpiSession::serve() { return 1; }
std::unique_ptr<WorkerPool> MpiSession::pool(const std::string &, int) {
  return nullptr;
}

} // namespace nos::search
