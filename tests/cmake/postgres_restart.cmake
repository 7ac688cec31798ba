# postgres_restart_test restarts the test cluster (scripts/pg-cluster.sh
# restart, with the cluster's directory from GYMDASH_TEST_POSTGRES_DIR): it
# runs alone, since every other PostgreSQL case uses that server too.
# Included by tests/CMakeLists.txt.
set_property(TEST postgres_restart_test APPEND PROPERTY ENVIRONMENT
             "GYMDASH_PG_CLUSTER=${PROJECT_SOURCE_DIR}/scripts/pg-cluster.sh")
set_property(TEST postgres_restart_test PROPERTY RUN_SERIAL TRUE)
