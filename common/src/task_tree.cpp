#include "aio/task_tree.hpp"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include "aio/event_loop.hpp"
#include "aio/gather.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"

namespace aio {

std::string describe_awaited(const Waitable& awaited) {
    // dynamic_cast: introspection only, never on a hot path.
    if (const auto* task = dynamic_cast<const TaskBase*>(&awaited))
        return "Task '" + task->get_name() + "'";
    if (dynamic_cast<const detail::GatherCore*>(&awaited)) return "gather";
    if (dynamic_cast<const detail::SleepWakeUp*>(&awaited)) return "sleep";
    return awaited.describe();
}

namespace {

std::string task_label(const TaskBase& task) {
    return "Task(name='" + task.get_name() + "')";
}

/// Draws the tree. A task reachable twice (two tasks awaiting the same one) is drawn in
/// full the first time and referred to afterwards, so a cycle cannot recurse for ever.
class TreeWriter {
public:
    std::string text;
    std::unordered_set<const TaskBase*> drawn;

    void task(TaskBase& node, const std::string& first_prefix, const std::string& prefix) {
        std::string line = first_prefix + task_label(node);
        if (node.done()) {
            text += line + (node.cancelled() ? " cancelled\n" : " done\n");
            return;
        }
        if (!drawn.insert(&node).second) {
            text += line + " (shown above)\n";
            return;
        }
        // A const Waitable only for reading; the children are reached through the task's own
        // pointer, which the loop owns. const_cast: child_at() is non-const but only reads.
        auto* awaited = const_cast<Waitable*>(node.awaiting());
        if (!awaited) {
            const bool running = current_task() == static_cast<AbstractTask*>(&node);
            text += line + (running ? " running\n" : " ready\n");
        } else if (is_composite(*awaited)) {
            text += line + "\n";
            child(*awaited, prefix + "└── ", prefix + "    ");
        } else {
            text += line + " awaiting " + describe_awaited(*awaited) + "\n";
        }
    }

    static bool is_composite(Waitable& awaited) {
        return dynamic_cast<TaskBase*>(&awaited) || dynamic_cast<detail::GatherCore*>(&awaited);
    }

    void child(Waitable& awaited, const std::string& first_prefix, const std::string& prefix) {
        if (auto* awaited_task = dynamic_cast<TaskBase*>(&awaited)) {
            task(*awaited_task, first_prefix, prefix);
        } else if (auto* gathering = dynamic_cast<detail::GatherCore*>(&awaited)) {
            const std::size_t count = gathering->child_count();
            text += first_prefix + "gather(" + std::to_string(count) +
                    (count == 1 ? " child)\n" : " children)\n");
            for (std::size_t index = 0; index < count; ++index) {
                const bool last = index + 1 == count;
                child(gathering->child_at(index), prefix + (last ? "└── " : "├── "),
                      prefix + (last ? "    " : "│   "));
            }
        } else {
            text += first_prefix + awaited.describe() + "\n";
        }
    }
};

/// Marks every task some other pending task awaits, directly or through a gather.
void mark_awaited(Waitable& awaited, std::unordered_set<const TaskBase*>& awaited_tasks) {
    if (auto* task = dynamic_cast<TaskBase*>(&awaited)) {
        awaited_tasks.insert(task);
    } else if (auto* gathering = dynamic_cast<detail::GatherCore*>(&awaited)) {
        for (std::size_t index = 0; index < gathering->child_count(); ++index)
            mark_awaited(gathering->child_at(index), awaited_tasks);
    }
}

}  // namespace

std::string format_task_tree(EventLoop& loop) {
    std::vector<TaskBase*> tasks = loop.pending_tasks();
    std::sort(tasks.begin(), tasks.end(),
              [](const TaskBase* a, const TaskBase* b) { return a->id() < b->id(); });
    std::unordered_set<const TaskBase*> awaited_tasks;
    for (TaskBase* task : tasks)
        if (const Waitable* awaited = task->awaiting())
            mark_awaited(const_cast<Waitable&>(*awaited), awaited_tasks);

    TreeWriter writer;
    for (TaskBase* task : tasks)
        if (!awaited_tasks.count(task)) writer.task(*task, "", "");
    // Tasks awaiting each other in a cycle have no root: draw what is left.
    for (TaskBase* task : tasks)
        if (!writer.drawn.count(task)) writer.task(*task, "", "");
    return writer.text;
}

std::string format_task_tree() {
    return format_task_tree(get_running_loop());
}

void print_task_tree(std::FILE* out) {
    const std::string text = format_task_tree();
    std::fputs(text.c_str(), out);
}

}  // namespace aio
