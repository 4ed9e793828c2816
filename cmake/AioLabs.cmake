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
set(AIO_SOLUTIONS_DIR "${PROJECT_SOURCE_DIR}/solutions")

# aio_add_lab_variant(<variant> <lab> <source dir> <student files...>)
function(aio_add_lab_variant variant lab source_dir)
  set(files ${ARGN})
  set(paths "")
  foreach(file IN LISTS files)
    list(APPEND paths "${source_dir}/${file}")
  endforeach()
  # Header-only labs still get a library target, so tests link the same way everywhere.
  add_library(${variant} STATIC ${paths} "${AIO_LABS_CMAKE_DIR}/lab_anchor.cpp")
  target_include_directories(${variant} PUBLIC "${source_dir}")
  target_link_libraries(${variant} PUBLIC aio::aio PRIVATE aio::options)
  set_target_properties(${variant} PROPERTIES AIO_LAB "${lab}" AIO_LAB_SOURCE_DIR "${source_dir}")

  file(GLOB tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/tests/test_*.cpp")
  if(tests)
    aio_add_test(${variant}_tests SOURCES ${tests} LIBRARIES ${variant} LABELS "${variant};${lab}")
  endif()
endfunction()

# aio_add_lab(SOURCES <student files...>): called from labs/NN_name/CMakeLists.txt.
function(aio_add_lab)
  cmake_parse_arguments(arg "" "" "SOURCES" ${ARGN})
  get_filename_component(lab "${CMAKE_CURRENT_SOURCE_DIR}" NAME)   # 03_future
  string(SUBSTRING "${lab}" 0 2 number)                               # 03
  set_property(GLOBAL APPEND PROPERTY AIO_LABS "${lab}")
  set_property(GLOBAL PROPERTY AIO_LAB_${number}_SOURCES "${arg_SOURCES}")

  set(student_dir "${AIO_SUBMISSION_DIR}/${lab}")
  if(EXISTS "${student_dir}")
    aio_add_lab_variant(lab_${number} ${lab} "${student_dir}" ${arg_SOURCES})
  else()
    message(WARNING "lab ${lab}: ${student_dir} does not exist; its student build is skipped")
  endif()
  if(AIO_BUILD_SOLUTIONS AND EXISTS "${AIO_SOLUTIONS_DIR}/${lab}")
    aio_add_lab_variant(solution_${number} ${lab} "${AIO_SOLUTIONS_DIR}/${lab}" ${arg_SOURCES})
  endif()
endfunction()

set(AIO_LABS_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
