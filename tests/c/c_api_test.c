/*
 * c_api_test.c — the C ABI from plain C (C11, -Wall -Wextra -Werror).
 *
 * Compiles gymdash.h as C and drives every function over the memory and the
 * SQLite backends, then the error paths: NULL pointers, malformed JSON, wrong
 * types, unknown fields, bad enums, unknown ids, invalid phones, arguments over
 * 1 MiB and invalid UTF-8, checking the code, the thread-local message (which
 * must name the parameter or field) and that `*out` is NULL on failure.
 * Exits non-zero if any check failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <gymdash.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

/* ---- a tiny check framework ------------------------------------------------ */

static int g_checks = 0;
static int g_failures = 0;

static void fail_at(int line, const char* what) {
  ++g_failures;
  fprintf(stderr, "c_api_test.c:%d: FAILED: %s\n", line, what);
  if (gymdash_last_error_code() != 0) {
    fprintf(stderr, "    last error %d (%s): %s\n", gymdash_last_error_code(),
            gymdash_error_name(gymdash_last_error_code()), gymdash_last_error_message());
  }
}

#define CHECK(cond)                      \
  do {                                   \
    ++g_checks;                          \
    if (!(cond)) fail_at(__LINE__, #cond); \
  } while (0)

/* The call succeeds and leaves no error behind. */
#define CHECK_OK(call)                                                        \
  do {                                                                        \
    int rc_ = (call);                                                         \
    ++g_checks;                                                               \
    if (rc_ != GYMDASH_OK) fail_at(__LINE__, #call " returned an error");     \
    else if (gymdash_last_error_code() != 0 || gymdash_last_error_message()[0] != '\0') \
      fail_at(__LINE__, #call " succeeded but left a last error");            \
  } while (0)

/* The call fails with `code`, the last error agrees, and its message contains `needle`. */
#define CHECK_ERR(call, code, needle) check_err_at(__LINE__, #call, (call), (code), (needle))

static void check_err_at(int line, const char* text, int rc, int code, const char* needle) {
  char buf[512];
  ++g_checks;
  if (rc != code) {
    snprintf(buf, sizeof buf, "%s returned %d (%s), expected %d (%s)", text, rc, gymdash_error_name(rc), code,
             gymdash_error_name(code));
    fail_at(line, buf);
    return;
  }
  if (gymdash_last_error_code() != code) {
    snprintf(buf, sizeof buf, "%s: last_error_code is %d, expected %d", text, gymdash_last_error_code(), code);
    fail_at(line, buf);
    return;
  }
  if (needle != NULL && strstr(gymdash_last_error_message(), needle) == NULL) {
    snprintf(buf, sizeof buf, "%s: message \"%.300s\" does not contain \"%s\"", text, gymdash_last_error_message(),
             needle);
    fail_at(line, buf);
  }
}

/* A failing call given this as *out must leave NULL there. */
static char g_sentinel[] = "sentinel";

#define CHECK_ERR_OUT(out, call, code, needle) \
  do {                                         \
    (out) = g_sentinel;                        \
    CHECK_ERR(call, code, needle);             \
    CHECK((out) == NULL);                      \
  } while (0)

#define CHECK_CONTAINS(haystack, needle) \
  do {                                                                            \
    ++g_checks;                                                                   \
    if ((haystack) == NULL || strstr((haystack), (needle)) == NULL) {             \
      char b_[600];                                                               \
      snprintf(b_, sizeof b_, "\"%.400s\" does not contain \"%s\"",               \
               (haystack) ? (haystack) : "(null)", (needle));                     \
      fail_at(__LINE__, b_);                                                      \
    }                                                                             \
  } while (0)

/*
 * The string value of `key` at the top level of an object written by the
 * library (compact JSON, so `"key":"value"` preceded by `{` or `,`), copied
 * into `dst`. Returns dst, or "" if absent.
 */
static char* json_str(const char* json, const char* key, char* dst, size_t cap) {
  char pattern[128];
  const char* p = json;
  dst[0] = '\0';
  if (json == NULL) return dst;
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  while ((p = strstr(p, pattern)) != NULL) {
    if (p > json && (p[-1] == '{' || p[-1] == ',')) {
      const char* v = p + strlen(pattern);
      const char* end = strchr(v, '"');
      size_t n = end ? (size_t)(end - v) : 0;
      if (n >= cap) n = cap - 1;
      memcpy(dst, v, n);
      dst[n] = '\0';
      return dst;
    }
    ++p;
  }
  return dst;
}

/* The id of the lead in a {"lead":{…},"merged":…} result. */
static char* lead_id_of(const char* result, char* dst, size_t cap) {
  const char* lead = result ? strstr(result, "\"lead\":{") : NULL;
  return json_str(lead ? lead + 7 : NULL, "id", dst, cap);
}

/* ---- the scenario, run on each backend ---------------------------------------- */

static const char* const kGym =
    "{\"id\":\"gym-nyc\",\"name\":\"NYC Midtown\",\"timezone\":\"America/New_York\",\"region\":\"US\","
    "\"state\":\"NY\",\"call_hours\":{\"start\":\"09:00\",\"end\":\"20:00\"},"
    "\"call_days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\"],\"caller_ids\":[\"(212) 736-5000\"]}";

static void test_gyms(gymdash_t* db) {
  char* out = NULL;

  CHECK_OK(gymdash_gym_create(&out, db, kGym));
  CHECK_CONTAINS(out, "\"id\":\"gym-nyc\"");
  CHECK_CONTAINS(out, "\"caller_ids\":[\"+12127365000\"]");
  CHECK_CONTAINS(out, "\"call_days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\"]");
  CHECK_CONTAINS(out, "\"created_at\":\"");
  CHECK_CONTAINS(out, "Z\"");
  gymdash_string_free(out);

  CHECK_OK(gymdash_gym_create(&out, db,
                              "{\"id\":\"gym-la\",\"name\":\"LA Downtown\",\"timezone\":\"America/Los_Angeles\"}"));
  CHECK_CONTAINS(out, "\"region\":\"US\"");
  gymdash_string_free(out);

  /* a generated id */
  CHECK_OK(gymdash_gym_create(&out, db, "{\"name\":\"No Id Gym\",\"timezone\":\"Europe/London\",\"region\":\"GB\"}"));
  CHECK_CONTAINS(out, "\"id\":\"gym_");
  gymdash_string_free(out);

  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, kGym), GYMDASH_E_ALREADY_EXISTS, "gym-nyc");

  CHECK_OK(gymdash_gym_get(&out, db, "gym-nyc"));
  CHECK_CONTAINS(out, "\"name\":\"NYC Midtown\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, "gym-nowhere"), GYMDASH_E_NOT_FOUND, "gym-nowhere");

  CHECK_OK(gymdash_gym_list(&out, db));
  CHECK(out != NULL && out[0] == '[');
  CHECK_CONTAINS(out, "\"id\":\"gym-la\"");
  CHECK_CONTAINS(out, "\"id\":\"gym-nyc\"");
  CHECK(out != NULL && strstr(out, "gym-la") < strstr(out, "gym-nyc")); /* ordered by id */
  gymdash_string_free(out);

  CHECK_OK(gymdash_gym_update(&out, db,
                              "{\"id\":\"gym-nyc\",\"name\":\"NYC Midtown West\",\"timezone\":\"America/New_York\","
                              "\"call_hours\":{\"start\":\"10:00\",\"end\":\"19:30\"}}"));
  CHECK_CONTAINS(out, "\"name\":\"NYC Midtown West\"");
  CHECK_CONTAINS(out, "\"start\":\"10:00\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_gym_update(&out, db, "{\"id\":\"gym-nowhere\",\"name\":\"X\",\"timezone\":\"UTC\"}"),
                GYMDASH_E_NOT_FOUND, "gym-nowhere");

  /* malformed requests name the argument or the field */
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"name\":"), GYMDASH_E_INVALID_ARGUMENT, "gym_json");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "[1,2]"), GYMDASH_E_INVALID_ARGUMENT, "gym_json");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{} {}"), GYMDASH_E_INVALID_ARGUMENT, "gym_json");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"name\":5,\"timezone\":\"UTC\"}"), GYMDASH_E_INVALID_ARGUMENT,
                "name");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"name\":\"A\",\"timezone\":\"UTC\",\"colour\":\"red\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "colour");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"name\":\"A\",\"timezone\":\"UTC\",\"call_days\":[\"funday\"]}"),
                GYMDASH_E_INVALID_ARGUMENT, "call_days[0]");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"name\":\"A\",\"timezone\":\"Mars/Olympus_Mons\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "timezone");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"name\":\"A\",\"timezone\":\"UTC\",\"call_hours\":{\"start\":\"25:00\"}}"),
                GYMDASH_E_INVALID_ARGUMENT, "call_hours.start");
}

static void test_leads(gymdash_t* db) {
  char* out = NULL;
  char id[128], id2[128], tmp[128];

  /* create: the phone is read in the gym's region and stored E.164 */
  CHECK_OK(gymdash_lead_create(&out, db, "gym-nyc",
                               "{\"phone\":\"(212) 736-5001\",\"first_name\":\"Ana\",\"last_name\":\"Lopez\","
                               "\"email\":\"ana@example.com\",\"source\":\"web_form\",\"timeline\":\"asap\","
                               "\"tags\":[\"Spanish\"],\"consent\":{\"given\":true,\"at\":\"2026-01-05T14:00:00Z\","
                               "\"method\":\"web_form\",\"source\":\"https://example.com/join\"},"
                               "\"custom_fields\":{\"goal\":\"strength\"}}"));
  CHECK_CONTAINS(out, "\"merged\":false");
  CHECK_CONTAINS(out, "\"phone\":\"+12127365001\"");
  CHECK_CONTAINS(out, "\"gym_id\":\"gym-nyc\"");
  CHECK_CONTAINS(out, "\"status\":\"new\"");
  CHECK_CONTAINS(out, "\"goal\":\"strength\"");
  CHECK_CONTAINS(out, "\"given\":true");
  lead_id_of(out, id, sizeof id);
  CHECK(strncmp(id, "ld_", 3) == 0);
  gymdash_string_free(out);

  /* the same number typed differently is merged */
  CHECK_OK(gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"+1 212.736.5001\",\"interest\":\"boxing\"}"));
  CHECK_CONTAINS(out, "\"merged\":true");
  lead_id_of(out, tmp, sizeof tmp);
  CHECK(strcmp(tmp, id) == 0);
  CHECK_CONTAINS(out, "\"interest\":\"boxing\"");
  gymdash_string_free(out);

  CHECK_OK(gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"1-212-736-5002\",\"consent\":true,"
                                                    "\"qualification\":\"warm\",\"source\":\"facebook_ads\"}"));
  CHECK_CONTAINS(out, "\"qualification\":\"neutral\"");
  lead_id_of(out, id2, sizeof id2);
  CHECK(strncmp(id2, "ld_", 3) == 0);
  gymdash_string_free(out);

  /* errors on create */
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nowhere", "{\"phone\":\"(212) 736-5003\"}"),
                GYMDASH_E_NOT_FOUND, "gym-nowhere");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"12\"}"), GYMDASH_E_INVALID_ARGUMENT,
                "phone");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"first_name\":\"No Phone\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "phone");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-5003\",\"favourite\":1}"),
                GYMDASH_E_INVALID_ARGUMENT, "favourite");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-5003\",\"status\":\"keen\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "status");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-5003\",\"tags\":\"vip\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "tags");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":2127365003}"), GYMDASH_E_INVALID_ARGUMENT,
                "phone");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-5003\",\"consent\":{\"given\":\"yes\"}}"),
                GYMDASH_E_INVALID_ARGUMENT, "consent.given");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "not json"), GYMDASH_E_INVALID_ARGUMENT, "lead_json");

  /* get, scoped to the gym */
  CHECK_OK(gymdash_lead_get(&out, db, "gym-nyc", id));
  CHECK_CONTAINS(out, "\"first_name\":\"Ana\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, db, "gym-la", id), GYMDASH_E_NOT_FOUND, id);
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, db, "gym-nyc", "ld_nope"), GYMDASH_E_NOT_FOUND, "ld_nope");

  /* update */
  CHECK_OK(gymdash_lead_update(&out, db, "gym-nyc", id,
                               "{\"last_name\":\"López\",\"qualification\":\"hot\",\"actor\":\"ana.coach\"}"));
  CHECK_CONTAINS(out, "\"last_name\":\"López\"");
  CHECK_CONTAINS(out, "\"qualification\":\"hot\"");
  CHECK_CONTAINS(out, "\"qualification_manual\":true");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_update(&out, db, "gym-nyc", id, "{\"qualification\":\"lukewarm\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "qualification");
  CHECK_ERR_OUT(out, gymdash_lead_update(&out, db, "gym-nyc", id, "{\"status\":\"converted\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "status");
  CHECK_ERR_OUT(out, gymdash_lead_update(&out, db, "gym-nyc", id, "{\"phone\":\"(212) 736-5002\"}"),
                GYMDASH_E_ALREADY_EXISTS, NULL);
  CHECK_ERR_OUT(out, gymdash_lead_update(&out, db, "gym-la", id, "{\"first_name\":\"X\"}"), GYMDASH_E_NOT_FOUND, id);

  /* list */
  CHECK_OK(gymdash_lead_list(&out, db, "gym-nyc", NULL));
  CHECK_CONTAINS(out, "\"total\":2");
  CHECK_CONTAINS(out, "\"page\":1");
  CHECK_CONTAINS(out, "\"page_size\":50");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_list(&out, db, "gym-nyc", "{\"qualifications\":[\"hot\"],\"page_size\":10}"));
  CHECK_CONTAINS(out, "\"total\":1");
  CHECK_CONTAINS(out, id);
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_list(&out, db, "gym-nyc", "{\"search\":\"lópez\"}"));
  CHECK_CONTAINS(out, "\"total\":1");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_list(&out, db, "gym-la", "{}"));
  CHECK_CONTAINS(out, "\"items\":[]");
  CHECK_CONTAINS(out, "\"total\":0");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_list(&out, db, "gym-nyc", "{\"statuses\":[\"new\",\"sleepy\"]}"),
                GYMDASH_E_INVALID_ARGUMENT, "statuses[1]");
  CHECK_ERR_OUT(out, gymdash_lead_list(&out, db, "gym-nyc", "{\"page_size\":0}"), GYMDASH_E_INVALID_ARGUMENT,
                "page_size");
  CHECK_ERR_OUT(out, gymdash_lead_list(&out, db, "gym-nyc", "{\"pages\":2}"), GYMDASH_E_INVALID_ARGUMENT, "pages");

  /* tags */
  CHECK_OK(gymdash_lead_add_tags(&out, db, "gym-nyc", id, "[\"VIP\",\" morning \"]"));
  CHECK_CONTAINS(out, "\"tags\":[\"morning\",\"spanish\",\"vip\"]");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_remove_tags(&out, db, "gym-nyc", id, "[\"morning\",\"not-there\"]"));
  CHECK_CONTAINS(out, "\"tags\":[\"spanish\",\"vip\"]");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_list(&out, db, "gym-nyc", "{\"tags\":[\"vip\"]}"));
  CHECK_CONTAINS(out, "\"total\":1");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", id, "{\"tags\":[\"a\"]}"),
                GYMDASH_E_INVALID_ARGUMENT, "tags_json");
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", id, "[\"a\",7]"), GYMDASH_E_INVALID_ARGUMENT,
                "tags_json[1]");
  CHECK_ERR_OUT(out, gymdash_lead_remove_tags(&out, db, "gym-nyc", id, "[\"a\""), GYMDASH_E_INVALID_ARGUMENT,
                "tags_json");
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-la", id, "[\"a\"]"), GYMDASH_E_NOT_FOUND, id);

  /* notes */
  CHECK_OK(gymdash_lead_add_note(&out, db, "gym-nyc", id, "Prefers evening calls; asked about \"Bootcamp\"."));
  CHECK_CONTAINS(out, "\"kind\":\"note\"");
  CHECK_CONTAINS(out, "\"to\":\"Prefers evening calls; asked about \\\"Bootcamp\\\".\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_add_note(&out, db, "gym-nyc", id, ""), GYMDASH_E_INVALID_ARGUMENT, "text");

  /* status */
  CHECK_OK(gymdash_lead_change_status(&out, db, "gym-nyc", id, "{\"to\":\"qualified\",\"actor\":\"ana\"}"));
  CHECK_CONTAINS(out, "\"status\":\"qualified\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_change_status(&out, db, "gym-nyc", id, "{\"to\":\"contacted\"}"),
                GYMDASH_E_CONFLICT, NULL);
  CHECK_OK(gymdash_lead_change_status(
      &out, db, "gym-nyc", id, "{\"to\":\"contacted\",\"force\":true,\"reason\":\"qualified by mistake\",\"actor\":\"ana\"}"));
  CHECK_CONTAINS(out, "\"status\":\"contacted\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_change_status(&out, db, "gym-nyc", id, "{\"to\":\"maybe\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "to");
  CHECK_ERR_OUT(out, gymdash_lead_change_status(&out, db, "gym-nyc", id, "{\"to\":\"lost\",\"force\":\"yes\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "force");

  /* history */
  CHECK_OK(gymdash_lead_history(&out, db, "gym-nyc", id));
  CHECK(out != NULL && out[0] == '[');
  CHECK_CONTAINS(out, "\"kind\":\"created\"");
  CHECK_CONTAINS(out, "\"kind\":\"note\"");
  CHECK_CONTAINS(out, "\"kind\":\"status\"");
  CHECK_CONTAINS(out, "\"reason\":\"qualified by mistake\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_history(&out, db, "gym-la", id), GYMDASH_E_NOT_FOUND, id);

  /* delete */
  CHECK_ERR(gymdash_lead_delete(db, "gym-la", id2), GYMDASH_E_NOT_FOUND, id2);
  CHECK_OK(gymdash_lead_delete(db, "gym-nyc", id2));
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, db, "gym-nyc", id2), GYMDASH_E_NOT_FOUND, id2);
  CHECK_ERR(gymdash_lead_delete(db, "gym-nyc", id2), GYMDASH_E_NOT_FOUND, id2);
}

/* Every required pointer, NULL, is INVALID_ARGUMENT naming the parameter. */
static void test_null_arguments(gymdash_t* db) {
  char* out = NULL;
  const char* lead = "ld_x";

  CHECK_ERR(gymdash_open(NULL, "memory:"), GYMDASH_E_INVALID_ARGUMENT, "out: must not be NULL");

  CHECK_ERR(gymdash_gym_create(NULL, db, kGym), GYMDASH_E_INVALID_ARGUMENT, "out: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, NULL, kGym), GYMDASH_E_INVALID_ARGUMENT, "db: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, NULL), GYMDASH_E_INVALID_ARGUMENT, "gym_json: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, NULL), GYMDASH_E_INVALID_ARGUMENT, "gym_id: must not be NULL");
  CHECK_ERR(gymdash_gym_get(NULL, db, "gym-nyc"), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_ERR_OUT(out, gymdash_gym_list(&out, NULL), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR(gymdash_gym_list(NULL, db), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_ERR_OUT(out, gymdash_gym_update(&out, db, NULL), GYMDASH_E_INVALID_ARGUMENT, "gym_json");

  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, NULL, "{\"phone\":\"(212) 736-5009\"}"), GYMDASH_E_INVALID_ARGUMENT,
                "gym_id: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", NULL), GYMDASH_E_INVALID_ARGUMENT,
                "lead_json: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, db, "gym-nyc", NULL), GYMDASH_E_INVALID_ARGUMENT,
                "lead_id: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, NULL, "gym-nyc", lead), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR_OUT(out, gymdash_lead_update(&out, db, "gym-nyc", lead, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "patch_json: must not be NULL");
  CHECK_ERR(gymdash_lead_delete(db, NULL, lead), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
  CHECK_ERR(gymdash_lead_delete(db, "gym-nyc", NULL), GYMDASH_E_INVALID_ARGUMENT, "lead_id");
  CHECK_ERR(gymdash_lead_delete(NULL, "gym-nyc", lead), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR_OUT(out, gymdash_lead_list(&out, db, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
  CHECK_ERR(gymdash_lead_list(NULL, db, "gym-nyc", NULL), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", lead, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "tags_json: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_lead_remove_tags(&out, db, "gym-nyc", NULL, "[]"), GYMDASH_E_INVALID_ARGUMENT,
                "lead_id");
  CHECK_ERR_OUT(out, gymdash_lead_add_note(&out, db, "gym-nyc", lead, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "text: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_lead_change_status(&out, db, "gym-nyc", lead, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "change_json: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_lead_history(&out, db, NULL, lead), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
}

/* Arguments over 1 MiB and invalid UTF-8 are refused, naming the argument. */
static void test_limits_and_utf8(gymdash_t* db) {
  char* out = NULL;
  char* big = malloc(GYMDASH_MAX_ARG_BYTES + 2);
  char* exact = malloc(GYMDASH_MAX_ARG_BYTES + 1);
  CHECK(big != NULL && exact != NULL);
  if (big == NULL || exact == NULL) {
    free(big);
    free(exact);
    return;
  }
  memset(big, 'a', GYMDASH_MAX_ARG_BYTES + 1);
  big[GYMDASH_MAX_ARG_BYTES + 1] = '\0';
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, big), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, big), GYMDASH_E_INVALID_ARGUMENT, "1048576");
  CHECK_ERR_OUT(out, gymdash_lead_add_note(&out, db, "gym-nyc", "ld_x", big), GYMDASH_E_INVALID_ARGUMENT, "text");

  /* a JSON text over 1 MiB: {"name":"aaaa…"} */
  memcpy(big, "{\"name\":\"", 9);
  memcpy(big + GYMDASH_MAX_ARG_BYTES - 1, "\"}", 2);
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, big), GYMDASH_E_INVALID_ARGUMENT, "gym_json");
  CHECK(strstr(gymdash_last_error_message(), "1048576") != NULL);

  /* exactly 1 MiB passes the size check; the field limit then applies */
  memset(exact, 'a', GYMDASH_MAX_ARG_BYTES);
  exact[GYMDASH_MAX_ARG_BYTES] = '\0';
  {
    int rc;
    out = g_sentinel;
    rc = gymdash_lead_add_note(&out, db, "gym-nyc", "ld_x", exact);
    CHECK(rc == GYMDASH_E_NOT_FOUND || rc == GYMDASH_E_INVALID_ARGUMENT);
    CHECK(out == NULL);
    CHECK(strstr(gymdash_last_error_message(), "1048576 bytes") == NULL);
  }
  free(big);
  free(exact);

  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, "gym-\xff\xfe"), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
  CHECK(strstr(gymdash_last_error_message(), "UTF-8") != NULL);
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"name\":\"Caf\xc3\x28\",\"timezone\":\"UTC\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "gym_json");
  CHECK(strstr(gymdash_last_error_message(), "UTF-8") != NULL);
  CHECK_ERR_OUT(out, gymdash_lead_add_note(&out, db, "gym-nyc", "ld_x", "over\xed\xa0\x80long"), /* a surrogate */
                GYMDASH_E_INVALID_ARGUMENT, "text");
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, db, "gym-nyc", "\xc0\xaf"), /* overlong '/' */
                GYMDASH_E_INVALID_ARGUMENT, "lead_id");
}

/* The last error: cleared by the next call, kept per thread. */
static int error_in_thread(void* arg) {
  gymdash_t* db = arg;
  char* out = NULL;
  int rc = gymdash_gym_get(&out, db, "gym-thread-nowhere");
  return rc == GYMDASH_E_NOT_FOUND && strstr(gymdash_last_error_message(), "gym-thread-nowhere") != NULL ? 0 : 1;
}

static void test_last_error(gymdash_t* db) {
  char* out = NULL;
  thrd_t t;
  int result = -1;

  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, "gym-missing"), GYMDASH_E_NOT_FOUND, "gym-missing");
  /* reading it does not change it */
  CHECK(gymdash_last_error_code() == GYMDASH_E_NOT_FOUND);
  CHECK(strstr(gymdash_last_error_message(), "gym-missing") != NULL);

  /* another thread's failure leaves this thread's error alone */
  CHECK(thrd_create(&t, error_in_thread, db) == thrd_success);
  CHECK(thrd_join(t, &result) == thrd_success);
  CHECK(result == 0);
  CHECK(gymdash_last_error_code() == GYMDASH_E_NOT_FOUND);
  CHECK(strstr(gymdash_last_error_message(), "gym-missing") != NULL);

  /* a successful call clears it */
  CHECK_OK(gymdash_gym_get(&out, db, "gym-nyc"));
  gymdash_string_free(out);
  CHECK(gymdash_last_error_code() == 0);
  CHECK(strcmp(gymdash_last_error_message(), "") == 0);
}

/* One handle, several threads at once. */
enum { kThreads = 4, kLeadsPerThread = 25 };

struct worker {
  gymdash_t* db;
  int index;
  int failures;
};

static int create_leads(void* arg) {
  struct worker* w = arg;
  int i;
  for (i = 0; i < kLeadsPerThread; ++i) {
    char json[128];
    char* out = NULL;
    snprintf(json, sizeof json, "{\"phone\":\"(646) 736-%02d%02d\",\"source\":\"thread\"}", w->index + 10, i);
    if (gymdash_lead_create(&out, w->db, "gym-la", json) != GYMDASH_OK) {
      fprintf(stderr, "thread %d: %s\n", w->index, gymdash_last_error_message());
      ++w->failures;
    }
    gymdash_string_free(out);
    if (gymdash_gym_list(&out, w->db) != GYMDASH_OK) ++w->failures;
    gymdash_string_free(out);
  }
  return 0;
}

static void test_threads(gymdash_t* db) {
  struct worker workers[kThreads];
  thrd_t threads[kThreads];
  char* out = NULL;
  char expected[64];
  int i;
  for (i = 0; i < kThreads; ++i) {
    workers[i].db = db;
    workers[i].index = i;
    workers[i].failures = 0;
    CHECK(thrd_create(&threads[i], create_leads, &workers[i]) == thrd_success);
  }
  for (i = 0; i < kThreads; ++i) {
    CHECK(thrd_join(threads[i], NULL) == thrd_success);
    CHECK(workers[i].failures == 0);
  }
  CHECK_OK(gymdash_lead_list(&out, db, "gym-la", "{\"source\":\"thread\",\"page_size\":1}"));
  snprintf(expected, sizeof expected, "\"total\":%d", kThreads * kLeadsPerThread);
  CHECK_CONTAINS(out, expected);
  gymdash_string_free(out);
}

static void run_scenario(gymdash_t* db) {
  test_gyms(db);
  test_leads(db);
  test_null_arguments(db);
  test_limits_and_utf8(db);
  test_last_error(db);
  test_threads(db);
}

/* ---- open, version, memory ------------------------------------------------ */

static void test_version_and_basics(void) {
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", gymdash_version_major(), gymdash_version_minor(),
           gymdash_version_patch());
  CHECK(gymdash_version() != NULL);
  CHECK(strcmp(gymdash_version(), expected) == 0);
  CHECK(gymdash_version_major() >= 0);

  CHECK(strcmp(gymdash_error_name(GYMDASH_OK), "ok") == 0);
  CHECK(strcmp(gymdash_error_name(GYMDASH_E_NOT_FOUND), "not_found") == 0);
  CHECK(strcmp(gymdash_error_name(GYMDASH_E_INVALID_ARGUMENT), "invalid_argument") == 0);
  CHECK(strcmp(gymdash_error_name(GYMDASH_E_INTERNAL), "internal") == 0);
  CHECK(strcmp(gymdash_error_name(-99), "unknown") == 0);
  CHECK(strcmp(gymdash_error_name(3), "unknown") == 0);

  /* the codes are the stable values of gymdash::ErrorCode */
  CHECK(GYMDASH_E_NOT_FOUND == -1 && GYMDASH_E_INVALID_ARGUMENT == -2 && GYMDASH_E_ALREADY_EXISTS == -3 &&
        GYMDASH_E_CONFLICT == -4 && GYMDASH_E_COMPLIANCE_BLOCKED == -5 && GYMDASH_E_RATE_LIMITED == -6 &&
        GYMDASH_E_PROVIDER_ERROR == -7 && GYMDASH_E_STORAGE_ERROR == -8 && GYMDASH_E_UNAVAILABLE == -9 &&
        GYMDASH_E_INTERNAL == -10);

  gymdash_string_free(NULL);
  gymdash_close(NULL);
  CHECK(gymdash_last_error_message() != NULL);
}

static void test_open_errors(void) {
  gymdash_t* db = NULL;
  gymdash_t* sentinel = (gymdash_t*)g_sentinel;

  db = sentinel;
  CHECK_ERR(gymdash_open(&db, "carrier-pigeon:coop"), GYMDASH_E_INVALID_ARGUMENT, NULL);
  CHECK(db == NULL);
  db = sentinel;
  CHECK_ERR(gymdash_open(&db, "{\"storage\":\"memory:\",\"threads\":2}"), GYMDASH_E_INVALID_ARGUMENT,
            "storage.threads");
  CHECK(db == NULL);
  CHECK_ERR(gymdash_open(&db, "{\"storage\":\"memory:\",\"worker_threads\":0}"), GYMDASH_E_INVALID_ARGUMENT,
            "worker_threads");
  CHECK_ERR(gymdash_open(&db, "{\"storage\":7}"), GYMDASH_E_INVALID_ARGUMENT, "storage");
  CHECK_ERR(gymdash_open(&db, "{\"storage\":"), GYMDASH_E_INVALID_ARGUMENT, "storage");
  CHECK_ERR(gymdash_open(&db, "memory:\xff"), GYMDASH_E_INVALID_ARGUMENT, "storage");
  CHECK_ERR(gymdash_open(&db, "sqlite:/nonexistent-dir/for/sure/x.db"), GYMDASH_E_STORAGE_ERROR, NULL);
  CHECK(db == NULL);

  CHECK_OK(gymdash_open(&db, NULL));
  CHECK(db != NULL);
  gymdash_close(db);
  db = NULL;
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"worker_threads\":3}"));
  CHECK(db != NULL);
  gymdash_close(db);
}

static void remove_db(const char* path) {
  const char* suffixes[] = {"", "-wal", "-shm", "-journal"};
  size_t i;
  for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; ++i) {
    char p[1024];
    snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
    remove(p);
  }
}

int main(void) {
  gymdash_t* db = NULL;
  char path[900];
  char uri[1024];
  char* out = NULL;
  const char* tmp = getenv("GYMDASH_TEST_TMP");

  test_version_and_basics();
  test_open_errors();

  /* memory */
  CHECK_OK(gymdash_open(&db, "memory:"));
  if (db != NULL) {
    run_scenario(db);
    gymdash_close(db);
    db = NULL;
  }

  /* SQLite, then reopened: what was written is still there */
  snprintf(path, sizeof path, "%s/c_api_test-%ld.db", tmp && *tmp ? tmp : "/tmp", (long)getpid());
  remove_db(path);
  snprintf(uri, sizeof uri, "sqlite:%s", path);
  CHECK_OK(gymdash_open(&db, uri));
  if (db != NULL) {
    run_scenario(db);
    gymdash_close(db);
    db = NULL;
  }
  snprintf(uri, sizeof uri, "{\"storage\":\"sqlite:%s\",\"worker_threads\":1}", path);
  CHECK_OK(gymdash_open(&db, uri));
  if (db != NULL) {
    CHECK_OK(gymdash_gym_get(&out, db, "gym-nyc"));
    CHECK_CONTAINS(out, "\"name\":\"NYC Midtown West\"");
    gymdash_string_free(out);
    CHECK_OK(gymdash_lead_list(&out, db, "gym-nyc", NULL));
    CHECK_CONTAINS(out, "\"total\":1");
    CHECK_CONTAINS(out, "\"last_name\":\"López\"");
    gymdash_string_free(out);
    gymdash_close(db);
  }
  remove_db(path);

  printf("c_api_test: %d checks, %d failures (library %s)\n", g_checks, g_failures, gymdash_version());
  return g_failures == 0 ? 0 : 1;
}
