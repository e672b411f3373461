# Catch2 test names travel through CMake lists (catch_discover_tests), which split at ';'. A
# TEST_CASE named "a; b" is registered as "a", matches no test case, and CTest reports it as
# passed without running it. SECTION names are held to the same rule so that a section can be
# picked out by name from CTest as well.
#
# Included by tests/CMakeLists.txt, which checks each test executable's sources at configure time.
# Run as a script (cmake -DTANDEM_TESTS_DIR=<tests> -P check_test_names.cmake) it checks every
# source under that folder: CTest runs it, so a name edited without reconfiguring is caught too.

# Sets `out_var` to one line per offending name ("file: TEST_CASE \"name\""), empty if none.
function(tandem_find_unsafe_test_names out_var)
  set(found "")
  foreach(file IN LISTS ARGN)
    file(READ "${file}" content)
    # The content is text, not a list: turn its ';' into a marker before matching, so that
    # neither the matches nor the list of them are split.
    string(REPLACE ";" "<semicolon>" content "${content}")
    # TEST_CASE("..."), TEMPLATE_TEST_CASE("..."), SECTION("..."), SCENARIO("..."), with the
    # name possibly on the next line, and TEST_CASE_METHOD(Fixture, "...").
    set(space "[ \t\r\n]*")
    string(REGEX MATCHALL
      "(TEST_CASE|SECTION|SCENARIO)[A-Z_]*\\(${space}([A-Za-z_:]+${space},${space})?\"([^\"\\\\]|\\\\.)*\""
      calls "${content}")
    foreach(call IN LISTS calls)
      if(call MATCHES "<semicolon>")
        string(REGEX MATCH [=[^[A-Z_]+]=] macro "${call}")
        string(REGEX MATCH [=[".*"$]=] name "${call}")
        list(APPEND found "${file}: ${macro} ${name}")
      endif()
    endforeach()
  endforeach()
  set(${out_var} "${found}" PARENT_SCOPE)
endfunction()

function(tandem_report_unsafe_test_names names)
  list(JOIN names "\n  " lines)
  string(REPLACE "<semicolon>" ";" lines "${lines}")
  message(FATAL_ERROR
    "Test names must not contain ';' (CMake splits them there and CTest would report the "
    "truncated test as passed without running it); use ',' instead:\n  ${lines}")
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(NOT TANDEM_TESTS_DIR)
    message(FATAL_ERROR "usage: cmake -DTANDEM_TESTS_DIR=<tests folder> -P check_test_names.cmake")
  endif()
  file(GLOB_RECURSE sources "${TANDEM_TESTS_DIR}/*.cpp" "${TANDEM_TESTS_DIR}/*.hpp")
  tandem_find_unsafe_test_names(unsafe ${sources})
  if(unsafe)
    tandem_report_unsafe_test_names("${unsafe}")
  endif()
  list(LENGTH sources count)
  message(STATUS "${count} test sources checked: no test name contains ';'")
endif()
