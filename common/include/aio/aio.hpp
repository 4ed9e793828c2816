#pragma once
// Everything in aio, in one include.
#include "callback.hpp"
#include "coro.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "future.hpp"
#include "handle.hpp"
#include "run.hpp"
#include "selector_event_loop.hpp"
#include "sleep.hpp"
#include "task.hpp"
#include "time.hpp"
#include "virtual_time_loop.hpp"
