# Warnings and sanitizers for every aiolab target, through one interface library.
add_library(aio_options INTERFACE)
add_library(aio::options ALIAS aio_options)

# No -Wnon-virtual-dtor: aio uses protected non-virtual destructors for intrusive nodes,
# which GCC 12 still flags when the class has friends.
target_compile_options(aio_options INTERFACE
  -Wall -Wextra -Wpedantic -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
# Not in test programs: they write coroutines as captureless lambdas whose parameters carry
# the test's locals (a capturing coroutine lambda would dangle), so the names repeat.
target_compile_options(aio_options INTERFACE
  $<$<NOT:$<BOOL:$<TARGET_PROPERTY:AIO_TEST_PROGRAM>>>:-Wshadow>)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false positives from inlined coroutine frames and std::optional, and
  # -Wrestrict ones inside std::string at -O3 (a known GCC 12 false positive).
  target_compile_options(aio_options INTERFACE -Wno-maybe-uninitialized -Wno-null-dereference
                         -Wno-restrict)
endif()
if(AIO_WERROR)
  target_compile_options(aio_options INTERFACE -Werror)
endif()

if(AIO_SANITIZE)
  target_compile_options(aio_options INTERFACE
    -fsanitize=${AIO_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(aio_options INTERFACE -fsanitize=${AIO_SANITIZE})
endif()
