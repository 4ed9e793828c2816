#pragma once
// aio::format_task_tree: what every pending task waits on, as a tree (Python 3.14's
// asyncio.format_call_graph / print_call_graph, drawn from the top: a task, then what it
// awaits, down to the leaves).
//
//     Task(name='main')
//     └── gather(3 children)
//         ├── Task(name='fetch 1') awaiting sleep
//         ├── Task(name='fetch 2')
//         │   └── Task(name='inner') awaiting <Future pending>
//         └── <Future finished>
//     Task(name='watcher') running
//
// A task awaiting another task or a gather has them as children; a task awaiting anything
// else (a sleep, a plain future, a lock's future) names it on its own line. "running" is
// the task whose step is executing, "ready" a task scheduled to step next. Roots are the
// tasks nobody awaits, oldest first. Coroutines awaited inline (a Coro inside a Coro) run
// in their task's step and do not appear: aio keeps no call stack, only the task's one
// awaited future (TaskBase::awaiting()).
#include <cstdio>
#include <string>

namespace aio {

class EventLoop;
class Waitable;

/// The tree of the running loop's pending tasks. Throws RuntimeError if no loop is running.
std::string format_task_tree();
/// The tree of `loop`'s pending tasks (the loop need not be running).
std::string format_task_tree(EventLoop& loop);
/// Writes format_task_tree() to `out` (asyncio.print_call_graph).
void print_task_tree(std::FILE* out = stdout);

/// A short name for what a task awaits: "sleep", "Task 'name'", "gather", or the future's
/// own describe() ("<Future pending>"). Used by the tree and by the tracer.
std::string describe_awaited(const Waitable& awaited);

}  // namespace aio
