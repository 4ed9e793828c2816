#pragma once
// The exceptions aio raises, named after asyncio's.
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace aio {

/// Raised at a task's await point when the task is cancelled (asyncio.CancelledError).
/// Like asyncio (3.8+), it does not derive from the ordinary error base `aio::Error`, so a
/// `catch (const aio::Error&)` never swallows a cancellation by accident.
class CancelledError : public std::exception {
public:
    explicit CancelledError(std::string message = {}) : message_(std::move(message)) {}
    /// The message given to cancel(msg), empty if none.
    const std::string& message() const noexcept { return message_; }
    const char* what() const noexcept override {
        return message_.empty() ? "CancelledError" : message_.c_str();
    }

private:
    std::string message_;
};

/// Base of aio's ordinary errors.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A loop or task used in a way its state does not allow (asyncio's RuntimeError).
class RuntimeError : public Error {
public:
    using Error::Error;
};

/// An operation on a future in the wrong state: result() before done, set_result() twice.
class InvalidStateError : public Error {
public:
    using Error::Error;
};

/// A value out of range for an operation: release() of a BoundedSemaphore beyond its
/// initial value, task_done() called too often (Python's ValueError).
class ValueError : public Error {
public:
    using Error::Error;
};

/// A deadline passed: raised by wait_for() and by a timeout() scope (asyncio.TimeoutError).
class TimeoutError : public Error {
public:
    explicit TimeoutError(const std::string& what = "TimeoutError") : Error(what) {}
};

/// The virtual-time loop found nothing that could ever make progress: no ready callback,
/// no timer and no I/O, while run_until_complete() still waits. Python would hang here.
class DeadlockError : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
};

/// EOF came before a stream read got what it asked for (asyncio.IncompleteReadError).
class IncompleteReadError : public Error {
public:
    /// `expected`: the byte count readexactly() asked for; empty for readuntil().
    IncompleteReadError(std::string partial, std::optional<std::size_t> expected);
    /// The bytes read before EOF (consumed from the stream).
    const std::string& partial() const noexcept { return partial_; }
    const std::optional<std::size_t>& expected() const noexcept { return expected_; }

private:
    std::string partial_;
    std::optional<std::size_t> expected_;
};

/// A stream's buffer limit was reached before the separator (asyncio.LimitOverrunError).
class LimitOverrunError : public Error {
public:
    LimitOverrunError(const std::string& message, std::size_t consumed)
        : Error(message), consumed_(consumed) {}
    /// How many bytes can be consumed before the separator (it starts there, if found).
    std::size_t consumed() const noexcept { return consumed_; }

private:
    std::size_t consumed_;
};

/// Several errors raised together, as by a TaskGroup (asyncio's BaseExceptionGroup).
class ExceptionGroup : public Error {
public:
    ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }
    const std::string& message() const noexcept { return message_; }

private:
    std::string message_;
    std::vector<std::exception_ptr> exceptions_;
};

/// A readable one-line description of any exception_ptr: "TypeName: what()".
std::string describe_exception(const std::exception_ptr& error);

}  // namespace aio
