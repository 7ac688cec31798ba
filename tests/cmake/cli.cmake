# The gymdash command-line tool (examples/cli): a few direct runs, then
# tests/python/test_cli.py, which checks exit codes, stderr and --json output
# of whole flows on a temporary SQLite file. Included by tests/CMakeLists.txt;
# the tool exists only with GYMDASH_BUILD_EXAMPLES.
#
# Run as a script (cmake -P, by the cli_installed test) it installs the build
# tree into PREFIX and runs the installed tool.
if(CMAKE_SCRIPT_MODE_FILE)
  file(REMOVE_RECURSE "${PREFIX}")
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install failed (${rc}): ${err}")
  endif()
  execute_process(COMMAND "${PREFIX}/${BINDIR}/gymdash" --db memory: metrics
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "installed gymdash failed (${rc}): ${err}")
  endif()
  message("${out}")
  return()
endif()

if(NOT TARGET gymdash_cli)
  return()
endif()

set(_cli_tmp "${CMAKE_CURRENT_BINARY_DIR}/tmp/cli")
file(MAKE_DIRECTORY "${_cli_tmp}")
# Configuration files for the config check tests: one good, one with errors.
file(WRITE "${_cli_tmp}/good.json" [[
{"storage": "sqlite:gymdash.db", "gyms": {"gym-nyc": {"hot_threshold": 80}}, "logging": {"format": "logfmt"}}
]])
file(WRITE "${_cli_tmp}/bad.json" [[
{"gyms": {"x": {"call_hours": {"start": "25:00"}}}, "worker_thread": 3}
]])

add_test(NAME cli_config_check_good
  COMMAND gymdash_cli config check "${_cli_tmp}/good.json")
set_tests_properties(cli_config_check_good PROPERTIES
  PASS_REGULAR_EXPRESSION "^ok\n$" LABELS "cli")

# Fails (exit 1, checked by test_cli.py) and names the key path of each error.
add_test(NAME cli_config_check_bad
  COMMAND gymdash_cli config check "${_cli_tmp}/bad.json")
set_tests_properties(cli_config_check_bad PROPERTIES
  WILL_FAIL TRUE LABELS "cli")
add_test(NAME cli_config_check_bad_names_keys
  COMMAND gymdash_cli config check "${_cli_tmp}/bad.json")
set_tests_properties(cli_config_check_bad_names_keys PROPERTIES
  PASS_REGULAR_EXPRESSION "gymdash: [^\n]*bad.json: gyms\\.x\\.call_hours\\.start: [^\n]*\ngymdash: [^\n]*bad.json: worker_thread: unknown key"
  LABELS "cli")

# `config defaults` is a JSON document.
add_test(NAME cli_config_defaults_is_json
  COMMAND "${GYMDASH_PYTHON}" -c
    "import json, subprocess, sys; d = json.loads(subprocess.run(sys.argv[1:], check=True, stdout=subprocess.PIPE).stdout); assert d['storage'] == 'sqlite:gymdash.db', d"
    "$<TARGET_FILE:gymdash_cli>" config defaults)
set_tests_properties(cli_config_defaults_is_json PROPERTIES LABELS "cli")

add_test(NAME cli_metrics
  COMMAND gymdash_cli --db memory: metrics)
set_tests_properties(cli_metrics PROPERTIES
  PASS_REGULAR_EXPRESSION "gymdash_operation_calls_total\\{operation=\"lead.create\"\\} 0"
  LABELS "cli")

add_test(NAME cli_unknown_command
  COMMAND gymdash_cli frobnicate)
set_tests_properties(cli_unknown_command PROPERTIES WILL_FAIL TRUE LABELS "cli")

# Campaigns: a bad state name is an error (exit 1, checked by test_cli.py's
# CampaignCliTest with the whole flow) naming the option.
add_test(NAME cli_campaign_bad_state
  COMMAND gymdash_cli --db memory: campaign list --gym gym-x --state running)
set_tests_properties(cli_campaign_bad_state PROPERTIES WILL_FAIL TRUE LABELS "cli")
add_test(NAME cli_campaign_bad_state_names_option
  COMMAND gymdash_cli --db memory: campaign list --gym gym-x --state running)
set_tests_properties(cli_campaign_bad_state_names_option PROPERTIES
  PASS_REGULAR_EXPRESSION "gymdash: --state: \"running\" is not a campaign state" LABELS "cli")

# Whole flows with exact exit codes: config, gyms, leads, CSV imports (the
# progress line through a pseudo-terminal), who to call, do-not-call lists,
# usage errors, metrics.
add_test(NAME cli_test
  COMMAND "${GYMDASH_PYTHON}" -B -m unittest -v test_cli
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}/tests/python")
set_tests_properties(cli_test PROPERTIES
  ENVIRONMENT "GYMDASH_CLI=$<TARGET_FILE:gymdash_cli>;GYMDASH_TEST_TMP=${_cli_tmp};PYTHONDONTWRITEBYTECODE=1"
  LABELS "cli")

# The installed tool runs from its prefix (RUNPATH to the installed library).
if(GYMDASH_INSTALL)
  add_test(NAME cli_installed
    COMMAND "${CMAKE_COMMAND}"
      "-DBUILD_DIR=${PROJECT_BINARY_DIR}"
      "-DPREFIX=${_cli_tmp}/prefix"
      "-DBINDIR=${CMAKE_INSTALL_BINDIR}"
      -P "${CMAKE_CURRENT_LIST_FILE}")
  set_tests_properties(cli_installed PROPERTIES
    PASS_REGULAR_EXPRESSION "gymdash_operation_calls_total" LABELS "cli;install")
endif()
