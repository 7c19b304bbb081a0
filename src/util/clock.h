// Time sources. Consensus never reads a clock: callers pass `now` in, taken from a Clock here,
// so tests can pin time.
#pragma once

#include <cstdint>

namespace gossipchain {

/** Wall-clock seconds since the Unix epoch, as Python's time.time() returns them. */
double WallSeconds();

/** Monotonic nanoseconds, for durations and event timestamps on one machine. */
std::uint64_t MonotonicNs();

}  // namespace gossipchain
