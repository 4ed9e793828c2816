#include "aio/executor.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace aio {

// --- ThreadPoolExecutor -------------------------------------------------------------------

// Shared by the executor and its threads, so that a pool destroyed by one of its own jobs
// (the thread detaches itself) does not pull the state from under that thread.
struct ThreadPoolExecutor::Pool : std::enable_shared_from_this<Pool> {
    std::mutex mutex;
    std::condition_variable work_ready;
    std::deque<Callback> queue;         // guarded by mutex
    std::vector<std::thread> threads;   // guarded by mutex: started, not yet joined
    std::size_t started = 0;            // guarded by mutex
    std::size_t idle = 0;               // guarded by mutex: threads waiting for a job
    bool shutting_down = false;         // guarded by mutex
    std::mutex join_mutex;              // one joiner at a time: a second shutdown(true) waits too

    void work();
};

namespace {
/// The pool whose job this thread is running, to refuse a shutdown that would wait for itself.
thread_local const void* current_pool = nullptr;

void run_reporting_errors(Callback& job) noexcept {
    try {
        job();
    } catch (...) {
        EventLoop::default_exception_handler(
            {"Exception in a job of a ThreadPoolExecutor", std::current_exception(), {}});
    }
}
}  // namespace

void ThreadPoolExecutor::Pool::work() {
    current_pool = this;
    std::unique_lock lock(mutex);
    while (true) {
        if (!queue.empty()) {
            Callback job = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            run_reporting_errors(job);
            job.reset();  // the job's captures are freed outside the lock, too
            lock.lock();
            continue;
        }
        if (shutting_down) break;  // queued jobs are all run first, as in CPython
        ++idle;
        work_ready.wait(lock);
        --idle;
    }
}

namespace {
std::size_t default_max_workers() noexcept {
    const unsigned cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1 : cores;
}
}  // namespace

ThreadPoolExecutor::ThreadPoolExecutor() : ThreadPoolExecutor(default_max_workers()) {}

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers)
    : max_workers_(max_workers), pool_(std::make_shared<Pool>()) {
    if (max_workers == 0) throw ValueError("ThreadPoolExecutor: max_workers must be greater than 0");
}

ThreadPoolExecutor::~ThreadPoolExecutor() { stop(true); }

void ThreadPoolExecutor::stop(bool wait) noexcept {
    {
        std::lock_guard lock(pool_->mutex);
        pool_->shutting_down = true;
    }
    pool_->work_ready.notify_all();
    if (!wait) return;
    std::lock_guard join_lock(pool_->join_mutex);
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(pool_->mutex);
        threads.swap(pool_->threads);
    }
    for (std::thread& thread : threads) {
        // Destroyed by one of its own jobs: that thread cannot wait for itself. It keeps the
        // pool's state alive (its shared_ptr) until it leaves work().
        if (thread.get_id() == std::this_thread::get_id()) {
            thread.detach();
        } else {
            thread.join();
        }
    }
}

void ThreadPoolExecutor::submit(Callback job) {
    bool wake_idle = false;
    {
        std::lock_guard lock(pool_->mutex);
        if (pool_->shutting_down)
            throw RuntimeError("ThreadPoolExecutor: cannot schedule new futures after shutdown");
        pool_->queue.push_back(std::move(job));
        wake_idle = pool_->idle > 0;
        // CPython's rule, counted exactly: start a thread only if the idle ones cannot take
        // every queued job, up to max_workers.
        if (pool_->idle < pool_->queue.size() && pool_->started < max_workers_) {
            try {
                pool_->threads.emplace_back([pool = pool_->shared_from_this()] { pool->work(); });
                ++pool_->started;
            } catch (...) {
                // No thread for it: if no thread exists at all, the job could never run.
                if (pool_->started == 0) {
                    pool_->queue.pop_back();
                    throw;
                }
            }
        }
    }
    // Notified outside the lock, so the woken thread does not block on it at once.
    if (wake_idle) pool_->work_ready.notify_one();
}

void ThreadPoolExecutor::shutdown(bool wait) {
    if (wait && current_pool == pool_.get())
        throw RuntimeError("ThreadPoolExecutor::shutdown(wait=true) called by one of its own jobs");
    stop(wait);
}

std::size_t ThreadPoolExecutor::thread_count() const {
    std::lock_guard lock(pool_->mutex);
    return pool_->started;
}

// --- the loop's side: jobs in flight ------------------------------------------------------

namespace detail {

/// What a worker thread knows of a loop: a pointer to it that close() clears, under a mutex,
/// so a worker never calls call_soon_threadsafe() on a loop being closed or destroyed.
/// Shared (shared_ptr) by the loop and its jobs in flight, so it outlives the loop if needed.
///
/// Who frees a job: normally its completion, on the loop thread. If the loop closes first,
/// close() lets go of each job's future (loop-thread objects, released on the loop thread)
/// and frees the jobs already handed back; a job still running is freed by its worker, which
/// finds the loop gone. `delivered_` (under the mutex) tells the two cases apart.
class ExecutorLink {
public:
    explicit ExecutorLink(EventLoop& loop) noexcept : loop_(&loop) {}

    // Loop thread.
    void add(ExecutorJob* job) noexcept {
        job->next_ = first_;
        if (first_) first_->previous_ = job;
        first_ = job;
        ++in_flight_;
    }
    void remove(ExecutorJob* job) noexcept {
        if (job->previous_) {
            job->previous_->next_ = job->next_;
        } else {
            first_ = job->next_;
        }
        if (job->next_) job->next_->previous_ = job->previous_;
        job->previous_ = job->next_ = nullptr;
        --in_flight_;
    }
    std::size_t in_flight() const noexcept { return in_flight_; }

    /// Loop thread, at close: no job reaches the loop any more.
    void detach() noexcept {
        // Futures and jobs are freed after the lock is released: their destructors run user
        // code (a captured executor's destructor joins threads that may wait for this lock).
        // (Out of memory in push_back ends the program: this is noexcept.)
        std::vector<Ref<FutureCore>> futures;
        std::vector<ExecutorJob*> finished;
        {
            std::lock_guard lock(mutex_);
            loop_ = nullptr;
            while (ExecutorJob* job = first_) {
                remove(job);
                // Taken under the lock: once it is released, a worker that finds the loop
                // gone frees its job.
                futures.push_back(job->take_future());
                if (job->delivered_) finished.push_back(job);  // its worker is done with it
            }
        }
        for (ExecutorJob* job : finished) delete job;
    }

    /// Worker thread: the job ran (or was dropped): hand it to the loop, or free it if the
    /// loop is gone.
    static void hand_back(ExecutorJob* job) noexcept {
        // Moved out of the job: the loop may free the job as soon as it is queued.
        std::shared_ptr<ExecutorLink> link = std::move(job->link_);
        std::unique_lock lock(link->mutex_);
        if (!link->loop_) {
            lock.unlock();
            delete job;  // detach() already let go of its future
            return;
        }
        job->delivered_ = true;
        try {
            ExecutorLink* raw_link = link.get();  // kept alive by the loop that runs this
            link->loop_->call_soon_threadsafe([job, raw_link] {
                raw_link->remove(job);
                job->complete_on_loop();
                delete job;
            });
        } catch (...) {
            // The loop is closing (closed_ is set, detach() comes next) or out of memory:
            // the job stays listed, and detach() frees it.
        }
    }

private:
    std::mutex mutex_;
    EventLoop* loop_;                 // guarded by mutex_; null once detached
    ExecutorJob* first_ = nullptr;    // loop thread only
    std::size_t in_flight_ = 0;       // loop thread only
};

namespace {
/// What the executor runs: one pointer, so the Callback stores it inline (no allocation).
/// Destroyed without being run (an executor dropping its queue), it still hands the job back,
/// so its future gets an error instead of waiting forever.
class JobRunner {
public:
    explicit JobRunner(ExecutorJob* job) noexcept : job_(job) {}
    JobRunner(JobRunner&& other) noexcept : job_(std::exchange(other.job_, nullptr)) {}
    JobRunner& operator=(JobRunner&&) = delete;
    ~JobRunner() {
        if (job_) ExecutorLink::hand_back(job_);
    }
    void operator()() noexcept { std::exchange(job_, nullptr)->run_on_worker(); }

private:
    ExecutorJob* job_;
};
}  // namespace

void ExecutorJob::run_on_worker() noexcept {
    if (!cancel_requested.load(std::memory_order_relaxed)) invoke();
    ExecutorLink::hand_back(this);
}

void submit_job(EventLoop& loop, Executor& executor, ExecutorJob* job) {
    try {
        loop.check_thread();  // debug mode: the loop's thread only
    } catch (...) {
        job->take_future();
        delete job;
        throw;
    }
    if (loop.is_closed()) {
        job->take_future();
        delete job;
        throw RuntimeError("run_in_executor: Event loop is closed");
    }
    if (!loop.executor_link_) loop.executor_link_ = std::make_shared<ExecutorLink>(loop);
    ExecutorLink& link = *loop.executor_link_;
    job->link_ = loop.executor_link_;
    link.add(job);
    try {
        executor.submit(JobRunner(job));
    } catch (...) {
        // Refused (shut down): the runner, destroyed unrun, handed the job back, so its
        // completion is queued. The caller gets this exception instead of the future, so
        // the completion must not set one: the job lets go of it now.
        job->take_future();
        throw;
    }
}

}  // namespace detail

// --- EventLoop's executor members -------------------------------------------------------

Executor& EventLoop::default_executor() {
    if (default_executor_shut_down_)
        throw RuntimeError("Executor shutdown has been called (shutdown_default_executor)");
    if (!default_executor_) default_executor_ = std::make_shared<ThreadPoolExecutor>();
    return *default_executor_;
}

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) {
    default_executor_ = std::move(executor);
}

std::size_t EventLoop::executor_jobs_in_flight() const noexcept {
    return executor_link_ ? executor_link_->in_flight() : 0;
}

Coro<void> EventLoop::shutdown_default_executor() {
    default_executor_shut_down_ = true;
    std::shared_ptr<Executor> executor = std::move(default_executor_);
    if (!executor) co_return;
    // Waiting on a thread of its own keeps this loop running meanwhile, so jobs that need
    // the loop to finish (a call_soon_threadsafe they wait on) still can.
    ThreadPoolExecutor waiter(1);
    Future<void> joined = run_in_executor(waiter, [executor] { executor->shutdown(true); });
    co_await joined;
}

void EventLoop::close_executor_link() noexcept {
    if (executor_link_) executor_link_->detach();
    // asyncio's close(): shut the default executor down without waiting (its destructor,
    // with the loop's, waits for its threads).
    if (default_executor_) default_executor_->shutdown(false);
}

}  // namespace aio
