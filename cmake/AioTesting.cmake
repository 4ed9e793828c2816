# Helpers to declare Catch2 tests and Google benchmarks the same way everywhere.
#
# Catch2 v2 is a single header whose main() takes ~20 s to compile here, so it is built
# once, as an object library that every test program links, and its header is
# precompiled once and reused by every test target built with the same flags.

add_library(aio_catch_main OBJECT "${CMAKE_CURRENT_LIST_DIR}/catch_main.cpp")
target_link_libraries(aio_catch_main PUBLIC Catch2::Catch2 aio::options)
# The precompiled header lives in its own target: catch_main.cpp must see
# CATCH_CONFIG_MAIN before the header, which a forced precompiled include would defeat.
add_library(aio_catch_pch OBJECT "${CMAKE_CURRENT_LIST_DIR}/catch_pch.cpp")
target_link_libraries(aio_catch_pch PUBLIC Catch2::Catch2 aio::options)
set_target_properties(aio_catch_pch PROPERTIES AIO_TEST_PROGRAM ON)  # the tests' flags
target_precompile_headers(aio_catch_pch PRIVATE <catch2/catch.hpp>)

# aio_add_test(<name> SOURCES <files...> [LIBRARIES <targets...>] [OPTIONS <flags...>]
#              [LABELS <labels...>] [NO_PCH] [NO_DISCOVER])
# Builds <name> from SOURCES plus the shared Catch2 main, and registers each TEST_CASE
# with CTest as its own test (so `ctest -R <pattern>` runs one rule), unless NO_DISCOVER.
function(aio_add_test name)
  cmake_parse_arguments(arg "NO_PCH;NO_DISCOVER" "" "SOURCES;LIBRARIES;OPTIONS;LABELS" ${ARGN})
  add_executable(${name} ${arg_SOURCES} $<TARGET_OBJECTS:aio_catch_main>)
  target_link_libraries(${name} PRIVATE Catch2::Catch2 aio::options ${arg_LIBRARIES})
  set_target_properties(${name} PROPERTIES AIO_TEST_PROGRAM ON)  # see AioOptions.cmake
  if(arg_OPTIONS)
    target_compile_options(${name} PRIVATE ${arg_OPTIONS})
  endif()
  if(NOT arg_NO_PCH AND NOT arg_OPTIONS)
    target_precompile_headers(${name} REUSE_FROM aio_catch_pch)
  endif()
  if(NOT arg_NO_DISCOVER)
    catch_discover_tests(${name}
      TEST_PREFIX "${name}: "
      PROPERTIES LABELS "${arg_LABELS}" TIMEOUT 120)
  endif()
endfunction()
