#pragma once
// aio::Tracer: records what a loop does (task steps, callbacks, timers, I/O waits) and
// writes it as a Chrome trace (the "traceEvents" JSON that Perfetto, chrome://tracing and
// docs/tools/trace_svg.py read). asyncio has no twin; its debug mode logs slow callbacks,
// a trace shows everything on a timeline.
//
// Three ways to switch it on:
//   AIO_TRACE=run.json ./program       every loop created afterwards is traced; the file is
//                                      written when the program exits
//   aio::trace::start("run.json");     the same from code (also traces the running loop);
//   ...; aio::trace::stop();           stop() writes the file
//   auto tracer = std::make_shared<aio::Tracer>();
//   loop.set_tracer(tracer);           one loop; read tracer->to_json() or write(path)
//
// What is recorded, one Chrome "process" (pid) per loop, one "thread" (tid) lane per task:
//   - a task's life as an async slice ("b" at creation, "e" when done, args.outcome
//     finished / cancelled / failed), and an instant "create <name>" on the creator's lane;
//   - each task step as a complete slice ("X", cat "step") named after the task, with
//     args.awaits saying what the task waits on after the step ("sleep", "Task 'x'",
//     "gather", "<Future pending>", "yield", "done");
//   - each wait between two steps as a complete slice (cat "wait") named after what the
//     task awaited, so a lane reads step, wait, step, ...;
//   - every other callback the loop runs (cat "callback", on the "event loop" lane):
//     handles, done callbacks, timers (cat "timer"), I/O callbacks;
//   - timers scheduled (an instant, args.due) and I/O waits (add_reader to remove_reader,
//     an async slice "fd N readable").
//
// Timestamps: "ts" is the loop's own clock, loop.time(), in microseconds since the loop's
// first event. On a real loop that is real time. On a VirtualTimeLoop it is virtual time,
// so a traced test is as deterministic as the test: a one-hour sleep is an hour wide and
// costs nothing. A step's "dur" is measured on the same clock: real on a real loop, zero on
// a virtual one (virtual time does not move while a step runs); args.real_us always holds
// the real duration, for the curious. Pictures of a virtual run therefore show steps as
// thin marks at the instants they ran, and the waits between them at full length.
//
// Cost: a loop with no tracer pays one null-pointer test per callback it runs, per task
// created or finished and per timer scheduled. A traced loop takes a mutex per event and
// keeps every event in memory until the trace is written (a few hundred bytes per event,
// in memory and in the file): trace runs of thousands of tasks, not millions.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace aio {

class EventLoop;
class Runnable;
class TaskBase;
namespace detail {
class TimerNode;
}

/// Collects trace events from the loops it is installed on (EventLoop::set_tracer).
/// Thread-safe: loops on several threads may share one tracer.
class Tracer {
public:
    /// A tracer that keeps its events in memory (to_json(), write()).
    Tracer();
    /// A tracer that also writes its events to `path` when stop() is called or, if it was
    /// not, when it is destroyed (errors then go to stderr).
    explicit Tracer(std::string path);
    ~Tracer();
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    /// Stops recording (later events are ignored) and writes the file given to the
    /// constructor, if any. Throws RuntimeError if the file cannot be written.
    void stop();
    bool recording() const noexcept;
    /// The events so far, as Chrome trace JSON: {"traceEvents": [...], ...}.
    std::string to_json() const;
    /// Writes to_json() to `path`. Throws RuntimeError if the file cannot be written.
    void write(const std::string& path) const;
    /// Events recorded so far (metadata not included).
    std::size_t event_count() const;

    // --- hooks: called by aio's loops and tasks, only while a tracer is installed ---------

    /// A loop starts using this tracer: it gets its own pid.
    void attach(EventLoop& loop);
    /// The loop is destroyed or drops the tracer.
    void detach(EventLoop& loop) noexcept;
    void task_created(EventLoop& loop, TaskBase& task);
    void task_finished(EventLoop& loop, TaskBase& task);
    /// Before and after the loop runs `node` (a task step or a callback). node_finished
    /// is called before the loop releases the node. `token` is what node_started returned.
    std::size_t node_started(EventLoop& loop, Runnable& node);
    void node_finished(EventLoop& loop, Runnable& node, std::size_t token);
    void timer_scheduled(EventLoop& loop, const detail::TimerNode& timer);
    void io_wait_started(EventLoop& loop, int fd, bool writer);
    void io_wait_ended(EventLoop& loop, int fd, bool writer);

private:
    struct State;
    std::unique_ptr<State> state_;
};

namespace trace {

/// Starts tracing into `path`: every loop created on any thread from now on is traced, and
/// the running loop too. Replaces (and stops) a trace started before.
void start(std::string path);
/// Stops the trace start() began and writes its file. Loops keep the tracer object but
/// record nothing more. Does nothing if no trace was started. Throws RuntimeError if the
/// file cannot be written.
void stop();
/// The tracer start() or AIO_TRACE installed, or nullptr.
std::shared_ptr<Tracer> active();

namespace detail {
/// For EventLoop's constructor: the tracer a new loop starts with. The first call reads
/// AIO_TRACE and, if it names a file, starts a trace written when the program exits.
std::shared_ptr<Tracer> tracer_for_new_loop();
}  // namespace detail

}  // namespace trace

}  // namespace aio
