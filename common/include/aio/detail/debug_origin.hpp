#pragma once
// Where a coroutine or a task came from, remembered in debug mode only (aio/debug.hpp says
// what debug mode reports). Kept apart from debug.hpp so that coro.hpp can include it
// without the event loop.
#include <cstdint>
#include <source_location>
#include <string>

namespace aio::detail {

/// Whether Coro frames created on this thread remember where they come from: on while a
/// loop in debug mode runs on this thread (asyncio's coroutine origin tracking, which
/// run_forever() turns on for a debug loop). Every Coro's promise constructor reads it:
/// one thread-local load and a predictable branch when debug mode is off.
inline thread_local bool track_coroutine_origins = false;

/// An origin: an index into a process-wide table of source locations, 0 for none. A frame
/// or a task stores it in 4 bytes of padding, so debug mode costs them no memory; the
/// table holds each distinct origin once (its size is bounded by the program's code).
using OriginId = std::uint32_t;

/// The origin of a coroutine frame: `where` is what std::source_location::current()
/// gives in its promise constructor, a location inside the coroutine function (GCC: its
/// closing brace, clang: its name) and the function's name. C++ gives a callee no way to
/// see its call site, so that is where the coroutine is defined, not where it was called.
OriginId remember_coroutine_origin(const std::source_location& where) noexcept;
/// The origin of a task: `created_at` is where create_task was called, `coroutine` the
/// origin of the coroutine it runs (0 if that was created while tracking was off).
/// Both return 0 (no origin) rather than throw if memory runs out.
OriginId remember_task_origin(const std::source_location& created_at, OriginId coroutine) noexcept;

/// For a task's describe(): " coro=<name() at file:line> created at file:line", with a
/// leading space; empty for 0.
std::string describe_task_origin(OriginId task) noexcept;

/// Reports a Coro destroyed before it was awaited or given to a task (Python's
/// "RuntimeWarning: coroutine '...' was never awaited"), through debug::report().
void report_never_awaited(OriginId coroutine) noexcept;

}  // namespace aio::detail
