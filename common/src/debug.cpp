#include "aio/debug.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "aio/abstract_task.hpp"

namespace aio {

// --- where reports go --------------------------------------------------------------------

namespace {
// Reports are rare and may come from any thread: one mutex guards the sink and the
// registry of live loops. Both are built on first use and never destroyed, so a loop or a
// future destroyed during static destruction still finds them.
std::mutex& debug_mutex() {
    static auto* mutex = new std::mutex;
    return *mutex;
}
debug::ReportSink& report_sink() {
    static auto* sink = new debug::ReportSink;
    return *sink;
}
std::unordered_set<const EventLoop*>& live_loops() {
    static auto* loops = new std::unordered_set<const EventLoop*>;
    return *loops;
}

void send_to_sink(const ExceptionContext& context) noexcept {
    debug::ReportSink sink;
    try {
        std::lock_guard lock(debug_mutex());
        sink = report_sink();  // a copy: the sink may report, or be replaced meanwhile
    } catch (...) {
    }
    if (!sink) {
        EventLoop::default_exception_handler(context);
        return;
    }
    try {
        sink(context);
    } catch (...) {
        EventLoop::default_exception_handler(
            {"Unhandled error in the debug report sink", std::current_exception(), context.source});
        EventLoop::default_exception_handler(context);
    }
}
}  // namespace

void debug::set_report_sink(ReportSink sink) {
    std::lock_guard lock(debug_mutex());
    report_sink() = std::move(sink);
}

void debug::report(const ExceptionContext& context) noexcept {
    if (EventLoop* loop = try_get_running_loop()) {
        loop->call_exception_handler(context);
        return;
    }
    send_to_sink(context);
}

void detail::register_live_loop(const EventLoop* loop) {
    std::lock_guard lock(debug_mutex());
    live_loops().insert(loop);
}

void detail::unregister_live_loop(const EventLoop* loop) noexcept {
    std::lock_guard lock(debug_mutex());
    live_loops().erase(loop);
}

void detail::report_to_loop(EventLoop* loop, const ExceptionContext& context) noexcept {
    bool alive = false;
    try {
        std::lock_guard lock(debug_mutex());
        alive = live_loops().count(loop) != 0;
    } catch (...) {
    }
    // Looked up, then called without the lock: the handler may build loops. A loop is used
    // by one thread, and the future reporting here lives on that thread too, so the loop
    // cannot go away between the two.
    if (alive) {
        loop->call_exception_handler(context);
    } else {
        send_to_sink(context);
    }
}

bool detail::debug_mode_from_environment() noexcept {
    const char* value = std::getenv("AIO_DEBUG");
    return value && *value && std::strcmp(value, "0") != 0;
}

// --- the loop's debug mode (EventLoop members, kept with the rest of debug mode) --------

void EventLoop::set_debug(bool enabled) noexcept {
    debug_ = enabled;
    update_instrumented();
    // asyncio's set_debug also switches origin tracking for the thread running the loop.
    if (try_get_running_loop() == this) detail::track_coroutine_origins = enabled;
}

void EventLoop::check_thread_in_debug_mode() const {
    const std::thread::id running_on = thread_id_.load(std::memory_order_relaxed);
    if (running_on == std::thread::id() || running_on == std::this_thread::get_id()) return;
    throw RuntimeError(
        "Non-thread-safe operation invoked on an event loop other than the current one "
        "(the loop runs on another thread: use call_soon_threadsafe)");
}

void EventLoop::run_node_timed(Runnable& node) noexcept {
    // Real time, even on a VirtualTimeLoop: a slow callback blocks the real thread.
    const auto started = std::chrono::steady_clock::now();
    run_node_guarded(node);
    const auto took = std::chrono::steady_clock::now() - started;
    if (took < slow_callback_duration) return;
    try {
        // Described after the run (as asyncio does), while the loop still holds the node.
        std::string source = node.describe();
        char seconds_text[32];
        std::snprintf(seconds_text, sizeof seconds_text, "%.3f",
                      std::chrono::duration<double>(took).count());
        call_exception_handler({"Executing " + source + " took " + seconds_text + " seconds", nullptr, source});
    } catch (...) {
    }
}

// --- origins -----------------------------------------------------------------------------

namespace detail {

namespace {
struct Origin {
    const char* file;
    std::uint_least32_t line;
    const char* function;
    OriginId coroutine;  // for a task: the origin of its coroutine (0: unknown)
    bool is_task;
};

/// The table of origins; entry i - 1 is OriginId i. Guarded by debug_mutex().
struct OriginTable {
    std::vector<Origin> entries;
    // Deduplication by the location's static strings and line: the same call site always
    // gives the same pointers, so each site is stored once (at most once per translation
    // unit if a compiler duplicates the strings).
    std::map<std::tuple<const char*, std::uint_least32_t, const char*, OriginId, bool>, OriginId> ids;
};
OriginTable& origin_table() {
    static auto* table = new OriginTable;
    return *table;
}

OriginId remember(const Origin& origin) noexcept try {
    std::lock_guard lock(debug_mutex());
    OriginTable& table = origin_table();
    auto key = std::make_tuple(origin.file, origin.line, origin.function, origin.coroutine, origin.is_task);
    auto found = table.ids.find(key);
    if (found != table.ids.end()) return found->second;
    table.entries.push_back(origin);
    const auto id = static_cast<OriginId>(table.entries.size());
    table.ids.emplace(key, id);
    return id;
} catch (...) {
    return 0;
}

bool find(OriginId id, Origin& origin) {
    if (id == 0) return false;
    std::lock_guard lock(debug_mutex());
    const OriginTable& table = origin_table();
    if (id > table.entries.size()) return false;
    origin = table.entries[id - 1];
    return true;
}

/// "ns::fetch" from "aio::Coro<int> ns::fetch(int, double)": the function's qualified name
/// without its return type and parameters. Lambdas (whose names the compilers spell in
/// their own ways) keep the full signature.
std::string short_function_name(std::string_view full_signature) {
    // GCC spells a lambda "<lambda(...)>", clang "(anonymous class)::operator()".
    if (full_signature.find("lambda") != std::string_view::npos ||
        full_signature.find("(anonymous class)") != std::string_view::npos)
        return std::string(full_signature);
    // An anonymous namespace adds nothing a reader needs, and clang's spelling of it holds
    // a parenthesis the scan below would take for the parameter list.
    std::string signature(full_signature);
    for (std::string_view anonymous : {"(anonymous namespace)::", "{anonymous}::"})
        for (std::size_t at; (at = signature.find(anonymous)) != std::string::npos;)
            signature.erase(at, anonymous.size());
    int angle_depth = 0;
    std::size_t name_begin = 0;
    for (std::size_t i = 0; i < signature.size(); ++i) {
        const char c = signature[i];
        if (c == '<') ++angle_depth;
        if (c == '>' && angle_depth > 0) --angle_depth;
        if (angle_depth != 0) continue;
        if (c == ' ') name_begin = i + 1;
        if (c == '(') return signature.substr(name_begin, i - name_begin);
    }
    return signature;
}

std::string location_text(const Origin& origin) {
    return std::string(origin.file) + ":" + std::to_string(origin.line);
}
}  // namespace

OriginId remember_coroutine_origin(const std::source_location& where) noexcept {
    return remember({where.file_name(), where.line(), where.function_name(), 0, false});
}

OriginId remember_task_origin(const std::source_location& created_at, OriginId coroutine) noexcept {
    return remember({created_at.file_name(), created_at.line(), created_at.function_name(), coroutine, true});
}

std::string describe_task_origin(OriginId task) noexcept {
    try {
        Origin origin{};
        if (!find(task, origin)) return {};
        std::string text;
        Origin coroutine{};
        if (find(origin.coroutine, coroutine))
            text += " coro=<" + short_function_name(coroutine.function) + "() at " + location_text(coroutine) + ">";
        if (origin.line != 0) text += " created at " + location_text(origin);
        return text;
    } catch (...) {
        return {};
    }
}

void report_never_awaited(OriginId coroutine) noexcept {
    try {
        Origin origin{};
        if (!find(coroutine, origin)) return;
        std::string source = "created at " + location_text(origin) + " (in " + origin.function + ")";
        if (AbstractTask* task = current_task()) source += ", dropped in task '" + task->get_name() + "'";
        debug::report({"coroutine '" + short_function_name(origin.function) + "' was never awaited", nullptr,
                       source});
    } catch (...) {
    }
}

}  // namespace detail

}  // namespace aio
