#include "aio/trace.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/handle.hpp"
#include "aio/task.hpp"
#include "aio/task_tree.hpp"

namespace aio {

namespace {

using Json = nlohmann::json;

// The lane of callbacks that belong to no task. Task lanes use the task's id as tid; this
// one is far above any id, and its sort index puts it first.
constexpr std::uint64_t loop_lane = 999999999;

std::int64_t real_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double microseconds(std::int64_t nanoseconds) {
    return static_cast<double>(nanoseconds) / 1000.0;
}

struct Event {
    char phase = 'i';  // 'X' complete, 'i' instant, 'b'/'e' async begin/end
    std::string name;
    const char* category = "";
    std::uint32_t pid = 0;
    std::uint64_t tid = 0;
    std::int64_t ts_ns = 0;     // loop time since the loop's first event
    std::int64_t dur_ns = 0;    // 'X': loop-clock duration
    std::int64_t real_ns = -1;  // 'X': real duration (while open: the real start)
    std::string id;             // 'b'/'e'
    Json args;                  // null: none
};

struct LoopInfo {
    std::uint32_t pid;
    bool has_origin = false;
    TimePoint origin{};
};

struct Lane {
    std::string name;                 // the task's latest name (thread_name)
    std::string lifetime_name;        // the name its 'b' event used, for the matching 'e'
    std::int64_t wait_since_ns = -1;  // end of the last step, if the task then waited
    std::string awaited;              // what it waited on
};

}  // namespace

struct Tracer::State {
    mutable std::mutex mutex;
    std::string path;
    bool recording = true;
    bool written = false;
    std::uint32_t next_pid = 1;
    std::unordered_map<const EventLoop*, LoopInfo> loops;
    std::map<std::pair<std::uint32_t, std::uint64_t>, Lane> lanes;  // ordered: stable output
    std::map<std::uint32_t, std::string> process_names;
    std::vector<Event> events;

    LoopInfo* find(const EventLoop& loop) {
        auto found = loops.find(&loop);
        return found == loops.end() ? nullptr : &found->second;
    }
    /// Loop time since the loop's first event, in nanoseconds.
    std::int64_t now(EventLoop& loop, LoopInfo& info) {
        const TimePoint time = loop.time();
        if (!info.has_origin) {
            info.has_origin = true;
            info.origin = time;
        }
        return (time - info.origin).count();
    }
    /// The lane of the task running now on `loop`, else the loop's own lane.
    std::uint64_t current_lane(const EventLoop& loop) {
        auto* task = dynamic_cast<TaskBase*>(current_task());
        return task && &task->get_loop() == &loop ? task->id() : loop_lane;
    }
    /// Appends an event (the caller fills in id, dur_ns or real_ns as its phase needs).
    Event& add(char phase, std::string name, const char* category, std::uint32_t pid,
               std::uint64_t tid, std::int64_t ts_ns, Json args = nullptr) {
        Event event;
        event.phase = phase;
        event.name = std::move(name);
        event.category = category;
        event.pid = pid;
        event.tid = tid;
        event.ts_ns = ts_ns;
        event.args = std::move(args);
        events.push_back(std::move(event));
        return events.back();
    }
    /// An I/O wait begins ('b', with an add_reader/add_writer instant) or ends ('e').
    void io_wait(char phase, EventLoop& loop, int fd, bool writer);
    void write_file(const std::string& file) const;
    std::string to_json() const;
    void write_json(std::ostream& out) const;
};

Tracer::Tracer() : state_(std::make_unique<State>()) {}
Tracer::Tracer(std::string path) : Tracer() {
    state_->path = std::move(path);
}

Tracer::~Tracer() {
    try {
        if (!state_->path.empty() && !state_->written) state_->write_file(state_->path);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "aio: could not write the trace: %s\n", error.what());
    }
}

void Tracer::stop() {
    std::string path;
    {
        std::lock_guard lock(state_->mutex);
        state_->recording = false;
        if (state_->path.empty() || state_->written) return;
        state_->written = true;
        path = state_->path;
    }
    state_->write_file(path);
}

bool Tracer::recording() const noexcept {
    std::lock_guard lock(state_->mutex);
    return state_->recording;
}

std::size_t Tracer::event_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->events.size();
}

std::string Tracer::to_json() const {
    return state_->to_json();
}

void Tracer::write(const std::string& path) const {
    state_->write_file(path);
}

void Tracer::State::write_file(const std::string& file) const {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) throw RuntimeError("trace: cannot open '" + file + "' for writing");
    write_json(out);  // streamed: a trace of a million tasks is a gigabyte
    if (!out.flush()) throw RuntimeError("trace: error while writing '" + file + "'");
}

std::string Tracer::State::to_json() const {
    std::ostringstream text;
    write_json(text);
    return text.str();
}

void Tracer::State::write_json(std::ostream& out) const {
    std::lock_guard lock(mutex);
    // One event per line, written as it is made: compact (traces of many tasks are large)
    // yet readable with grep.
    out << "{\"traceEvents\": [";
    const char* separator = "\n";
    auto emit = [&](const Json& event) {
        out << separator << event.dump();
        separator = ",\n";
    };
    for (const auto& [pid, name] : process_names) {
        emit({{"ph", "M"},
              {"name", "process_name"},
              {"pid", pid},
              {"tid", 0},
              {"args", {{"name", name}}}});
        emit({{"ph", "M"},
              {"name", "thread_name"},
              {"pid", pid},
              {"tid", loop_lane},
              {"args", {{"name", "event loop"}}}});
        emit({{"ph", "M"},
              {"name", "thread_sort_index"},
              {"pid", pid},
              {"tid", loop_lane},
              {"args", {{"sort_index", 0}}}});
    }
    for (const auto& [key, lane] : lanes) {
        emit({{"ph", "M"},
              {"name", "thread_name"},
              {"pid", key.first},
              {"tid", key.second},
              {"args", {{"name", lane.name}}}});
        emit({{"ph", "M"},
              {"name", "thread_sort_index"},
              {"pid", key.first},
              {"tid", key.second},
              {"args", {{"sort_index", key.second}}}});
    }
    for (const Event& event : events) {
        Json line = {{"ph", std::string(1, event.phase)},
                     {"name", event.name},
                     {"cat", event.category},
                     {"pid", event.pid},
                     {"tid", event.tid},
                     {"ts", microseconds(event.ts_ns)}};
        Json args = event.args.is_null() ? Json::object() : event.args;
        if (event.phase == 'X') {
            line["dur"] = microseconds(event.dur_ns);
            if (event.real_ns >= 0 && event.dur_ns != event.real_ns)
                args["real_us"] = microseconds(event.real_ns);
        } else if (event.phase == 'i') {
            line["s"] = "t";
        } else {
            line["id"] = event.id;
        }
        if (!args.empty()) line["args"] = std::move(args);
        emit(line);
    }
    Json other = {{"generator", "aio::Tracer"},
                  {"clock",
                   "ts is the loop's time (virtual on a VirtualTimeLoop), in microseconds since "
                   "the loop's first event; args.real_us is a step's real duration"}};
    out << "\n],\n\"displayTimeUnit\": \"ms\",\n\"otherData\": " << other.dump() << "}\n";
}

void Tracer::attach(EventLoop& loop) {
    std::lock_guard lock(state_->mutex);
    const std::uint32_t pid = state_->next_pid++;
    state_->loops[&loop] = LoopInfo{pid};  // a new loop at a dead one's address starts afresh
    state_->process_names[pid] = "event loop " + std::to_string(pid);
}

void Tracer::detach(EventLoop& loop) noexcept {
    std::lock_guard lock(state_->mutex);
    state_->loops.erase(&loop);
}

void Tracer::task_created(EventLoop& loop, TaskBase& task) {
    std::lock_guard lock(state_->mutex);
    LoopInfo* info = state_->find(loop);
    if (!state_->recording || !info) return;
    const std::int64_t now = state_->now(loop, *info);
    const std::string name = task.get_name();
    Lane& lane = state_->lanes[{info->pid, task.id()}];
    lane.name = lane.lifetime_name = name;
    state_->add('i', "create " + name, "task", info->pid, state_->current_lane(loop), now);
    state_->add('b', name, "task", info->pid, task.id(), now).id =
        "task-" + std::to_string(task.id());
}

void Tracer::task_finished(EventLoop& loop, TaskBase& task) {
    std::lock_guard lock(state_->mutex);
    LoopInfo* info = state_->find(loop);
    if (!state_->recording || !info) return;
    const std::int64_t now = state_->now(loop, *info);
    Lane& lane = state_->lanes[{info->pid, task.id()}];
    if (lane.lifetime_name.empty()) lane.lifetime_name = lane.name = task.get_name();
    Json args;
    if (task.cancelled()) {
        args["outcome"] = "cancelled";
    } else if (const std::exception_ptr& error = task.peek_exception()) {
        args["outcome"] = "failed";
        args["error"] = describe_exception(error);
    } else {
        args["outcome"] = "finished";
    }
    Event& end =
        state_->add('e', lane.lifetime_name, "task", info->pid, task.id(), now, std::move(args));
    end.id = "task-" + std::to_string(task.id());
}

std::size_t Tracer::node_started(EventLoop& loop, Runnable& node) {
    std::lock_guard lock(state_->mutex);
    LoopInfo* info = state_->find(loop);
    if (!state_->recording || !info) return static_cast<std::size_t>(-1);
    const std::int64_t now = state_->now(loop, *info);
    // dynamic_cast: only traced loops get here.
    if (auto* task = dynamic_cast<TaskBase*>(&node)) {
        Lane& lane = state_->lanes[{info->pid, task->id()}];
        lane.name = task->get_name();
        if (lane.wait_since_ns >= 0) {
            state_->add('X', lane.awaited, "wait", info->pid, task->id(), lane.wait_since_ns)
                .dur_ns = now - lane.wait_since_ns;
            lane.wait_since_ns = -1;
        }
        state_->add('X', lane.name, "step", info->pid, task->id(), now).real_ns = real_now_ns();
    } else if (dynamic_cast<detail::TimerNode*>(&node)) {
        state_->add('X', "timer", "timer", info->pid, loop_lane, now).real_ns = real_now_ns();
    } else {
        state_->add('X', node.describe(), "callback", info->pid, loop_lane, now).real_ns =
            real_now_ns();
    }
    return state_->events.size() - 1;
}

void Tracer::node_finished(EventLoop& loop, Runnable& node, std::size_t token) {
    std::lock_guard lock(state_->mutex);
    LoopInfo* info = state_->find(loop);
    if (token >= state_->events.size() || !info) return;  // not recorded (or stopped in between)
    const std::int64_t now = state_->now(loop, *info);
    Event& event = state_->events[token];
    event.dur_ns = now - event.ts_ns;
    event.real_ns = real_now_ns() - event.real_ns;
    auto* task = dynamic_cast<TaskBase*>(&node);
    if (!task) return;
    std::string awaited;
    if (task->done()) {
        awaited = "done";
    } else if (const Waitable* waitable = task->awaiting()) {
        awaited = describe_awaited(*waitable);
    } else {
        awaited = "yield";
    }
    event.args = {{"awaits", awaited}};
    if (!task->done()) {
        Lane& lane = state_->lanes[{info->pid, task->id()}];
        lane.wait_since_ns = now;
        lane.awaited = std::move(awaited);
    }
}

void Tracer::timer_scheduled(EventLoop& loop, const detail::TimerNode& timer) {
    std::lock_guard lock(state_->mutex);
    LoopInfo* info = state_->find(loop);
    if (!state_->recording || !info) return;
    const std::int64_t now = state_->now(loop, *info);
    const std::int64_t due = (timer.when() - info->origin).count();
    state_->add('i', "timer scheduled", "timer", info->pid, state_->current_lane(loop), now,
                {{"due_us", microseconds(due)}, {"delay_us", microseconds(due - now)}});
}

void Tracer::io_wait_started(EventLoop& loop, int fd, bool writer) {
    state_->io_wait('b', loop, fd, writer);
}

void Tracer::io_wait_ended(EventLoop& loop, int fd, bool writer) {
    state_->io_wait('e', loop, fd, writer);
}

void Tracer::State::io_wait(char phase, EventLoop& loop, int fd, bool writer) {
    std::lock_guard lock(mutex);
    LoopInfo* info = find(loop);
    if (!recording || !info) return;
    const std::int64_t time = now(loop, *info);
    if (phase == 'b')
        add('i', writer ? "add_writer" : "add_reader", "io", info->pid, current_lane(loop), time,
            {{"fd", fd}});
    const std::string what = "fd " + std::to_string(fd) + (writer ? " writable" : " readable");
    add(phase, what, "io", info->pid, loop_lane, time).id =
        (writer ? "w" : "r") + std::to_string(fd);
}

// --- the process-wide trace: aio::trace::start / stop and AIO_TRACE ---------------------------

namespace trace {

namespace {
std::mutex global_mutex;
std::shared_ptr<Tracer> global_tracer;  // guarded by global_mutex
bool environment_read = false;          // guarded by global_mutex
}  // namespace

void start(std::string path) {
    std::shared_ptr<Tracer> previous;
    auto tracer = std::make_shared<Tracer>(std::move(path));
    {
        std::lock_guard lock(global_mutex);
        environment_read = true;  // an explicit start wins over AIO_TRACE
        previous = std::exchange(global_tracer, tracer);
    }
    if (previous) previous->stop();
    if (EventLoop* loop = try_get_running_loop()) loop->set_tracer(tracer);
}

void stop() {
    std::shared_ptr<Tracer> tracer;
    {
        std::lock_guard lock(global_mutex);
        tracer = std::exchange(global_tracer, nullptr);
    }
    if (tracer) tracer->stop();
}

std::shared_ptr<Tracer> active() {
    std::lock_guard lock(global_mutex);
    return global_tracer;
}

namespace detail {

std::shared_ptr<Tracer> tracer_for_new_loop() {
    std::lock_guard lock(global_mutex);
    if (!environment_read) {
        environment_read = true;
        const char* path = std::getenv("AIO_TRACE");
        // Written when the last owner lets go: the loops, and this global at exit.
        if (path && *path) global_tracer = std::make_shared<Tracer>(path);
    }
    return global_tracer;
}

}  // namespace detail

}  // namespace trace

}  // namespace aio
