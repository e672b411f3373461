# Every dependency comes from a Debian 12 package. A missing one stops the configuration with the
# package to install; scripts/setup installs them all.
function(tandem_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "${what} not found: install the Debian package '${package}' "
                        "(or run scripts/setup, which installs everything Tandem needs)")
  endif()
endfunction()

find_package(Boost 1.81 QUIET CONFIG COMPONENTS url)
if(NOT Boost_FOUND)
  find_package(Boost 1.81 QUIET COMPONENTS url)
endif()
tandem_require(Boost_FOUND "Boost 1.81 (with Boost.URL)" "libboost1.81-dev libboost-url1.81-dev")

find_package(OpenSSL 3 QUIET)
tandem_require(OPENSSL_FOUND "OpenSSL 3" "libssl-dev")

find_package(nlohmann_json 3.11 QUIET)
tandem_require(nlohmann_json_FOUND "nlohmann/json 3.11" "nlohmann-json3-dev")

# simdjson parses webhook deliveries on the io thread: full validation (UTF-8, structure, numbers)
# at several GB/s, where nlohmann's parser cost more than the rest of the intake together.
find_package(simdjson QUIET CONFIG)
tandem_require(simdjson_FOUND "simdjson" "libsimdjson-dev")

find_package(SQLite3 QUIET)
tandem_require(SQLite3_FOUND "SQLite 3" "libsqlite3-dev")

find_package(yaml-cpp QUIET)
tandem_require(yaml-cpp_FOUND "yaml-cpp" "libyaml-cpp-dev")

find_package(CLI11 QUIET)
tandem_require(CLI11_FOUND "CLI11" "libcli11-dev")

# Time zones (HubSpot's daily limit resets at midnight in the account's zone) from the system's
# tz database, through Howard Hinnant's date library (the C++20 <chrono> zones GCC 12 lacks).
find_package(date QUIET CONFIG)
tandem_require(date_FOUND "date (time zones)" "libhowardhinnant-date-dev")

find_package(Threads REQUIRED)

if(TANDEM_BUILD_TESTS)
  find_package(Catch2 2.13 QUIET)
  tandem_require(Catch2_FOUND "Catch2 2.13" "catch2")
endif()

# yaml-cpp 0.7 on Debian exports the target 'yaml-cpp' without a namespace.
if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()
