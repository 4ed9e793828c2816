# Google Benchmark programs, declared the same way everywhere.

# aio_add_benchmark(<name> SOURCES <files...> [LIBRARIES <targets...>])
# A Google Benchmark program. `all` builds it too (AIO_BUILD_BENCHMARKS is on by default),
# so benchmarks never stop compiling; `aio_bench` builds just the benchmarks.
function(aio_add_benchmark name)
  cmake_parse_arguments(arg "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE benchmark::benchmark aio::options ${arg_LIBRARIES})
  add_dependencies(aio_bench ${name})
  set_property(GLOBAL APPEND PROPERTY AIO_BENCHMARKS ${name})
endfunction()
