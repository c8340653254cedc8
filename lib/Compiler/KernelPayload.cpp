//===- KernelPayload.cpp - What a disk cache entry holds ------------------===//
//
// A line-oriented header then the object bytes. The DiskCache checksum guards
// against corruption; this layer guards against a well-formed entry that is
// not the kernel asked for.
//
//===----------------------------------------------------------------------===//
#include "KernelPayload.h"

#include <sstream>

namespace nos {

std::string encodePayload(const KernelInfo &info, const std::string &object) {
  std::ostringstream os;
  os.precision(17);
  os << "nos-kernel 1\n" << info.canonical << "\n";
  os << info.stateSlots.size();
  for (const std::string &slot : info.stateSlots)
    os << " " << slot;
  os << "\n" << info.schedules.size();
  for (const ScheduleSpec &s : info.schedules)
    os << " " << spelling(s.kind) << " " << s.n;
  os << "\n" << int(info.usesRandom) << "\n" << object.size() << "\n";
  return os.str() + object;
}

static bool parseSchedule(const std::string &name, Schedule &out) {
  for (Schedule s : {Schedule::LD, Schedule::CD, Schedule::RD})
    if (name == spelling(s)) {
      out = s;
      return true;
    }
  return false;
}

bool decodePayload(const std::string &payload, KernelInfo &info,
                   std::string &object) {
  std::istringstream is(payload);
  std::string magic, version;
  if (!(is >> magic >> version) || magic != "nos-kernel" || version != "1")
    return false;
  is.ignore(1);
  if (!std::getline(is, info.canonical))
    return false;
  size_t slots = 0, schedules = 0, bytes = 0;
  if (!(is >> slots) || slots > NOS_MAX_STATE)
    return false;
  info.stateSlots.resize(slots);
  for (std::string &slot : info.stateSlots)
    if (!(is >> slot))
      return false;
  if (!(is >> schedules) || schedules > NOS_MAX_SCHEDULES)
    return false;
  info.schedules.resize(schedules);
  for (ScheduleSpec &s : info.schedules) {
    std::string name;
    if (!(is >> name >> s.n) || !parseSchedule(name, s.kind))
      return false;
  }
  int random = 0;
  if (!(is >> random >> bytes))
    return false;
  info.usesRandom = random != 0;
  is.ignore(1);
  std::streamoff offset = is.tellg();
  if (offset < 0 || payload.size() - size_t(offset) != bytes)
    return false;
  object = payload.substr(size_t(offset));
  return true;
}

} // namespace nos
