# How a lab is built: the student's files of labs/NN_name/ (or of a submission, or of the
# reference solution) compiled against aio, with the lab's public tests.
#
# A lab folder's CMakeLists.txt says only which files are the student's:
#     aio_add_lab(SOURCES event_loop.hpp event_loop.cpp)
# and this function builds up to two variants of it:
#   lab_NN        the student's files, from ${AIO_SUBMISSION_DIR}/NN_name/ (default labs/)
#   solution_NN   the same file names from solutions/NN_name/, when that folder exists
# Each variant is a static library `<variant>` plus a test program `<variant>_tests` made
# of labs/NN_name/tests/test_*.cpp. Tests, build files and handouts always come from labs/,
# so a submission (or the solution) only ever replaces the student's files: nothing is
# copied into labs/. A lab that fails to compile only breaks its own targets.

set(AIO_SUBMISSION_DIR "${PROJECT_SOURCE_DIR}/labs" CACHE PATH
    "Folder whose NN_name/ subfolders hold the student files to build (a submission)")
option(AIO_BUILD_SOLUTIONS "Also build every lab with its reference solution" ON)
option(AIO_BUILD_STARTERS "Build the labs with the student files (off: solutions only)" ON)
option(AIO_CHECK_STARTERS "Test that every public test fails on the untouched starter code" ON)
# The project's own hidden tests are built by default, so that `make test` checks that the
# solutions pass them and the starter code fails them; the grader sets its own value, and
# the student release has no such folder.
set(aio_default_hidden "")
if(EXISTS "${PROJECT_SOURCE_DIR}/autograder/hidden")
  set(aio_default_hidden "${PROJECT_SOURCE_DIR}/autograder/hidden")
endif()
set(AIO_HIDDEN_TESTS_DIR "${aio_default_hidden}" CACHE PATH
    "Folder whose NN_name/ subfolders hold hidden tests")
set(AIO_SOLUTIONS_DIR "${PROJECT_SOURCE_DIR}/solutions")

# aio_add_lab_library(<variant> <lab> <source dir> <student files...>): the library of one
# variant (a student's files, the solution's, or a mutant's copy), built on aio.
function(aio_add_lab_library variant lab source_dir)
  set(paths "")
  foreach(file IN LISTS ARGN)
    list(APPEND paths "${source_dir}/${file}")
  endforeach()
  # Header-only labs still get a library target, so tests link the same way everywhere.
  add_library(${variant} STATIC ${paths} "${AIO_LABS_CMAKE_DIR}/lab_anchor.cpp")
  target_include_directories(${variant} PUBLIC "${source_dir}")
  target_link_libraries(${variant} PUBLIC aio::aio PRIVATE aio::options)
  set_target_properties(${variant} PROPERTIES AIO_LAB "${lab}" AIO_LAB_SOURCE_DIR "${source_dir}")
endfunction()

# _aio_expect_starter_fails(<variant> <lab> <suite: public|hidden> <test program target>)
# One CTest test: every test case of the program fails on the starter code, quickly.
function(_aio_expect_starter_fails variant lab suite program)
  if(NOT AIO_CHECK_STARTERS)
    return()
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(name "${variant}: every ${suite} test fails on the starter code")
  add_test(NAME "${name}" COMMAND Python3::Interpreter "${AIO_LABS_CMAKE_DIR}/expect_all_fail.py"
                                  $<TARGET_FILE:${program}>)
  set(labels "starter;${lab}")
  if(suite STREQUAL "hidden")
    set(labels "starter;hidden;${lab}")
  endif()
  set_tests_properties("${name}" PROPERTIES LABELS "${labels}" TIMEOUT 300)
endfunction()

# aio_add_lab_variant(<variant> <lab> <source dir> <student files...>)
function(aio_add_lab_variant variant lab source_dir)
  aio_add_lab_library(${variant} ${lab} "${source_dir}" ${ARGN})

  # Public tests. The solution must pass each one (one CTest test per TEST_CASE); the
  # starter must fail each one, quickly (one CTest test that checks them all). Students
  # run their own build with `make check`, not through CTest.
  file(GLOB tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/tests/test_*.cpp")
  if(tests)
    if(variant MATCHES "^lab_")
      aio_add_test(${variant}_tests SOURCES ${tests} LIBRARIES ${variant} NO_DISCOVER)
      _aio_expect_starter_fails(${variant} ${lab} public ${variant}_tests)
    else()
      aio_add_test(${variant}_tests SOURCES ${tests} LIBRARIES ${variant} LABELS "${variant}")
    endif()
  endif()

  # Hidden tests (autograder/hidden/NN_name/): the solution must pass each one, the
  # starter must fail each one, as with the public tests.
  if(AIO_HIDDEN_TESTS_DIR)
    file(GLOB hidden CONFIGURE_DEPENDS "${AIO_HIDDEN_TESTS_DIR}/${lab}/test_*.cpp")
    if(hidden AND variant MATCHES "^lab_")
      aio_add_test(${variant}_hidden_tests SOURCES ${hidden} LIBRARIES ${variant} NO_DISCOVER)
      _aio_expect_starter_fails(${variant} ${lab} hidden ${variant}_hidden_tests)
    elseif(hidden)
      aio_add_test(${variant}_hidden_tests SOURCES ${hidden} LIBRARIES ${variant} LABELS "hidden")
    endif()
  endif()
endfunction()

# aio_add_lab(SOURCES <student files...>): called from labs/NN_name/CMakeLists.txt.
function(aio_add_lab)
  cmake_parse_arguments(arg "" "" "SOURCES" ${ARGN})
  get_filename_component(lab "${CMAKE_CURRENT_SOURCE_DIR}" NAME)   # 03_future
  string(SUBSTRING "${lab}" 0 2 number)                               # 03
  set_property(GLOBAL APPEND PROPERTY AIO_LABS "${lab}")
  # Every test of this lab (solution, starter, mutants) carries the lab's label:
  # `ctest -L 03_future`. (One label per catch_discover_tests call, so it is set here.)
  set_property(DIRECTORY APPEND PROPERTY LABELS "${lab}")
  set_property(GLOBAL PROPERTY AIO_LAB_${number}_SOURCES "${arg_SOURCES}")

  set(student_dir "${AIO_SUBMISSION_DIR}/${lab}")
  if(NOT AIO_BUILD_STARTERS)
    # Sanitizer and second-compiler builds check the runtime and the solutions only.
  elseif(EXISTS "${student_dir}")
    aio_add_lab_variant(lab_${number} ${lab} "${student_dir}" ${arg_SOURCES})
  else()
    message(WARNING "lab ${lab}: ${student_dir} does not exist; its student build is skipped")
  endif()
  if(AIO_BUILD_SOLUTIONS AND EXISTS "${AIO_SOLUTIONS_DIR}/${lab}")
    aio_add_lab_variant(solution_${number} ${lab} "${AIO_SOLUTIONS_DIR}/${lab}" ${arg_SOURCES})
    aio_add_lab_mutants(${lab} ${number} ${arg_SOURCES})
  endif()
endfunction()

set(AIO_LABS_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
include(AioMutants)
