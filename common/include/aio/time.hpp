#pragma once
// Loop time: a monotonic clock counted in nanoseconds, real or virtual.
#include <chrono>
#include <cmath>
#include <limits>

namespace aio {

/// The clock a loop reads through EventLoop::time(). It has no now(): a real loop reads
/// std::chrono::steady_clock, a virtual-time loop its own counter that starts at zero.
struct LoopClock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<LoopClock, duration>;
    static constexpr bool is_steady = true;
};

using Duration = LoopClock::duration;
using TimePoint = LoopClock::time_point;

/// asyncio measures time in float seconds; aio accepts them wherever a duration goes.
/// Negative and NaN delays count as zero, infinite ones as "never".
inline Duration seconds(double value) noexcept {
    if (!(value > 0)) return Duration::zero();
    if (value >= 9.2e9) return Duration::max();
    return Duration(static_cast<Duration::rep>(std::llround(value * 1e9)));
}

/// Converts any std::chrono duration to the loop's, rounding up so a timer never fires early.
template <class Rep, class Period>
constexpr Duration to_duration(std::chrono::duration<Rep, Period> value) noexcept {
    return std::chrono::ceil<Duration>(value);
}

/// Seconds since the clock's epoch, as asyncio's loop.time() returns them.
inline double to_seconds(TimePoint when) noexcept {
    return std::chrono::duration<double>(when.time_since_epoch()).count();
}
inline double to_seconds(Duration span) noexcept { return std::chrono::duration<double>(span).count(); }

/// a + b without overflow: a deadline "far in the future" stays there.
inline TimePoint saturating_add(TimePoint when, Duration delay) noexcept {
    if (delay > Duration::zero() && when.time_since_epoch() > Duration::max() - delay)
        return TimePoint::max();
    return when + delay;
}

}  // namespace aio
