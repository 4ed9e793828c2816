# The mutant corpus: plausible wrong solutions that the lab's tests must catch.
#
# autograder/mutants/NN_name/<mutant>/ holds `mutant.patch` (a unified diff against the
# student files of solutions/NN_name/) and `MUTANT.md` (the bug, and under "## Caught by"
# the tests that must not pass on it). For each mutant this builds
#   mutant_NN_<mutant>               the solution's files with the patch applied
#   mutant_NN_<mutant>_tests         the lab's public tests linked against it
#   mutant_NN_<mutant>_hidden_tests  the lab's hidden tests linked against it
# and one CTest test (label `mutants`) that runs every test case the way the grader does
# and fails unless each named test is caught. The test programs reuse the solution's
# compiled tests when the patch touches only .cpp files. A patched header means the tests
# are compiled again against it, which is most of the corpus's build time, so then only
# the hidden tests (all of them: every hidden test must catch some mutant) and the public
# test files that hold a test named in MUTANT.md are compiled.
#
# Patches are applied at configure time into the build tree; a patch that no longer
# applies (the solution changed under it) becomes a failing test that says so, and the
# rest of the build is unaffected.

option(AIO_CHECK_MUTANTS "Build every mutant of autograder/mutants/ and test that it is caught" OFF)
set(AIO_MUTANTS_DIR "${PROJECT_SOURCE_DIR}/autograder/mutants")
set(AIO_MUTANT_CHECK "${PROJECT_SOURCE_DIR}/autograder/tests/mutant_check.py")

# _aio_apply_mutant(<patch> <solution dir> <copy dir> <files> <error variable>)
# Copies the lab's student files from the solution and applies the patch to the copy. The
# copy is only rewritten where its content changes, so a re-configure rebuilds nothing.
function(_aio_apply_mutant patch solution_dir copy_dir files error_var)
  set(scratch "${copy_dir}.new")
  file(REMOVE_RECURSE "${scratch}")
  file(MAKE_DIRECTORY "${scratch}")
  foreach(file IN LISTS files)
    file(COPY "${solution_dir}/${file}" DESTINATION "${scratch}")
  endforeach()
  # --fuzz=0: every context line must still match, so a solution edited next to the
  # mutation is noticed instead of silently mutating something else.
  execute_process(
    COMMAND "${AIO_PATCH_EXECUTABLE}" --batch --forward --fuzz=0 --no-backup-if-mismatch
            --reject-file=- -p1 -d "${scratch}" -i "${patch}"
    RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    string(STRIP "${output}" output)
    set(${error_var} "${output}" PARENT_SCOPE)
    return()
  endif()
  foreach(file IN LISTS files)
    configure_file("${scratch}/${file}" "${copy_dir}/${file}" COPYONLY)
  endforeach()
  file(REMOVE_RECURSE "${scratch}")
  set(${error_var} "" PARENT_SCOPE)
endfunction()

# aio_add_lab_mutants(<lab> <number> <student files...>): called by aio_add_lab, in the
# lab's directory (so the tests' per-file options, such as -O0, apply here too).
function(aio_add_lab_mutants lab number)
  set(files ${ARGN})
  if(NOT AIO_CHECK_MUTANTS OR NOT TARGET solution_${number} OR NOT EXISTS "${AIO_MUTANT_CHECK}")
    return()
  endif()
  file(GLOB mutant_dirs LIST_DIRECTORIES true "${AIO_MUTANTS_DIR}/${lab}/*")
  list(SORT mutant_dirs)
  if(NOT mutant_dirs)
    return()
  endif()
  find_program(AIO_PATCH_EXECUTABLE patch)
  if(NOT AIO_PATCH_EXECUTABLE)
    message(WARNING "mutants of ${lab} skipped: `patch` is not installed (make deps installs it)")
    return()
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  file(GLOB public_tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/tests/test_*.cpp")
  file(GLOB hidden_tests CONFIGURE_DEPENDS "${AIO_HIDDEN_TESTS_DIR}/${lab}/test_*.cpp")
  set(solution_dir "${AIO_SOLUTIONS_DIR}/${lab}")
  foreach(test_file IN LISTS public_tests)
    file(READ "${test_file}" text_of_${test_file})
  endforeach()

  foreach(mutant_dir IN LISTS mutant_dirs)
    if(NOT EXISTS "${mutant_dir}/mutant.patch")
      continue()
    endif()
    get_filename_component(mutant "${mutant_dir}" NAME)
    set(variant mutant_${number}_${mutant})
    set(copy_dir "${CMAKE_CURRENT_BINARY_DIR}/mutants/${mutant}")
    set(test_name "mutant ${lab}/${mutant}: the tests named in its MUTANT.md catch it")
    # Re-configure when the patch or a file it applies to changes.
    set(inputs "${mutant_dir}/mutant.patch")
    foreach(file IN LISTS files)
      list(APPEND inputs "${solution_dir}/${file}")
    endforeach()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${inputs})

    _aio_apply_mutant("${mutant_dir}/mutant.patch" "${solution_dir}" "${copy_dir}" "${files}" error)
    if(error)
      add_test(NAME "${test_name}"
               COMMAND Python3::Interpreter -c "import sys; sys.exit(sys.argv[1])"
                       "${mutant_dir}/mutant.patch no longer applies to ${solution_dir}: ${error}\nRewrite the patch against the current solution (see autograder/mutants/README.md).")
      set_tests_properties("${test_name}" PROPERTIES LABELS "mutants;${lab}")
      continue()
    endif()

    aio_add_lab_library(${variant} ${lab} "${copy_dir}" ${files})

    # Which files does the patch touch? Headers change what the tests compile.
    file(STRINGS "${mutant_dir}/mutant.patch" touched REGEX "^\\+\\+\\+ ")
    set(header_touched OFF)
    foreach(line IN LISTS touched)
      if(line MATCHES "\\.(h|hpp|hh|hxx|ipp)([ \t].*)?$")
        set(header_touched ON)
      endif()
    endforeach()

    # With a patched header: the public test files that define a test named in MUTANT.md.
    set(named_public_tests "")
    file(STRINGS "${mutant_dir}/MUTANT.md" bullets REGEX "^[-*] +\"")
    foreach(bullet IN LISTS bullets)
      string(REGEX REPLACE "^[-*] +\"(.*)\".*$" "\\1" name "${bullet}")
      foreach(test_file IN LISTS public_tests)
        string(FIND "${text_of_${test_file}}" "TEST_CASE(\"${name}\"" found)
        if(found GREATER -1)
          list(APPEND named_public_tests "${test_file}")
        endif()
      endforeach()
    endforeach()
    list(REMOVE_DUPLICATES named_public_tests)

    set(programs "")
    foreach(suite IN ITEMS tests hidden_tests)
      set(sources ${public_tests})
      if(header_touched)
        set(sources ${named_public_tests})
      endif()
      if(suite STREQUAL "hidden_tests")
        set(sources ${hidden_tests})
      endif()
      if(NOT sources OR NOT TARGET solution_${number}_${suite})
        continue()
      endif()
      if(header_touched)
        aio_add_test(${variant}_${suite} SOURCES ${sources} LIBRARIES ${variant} NO_DISCOVER)
      else()
        # Same headers as the solution: link the solution's compiled tests with this library.
        add_executable(${variant}_${suite} $<TARGET_OBJECTS:solution_${number}_${suite}>
                                           $<TARGET_OBJECTS:aio_catch_main>)
        add_dependencies(${variant}_${suite} solution_${number}_${suite})
        target_link_libraries(${variant}_${suite} PRIVATE ${variant} Catch2::Catch2 aio::options)
        set_target_properties(${variant}_${suite} PROPERTIES AIO_TEST_PROGRAM ON)
      endif()
      list(APPEND programs $<TARGET_FILE:${variant}_${suite}>)
    endforeach()

    get_property(index GLOBAL PROPERTY AIO_MUTANT_COUNT)
    if(NOT index)
      set(index 0)
    endif()
    math(EXPR next "${index} + 1")
    set_property(GLOBAL PROPERTY AIO_MUTANT_COUNT ${next})
    add_test(NAME "${test_name}"
             COMMAND Python3::Interpreter "${AIO_MUTANT_CHECK}" run "${mutant_dir}"
                     --lab ${lab} --index ${index}
                     --record "${CMAKE_BINARY_DIR}/mutant-records/${lab}.${mutant}.json"
                     --programs ${programs})
    set_tests_properties("${test_name}" PROPERTIES LABELS "mutants;${lab}" TIMEOUT 600
                         FIXTURES_SETUP aio_mutant_records)
  endforeach()
endfunction()
