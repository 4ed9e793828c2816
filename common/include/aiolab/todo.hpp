#pragma once
// aiolab::todo: what a lab's starter code calls where the student's code goes.
//
// Starter code must compile and its tests must fail with a clear message rather than
// crash or hang, so every unimplemented function throws NotImplemented naming the step.
#include <source_location>
#include <stdexcept>
#include <string>

namespace aiolab {

/// Thrown by starter code that the student has not written yet.
class NotImplemented : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// Throws NotImplemented("TODO(<what>) at file:line"); never returns.
[[noreturn]] inline void todo(const char* what,
                              std::source_location where = std::source_location::current()) {
    throw NotImplemented(std::string("not implemented yet: TODO(") + what + ") at " +
                         where.file_name() + ":" + std::to_string(where.line()));
}

}  // namespace aiolab
