/*
 * c_api_test.c — the C ABI from plain C (C11, -Wall -Wextra -Werror).
 *
 * Compiles gymdash.h as C and drives every function over the memory and the
 * SQLite backends, then the error paths: NULL pointers, malformed JSON, wrong
 * types, unknown fields, bad enums, unknown ids, invalid phones, arguments over
 * 1 MiB and invalid UTF-8, checking the code, the thread-local message (which
 * must name the parameter or field) and that `*out` is NULL on failure.
 * Then operations: checking and opening configurations (every bad one names
 * its key, nothing is left open), the log callback (levels, formats, masked
 * phone numbers), metrics in both formats, and a whole run logged at trace
 * whose every line is scanned for phone numbers and email addresses.
 * Last, imports (files and CSV text, progress and cancelling, every reject
 * reason, missing columns), who to call (next, explain, after a call) and the
 * do-not-call lists (and their file import), again over both backends.
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
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", id, "{\"tag\":[\"a\"]}"),
                GYMDASH_E_INVALID_ARGUMENT, "tags_json.tag");
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", id, "{\"actor\":\"ana\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "tags_json.tags: is required");
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", id, "{\"tags\":[\"a\",1]}"),
                GYMDASH_E_INVALID_ARGUMENT, "tags_json.tags[1]");
  CHECK(strcmp(gymdash_last_error_field(), "tags_json.tags[1]") == 0);
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", id, "{\"tags\":[\"a\"],\"actor\":5}"),
                GYMDASH_E_INVALID_ARGUMENT, "tags_json.actor");
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", id, "\"vip\""), GYMDASH_E_INVALID_ARGUMENT,
                "tags_json");
  /* the object form names who did it */
  CHECK_OK(gymdash_lead_add_tags(&out, db, "gym-nyc", id, "{\"tags\":[\"evening\"],\"actor\":\"coach.kim\"}"));
  CHECK_CONTAINS(out, "\"evening\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_remove_tags(&out, db, "gym-nyc", id, "{\"tags\":[\"evening\"],\"actor\":\"coach.lee\"}"));
  CHECK(out != NULL && strstr(out, "\"evening\"") == NULL);
  gymdash_string_free(out);
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
  CHECK_OK(gymdash_lead_add_note_by(&out, db, "gym-nyc", id, "Booked a tour.", "front-desk"));
  CHECK_CONTAINS(out, "\"actor\":\"front-desk\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_add_note_by(&out, db, "gym-nyc", id, "No actor given.", NULL));
  CHECK_CONTAINS(out, "\"actor\":\"api\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_add_note_by(&out, db, "gym-nyc", id, "x", "bad\xff"), GYMDASH_E_INVALID_ARGUMENT,
                "actor");

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
  CHECK_CONTAINS(out, "\"actor\":\"coach.kim\"");
  CHECK_CONTAINS(out, "\"actor\":\"coach.lee\"");
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
  CHECK_ERR_OUT(out, gymdash_lead_add_note_by(&out, db, "gym-nyc", lead, NULL, "ana"), GYMDASH_E_INVALID_ARGUMENT,
                "text: must not be NULL");

  CHECK_ERR(gymdash_open_config_file(NULL, "x.json"), GYMDASH_E_INVALID_ARGUMENT, "out: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_config_check(&out, NULL), GYMDASH_E_INVALID_ARGUMENT, "config_json: must not be NULL");
  CHECK_ERR(gymdash_config_check(NULL, "{}"), GYMDASH_E_INVALID_ARGUMENT, "out: must not be NULL");
  CHECK_ERR(gymdash_config_defaults(NULL), GYMDASH_E_INVALID_ARGUMENT, "out: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_metrics(&out, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "db: must not be NULL");
  CHECK_ERR(gymdash_metrics(NULL, db, NULL), GYMDASH_E_INVALID_ARGUMENT, "out: must not be NULL");
  CHECK_ERR(gymdash_set_log_callback(NULL, NULL, NULL, GYMDASH_LOG_INFO), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR(gymdash_set_log_level(NULL, GYMDASH_LOG_INFO), GYMDASH_E_INVALID_ARGUMENT, "db");
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
            "threads: unknown key");
  CHECK(strcmp(gymdash_last_error_field(), "threads") == 0);
  CHECK(db == NULL);
  CHECK_ERR(gymdash_open(&db, "{\"storage\":\"memory:\",\"worker_threads\":0}"), GYMDASH_E_INVALID_ARGUMENT,
            "worker_threads");
  CHECK_ERR(gymdash_open(&db, "{\"storage\":7}"), GYMDASH_E_INVALID_ARGUMENT, "storage");
  CHECK_ERR(gymdash_open(&db, "{\"storage\":"), GYMDASH_E_INVALID_ARGUMENT, "storage: invalid JSON");
  CHECK_ERR(gymdash_open(&db, "memory:\xff"), GYMDASH_E_INVALID_ARGUMENT, "storage");
  CHECK_ERR(gymdash_open(&db, "sqlite:/nonexistent-dir/for/sure/x.db"), GYMDASH_E_STORAGE_ERROR, NULL);
  CHECK(db == NULL);
  CHECK_ERR(gymdash_open(&db, "{\"storage\":\"sqlite:/nonexistent-dir/for/sure/x.db\"}"), GYMDASH_E_STORAGE_ERROR,
            NULL);
  CHECK(db == NULL);

  CHECK_OK(gymdash_open(&db, NULL));
  CHECK(db != NULL);
  gymdash_close(db);
  db = NULL;
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"worker_threads\":3}"));
  CHECK(db != NULL);
  gymdash_close(db);
}

/* A handle's configured limits.max_request_bytes and limits.max_json_depth
 * replace the built-in 1 MiB and 32 levels for the calls made on it, lowered
 * or raised; a call on another handle, or on none, keeps its own. */
static void test_configured_arg_limits(void) {
  gymdash_t* small = NULL;
  gymdash_t* large = NULL;
  gymdash_t* plain = NULL;
  char* out = NULL;
  char* text = malloc(2 * 1024 * 1024 + 1);
  CHECK(text != NULL);
  if (text == NULL) return;
  CHECK_OK(gymdash_open(&small, "{\"storage\":\"memory:\",\"limits\":{\"max_request_bytes\":2048,"
                                "\"max_json_depth\":4}}"));
  CHECK_OK(gymdash_open(&large, "{\"storage\":\"memory:\",\"limits\":{\"max_request_bytes\":4194304}}"));
  CHECK_OK(gymdash_open(&plain, "memory:"));
  if (small == NULL || large == NULL || plain == NULL) {
    free(text);
    gymdash_close(small);
    gymdash_close(large);
    gymdash_close(plain);
    return;
  }

  /* 2,048 bytes pass the size check (the gym is unknown), 2,049 are refused naming the argument and the limit */
  memset(text, 'g', 2049);
  text[2048] = '\0';
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, small, text), GYMDASH_E_NOT_FOUND, NULL);
  text[2048] = 'g';
  text[2049] = '\0';
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, small, text), GYMDASH_E_INVALID_ARGUMENT,
                "gym_id: is longer than the limit of 2048 bytes");
  /* the same argument on a handle with the built-in limit, right after on this thread */
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, plain, text), GYMDASH_E_NOT_FOUND, NULL);

  /* JSON four levels deep is read (then refused for its shape), five are too deep */
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, small, "{\"name\":\"x\",\"caller_ids\":[[[\"a\"]]]}"),
                GYMDASH_E_INVALID_ARGUMENT, NULL);
  CHECK(strstr(gymdash_last_error_message(), "too deep") == NULL);
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, small, "{\"name\":\"x\",\"caller_ids\":[[[[\"a\"]]]]}"),
                GYMDASH_E_INVALID_ARGUMENT, "gym_json: invalid JSON");
  CHECK(strstr(gymdash_last_error_message(), "too deep") != NULL);
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, plain, "{\"name\":\"x\",\"caller_ids\":[[[[\"a\"]]]]}"),
                GYMDASH_E_INVALID_ARGUMENT, NULL);
  CHECK(strstr(gymdash_last_error_message(), "too deep") == NULL);

  /* raised: 2 MiB pass the size check where the built-in limit refuses them */
  memset(text, 'n', 2 * 1024 * 1024);
  text[2 * 1024 * 1024] = '\0';
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, large, text), GYMDASH_E_NOT_FOUND, NULL);
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, plain, text), GYMDASH_E_INVALID_ARGUMENT,
                "gym_id: is longer than the limit of 1048576 bytes");

  free(text);
  gymdash_close(small);
  gymdash_close(large);
  gymdash_close(plain);
}

/* A gym created without calling hours or days gets the configuration's
 * (defaults, or gyms.<id>); what the request gives is kept. */
static void test_configured_gym_hours(void) {
  gymdash_t* db = NULL;
  char* out = NULL;
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"defaults\":{\"call_hours\":{\"start\":\"10:00\","
                             "\"end\":\"18:00\"},\"call_days\":[\"mon\",\"tue\"]},\"gyms\":{\"gym-sat\":"
                             "{\"call_days\":[\"sat\"]}}}"));
  if (db == NULL) return;
  CHECK_OK(gymdash_gym_create(&out, db, "{\"id\":\"gym-dflt\",\"name\":\"D\",\"timezone\":\"America/New_York\"}"));
  CHECK_CONTAINS(out, "\"call_hours\":{\"start\":\"10:00\",\"end\":\"18:00\"}");
  CHECK_CONTAINS(out, "\"call_days\":[\"mon\",\"tue\"]");
  gymdash_string_free(out);
  CHECK_OK(gymdash_gym_create(&out, db, "{\"id\":\"gym-sat\",\"name\":\"S\",\"timezone\":\"America/New_York\"}"));
  CHECK_CONTAINS(out, "\"call_hours\":{\"start\":\"10:00\",\"end\":\"18:00\"}");
  CHECK_CONTAINS(out, "\"call_days\":[\"sat\"]");
  gymdash_string_free(out);
  CHECK_OK(gymdash_gym_create(&out, db, "{\"id\":\"gym-own\",\"name\":\"O\",\"timezone\":\"America/New_York\","
                                        "\"call_hours\":{\"start\":\"08:00\",\"end\":\"12:00\"},"
                                        "\"call_days\":[\"sun\"]}"));
  CHECK_CONTAINS(out, "\"call_hours\":{\"start\":\"08:00\",\"end\":\"12:00\"}");
  CHECK_CONTAINS(out, "\"call_days\":[\"sun\"]");
  gymdash_string_free(out);
  gymdash_close(db);
}

/* ---- configuration ------------------------------------------------------------ */

static void test_config(void) {
  char* out = NULL;

  CHECK_OK(gymdash_config_defaults(&out));
  CHECK(out != NULL && out[0] == '{');
  CHECK_CONTAINS(out, "\"storage\": \"sqlite:gymdash.db\"");
  CHECK_CONTAINS(out, "\"worker_threads\": 2");
  CHECK_CONTAINS(out, "\"hot_threshold\": 70");
  CHECK_CONTAINS(out, "\"level\": \"info\"");
  CHECK_CONTAINS(out, "\"sink\": \"stderr\"");
  gymdash_string_free(out);

  /* a good document comes back normalized: every default filled in */
  CHECK_OK(gymdash_config_check(&out, "{\"storage\":\"memory:\",\"gyms\":{\"gym-nyc\":{\"hot_threshold\":80}},"
                                      "\"logging\":{\"format\":\"logfmt\"}}"));
  CHECK_CONTAINS(out, "\"storage\": \"memory:\"");
  CHECK_CONTAINS(out, "\"gym-nyc\": {");
  CHECK_CONTAINS(out, "\"hot_threshold\": 80");
  CHECK_CONTAINS(out, "\"cold_threshold\": 40");
  CHECK_CONTAINS(out, "\"format\": \"logfmt\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_config_check(&out, "{}"));
  gymdash_string_free(out);

  /* every error, each by its key path; the field is the first one's */
  CHECK_ERR_OUT(out,
                gymdash_config_check(&out, "{\"gyms\":{\"x\":{\"call_hours\":{\"start\":\"25:00\"}}},"
                                           "\"worker_thread\":3,\"logging\":{\"level\":\"loud\"}}"),
                GYMDASH_E_INVALID_ARGUMENT, "gyms.x.call_hours.start: \"25:00\" is not a time");
  CHECK_CONTAINS(gymdash_last_error_message(), "worker_thread: unknown key (did you mean \"worker_threads\"?)");
  CHECK_CONTAINS(gymdash_last_error_message(), "logging.level");
  CHECK(strcmp(gymdash_last_error_field(), "gyms.x.call_hours.start") == 0);
  CHECK_ERR_OUT(out, gymdash_config_check(&out, "{\"worker_threads\":\"two\"}"), GYMDASH_E_INVALID_ARGUMENT,
                "worker_threads: expected an integer");
  CHECK_ERR_OUT(out, gymdash_config_check(&out, "{\"limits\":{\"max_page_size\":5000}}"), GYMDASH_E_INVALID_ARGUMENT,
                "limits.max_page_size");
  CHECK_ERR_OUT(out, gymdash_config_check(&out, "{\"voice_providers\":{\"main\":{\"kind\":\"retell\",\"api_key\":\"sk\"}}}"),
                GYMDASH_E_INVALID_ARGUMENT, "voice_providers.main.api_key");
  CHECK_ERR_OUT(out, gymdash_config_check(&out, "{\"storage\":"), GYMDASH_E_INVALID_ARGUMENT, "config_json");
  CHECK_ERR_OUT(out, gymdash_config_check(&out, "[]"), GYMDASH_E_INVALID_ARGUMENT, "config");
}

/* Opening from a document: a bad one names the key and leaves nothing open. */
static void test_open_config(void) {
  gymdash_t* db = NULL;
  gymdash_t* sentinel = (gymdash_t*)g_sentinel;
  char* out = NULL;
  char path[900];
  char json[1200];
  FILE* f;
  const char* tmp = getenv("GYMDASH_TEST_TMP");

  db = sentinel;
  CHECK_ERR(gymdash_open(&db, "{\"storage\":\"memory:\",\"defaults\":{\"call_hours\":{\"start\":\"07:00\",\"end\":\"06:00\"}}}"),
            GYMDASH_E_INVALID_ARGUMENT, "defaults.call_hours: start must be before end");
  CHECK(db == NULL);
  CHECK(strcmp(gymdash_last_error_field(), "defaults.call_hours") == 0);

  /* a secret's variable that is not set: named by key path and variable, never a value */
  db = sentinel;
  CHECK_ERR(gymdash_open(&db, "{\"storage\":\"memory:\",\"voice_providers\":{\"main\":{\"kind\":\"retell\","
                              "\"api_key_env\":\"GYMDASH_C_TEST_UNSET_KEY\"}}}"),
            GYMDASH_E_INVALID_ARGUMENT, "voice_providers.main.api_key_env");
  CHECK_CONTAINS(gymdash_last_error_message(), "GYMDASH_C_TEST_UNSET_KEY");
  CHECK(db == NULL);

  /* a log file that cannot be written */
  db = sentinel;
  CHECK_ERR(gymdash_open(&db, "{\"storage\":\"memory:\",\"logging\":{\"sink\":\"file\","
                              "\"file\":\"/nonexistent-dir/for/sure/gymdash.log\"}}"),
            GYMDASH_E_INVALID_ARGUMENT, "logging.file");
  CHECK_CONTAINS(gymdash_last_error_message(), "/nonexistent-dir/for/sure/gymdash.log");
  CHECK(db == NULL);

  /* a good document */
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"worker_threads\":1,\"logging\":{\"sink\":\"none\"},"
                             "\"metrics\":{\"enabled\":true}}"));
  CHECK(db != NULL);
  gymdash_close(db);
  db = NULL;

  /* from a file, logging into a file */
  snprintf(path, sizeof path, "%s/c_api_test-config-%ld.json", tmp && *tmp ? tmp : "/tmp", (long)getpid());
  snprintf(json, sizeof json,
           "{\"storage\":\"memory:\",\"logging\":{\"sink\":\"file\",\"file\":\"%s.log\",\"format\":\"logfmt\"}}", path);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs(json, f);
    fclose(f);
  }
  CHECK_OK(gymdash_open_config_file(&db, path));
  CHECK(db != NULL);
  if (db != NULL) {
    CHECK_OK(gymdash_gym_create(&out, db, "{\"id\":\"gym-file\",\"name\":\"File\",\"timezone\":\"UTC\"}"));
    gymdash_string_free(out);
    gymdash_close(db);
    db = NULL;
    {
      char log_path[1000];
      char buf[4096];
      size_t n = 0;
      snprintf(log_path, sizeof log_path, "%s.log", path);
      f = fopen(log_path, "r");
      CHECK(f != NULL);
      if (f != NULL) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
      }
      const char* text = buf;
      buf[n] = '\0';
      CHECK_CONTAINS(text, "level=info op=runtime.open");
      CHECK_CONTAINS(text, "op=gym.create gym=gym-file");
      CHECK_CONTAINS(text, "op=runtime.close");
      remove(log_path);
    }
  }
  remove(path);

  db = sentinel;
  CHECK_ERR(gymdash_open_config_file(&db, "/nonexistent-dir/for/sure/gymdash.json"), GYMDASH_E_INVALID_ARGUMENT,
            "/nonexistent-dir/for/sure/gymdash.json");
  CHECK(db == NULL);
  CHECK_ERR(gymdash_open_config_file(&db, NULL), GYMDASH_E_INVALID_ARGUMENT, "path: must not be NULL");
}

/* ---- logging --------------------------------------------------------------------- */

/* Every record a callback received: its level, line and JSON. Thread-safe. */
struct log_capture {
  mtx_t mutex;
  int count;
  int cap;
  int* levels;
  char** lines;
  char** records;
};

static void capture_init(struct log_capture* c) {
  memset(c, 0, sizeof *c);
  mtx_init(&c->mutex, mtx_plain);
}

static void capture_clear(struct log_capture* c) {
  int i;
  for (i = 0; i < c->count; ++i) {
    free(c->lines[i]);
    free(c->records[i]);
  }
  c->count = 0;
}

static void capture_free(struct log_capture* c) {
  capture_clear(c);
  free(c->levels);
  free(c->lines);
  free(c->records);
  mtx_destroy(&c->mutex);
}

static void capture_fn(void* user, int level, const char* line, const char* record_json) {
  struct log_capture* c = user;
  mtx_lock(&c->mutex);
  if (c->count == c->cap) {
    int cap = c->cap ? c->cap * 2 : 64;
    int* levels = realloc(c->levels, (size_t)cap * sizeof *levels);
    char** lines = realloc(c->lines, (size_t)cap * sizeof *lines);
    char** records = realloc(c->records, (size_t)cap * sizeof *records);
    if (levels) c->levels = levels;
    if (lines) c->lines = lines;
    if (records) c->records = records;
    if (!levels || !lines || !records) {
      mtx_unlock(&c->mutex);
      return;
    }
    c->cap = cap;
  }
  c->levels[c->count] = level;
  c->lines[c->count] = strdup(line);
  c->records[c->count] = strdup(record_json);
  ++c->count;
  mtx_unlock(&c->mutex);
}

/* The index of the first record whose JSON contains both needles, or -1. */
static int capture_find(struct log_capture* c, const char* a, const char* b) {
  int i;
  for (i = 0; i < c->count; ++i)
    if (strstr(c->records[i], a) != NULL && (b == NULL || strstr(c->records[i], b) != NULL)) return i;
  return -1;
}

static void test_logging(void) {
  gymdash_t* db = NULL;
  char* out = NULL;
  char id[128], id2[128];
  struct log_capture cap;
  int i;

  capture_init(&cap);
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"logging\":{\"sink\":\"none\",\"format\":\"logfmt\"}}"));
  if (db == NULL) {
    capture_free(&cap);
    return;
  }
  CHECK_ERR(gymdash_set_log_callback(db, capture_fn, &cap, 6), GYMDASH_E_INVALID_ARGUMENT, "min_level");
  CHECK_ERR(gymdash_set_log_callback(db, capture_fn, &cap, -2), GYMDASH_E_INVALID_ARGUMENT, "min_level");
  CHECK_ERR(gymdash_set_log_level(db, 9), GYMDASH_E_INVALID_ARGUMENT, "level");
  CHECK_OK(gymdash_set_log_callback(db, capture_fn, &cap, GYMDASH_LOG_UNCHANGED)); /* info, from the config */

  CHECK_OK(gymdash_gym_create(&out, db, kGym));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-5001\"}"));
  lead_id_of(out, id, sizeof id);
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-5002\"}"));
  lead_id_of(out, id2, sizeof id2);
  gymdash_string_free(out);

  /* gym.create is info; a successful lead.create is debug, so not delivered */
  i = capture_find(&cap, "\"op\":\"gym.create\"", "\"gym\":\"gym-nyc\"");
  CHECK(i >= 0);
  if (i >= 0) {
    CHECK(cap.levels[i] == GYMDASH_LOG_INFO);
    CHECK_CONTAINS(cap.records[i], "\"level\":\"info\"");
    CHECK_CONTAINS(cap.records[i], "\"msg\":\"ok\"");
    CHECK_CONTAINS(cap.records[i], "\"ms\":");
    /* `line` is in the configured format, logfmt */
    CHECK(strncmp(cap.lines[i], "time=", 5) == 0);
    CHECK_CONTAINS(cap.lines[i], " level=info op=gym.create gym=gym-nyc ");
  }
  CHECK(capture_find(&cap, "\"op\":\"lead.create\"", NULL) < 0);

  /* a caller's error is logged at info with its code */
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"12\"}"), GYMDASH_E_INVALID_ARGUMENT,
                "phone");
  i = capture_find(&cap, "\"op\":\"lead.create\"", "\"error\":\"invalid_argument\"");
  CHECK(i >= 0);
  if (i >= 0) {
    CHECK(cap.levels[i] == GYMDASH_LOG_INFO);
    CHECK_CONTAINS(cap.records[i], "\"gym\":\"gym-nyc\"");
    CHECK_CONTAINS(cap.lines[i], "error=invalid_argument");
  }

  /* a phone number in a message arrives masked: the host's own error keeps it */
  CHECK_ERR_OUT(out, gymdash_lead_update(&out, db, "gym-nyc", id, "{\"phone\":\"(212) 736-5002\"}"),
                GYMDASH_E_ALREADY_EXISTS, NULL);
  i = capture_find(&cap, "\"op\":\"lead.update\"", "\"error\":\"already_exists\"");
  CHECK(i >= 0);
  if (i >= 0) {
    CHECK_CONTAINS(cap.records[i], "***5002");
    CHECK(strstr(cap.records[i], "2127365002") == NULL);
    CHECK(strstr(cap.lines[i], "2127365002") == NULL);
  }

  /* debug: successful data operations are delivered too */
  CHECK_OK(gymdash_set_log_level(db, GYMDASH_LOG_DEBUG));
  CHECK_OK(gymdash_lead_get(&out, db, "gym-nyc", id2));
  gymdash_string_free(out);
  i = capture_find(&cap, "\"op\":\"lead.get\"", "\"msg\":\"ok\"");
  CHECK(i >= 0);
  if (i >= 0) {
    CHECK(cap.levels[i] == GYMDASH_LOG_DEBUG);
    CHECK_CONTAINS(cap.records[i], id2);
  }

  /* warn: caller errors are no longer delivered */
  capture_clear(&cap);
  CHECK_OK(gymdash_set_log_callback(db, capture_fn, &cap, GYMDASH_LOG_WARN));
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, "gym-nowhere"), GYMDASH_E_NOT_FOUND, "gym-nowhere");
  CHECK(cap.count == 0);

  /* NULL gives the records back to the configured sink (here: none) */
  CHECK_OK(gymdash_set_log_callback(db, NULL, NULL, GYMDASH_LOG_TRACE));
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, "gym-nowhere"), GYMDASH_E_NOT_FOUND, "gym-nowhere");
  CHECK(cap.count == 0);

  /* close logs runtime.close to the callback that is installed */
  CHECK_OK(gymdash_set_log_callback(db, capture_fn, &cap, GYMDASH_LOG_INFO));
  gymdash_close(db);
  CHECK(capture_find(&cap, "\"op\":\"runtime.close\"", NULL) >= 0);
  capture_free(&cap);
}

/* ---- imports, who to call, do-not-call lists -------------------------------------- */

/* A scratch file path under $GYMDASH_TEST_TMP: <dir>/c_api_test-<pid>-<name>. */
static void tmp_path(char* dst, size_t cap, const char* name) {
  const char* tmp = getenv("GYMDASH_TEST_TMP");
  snprintf(dst, cap, "%s/c_api_test-%ld-%s", tmp && *tmp ? tmp : "/tmp", (long)getpid(), name);
}

static void write_file(const char* path, const char* text) {
  FILE* f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs(text, f);
  fclose(f);
}

static long file_size(const char* path) {
  long n = -1;
  FILE* f = fopen(path, "rb");
  if (f == NULL) return -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  fclose(f);
  return n;
}

/* The id of the gym's lead whose phone contains `digits` (via lead_list's search). */
static char* find_lead(gymdash_t* db, const char* gym, const char* digits, char* dst, size_t cap) {
  char filter[128];
  char* out = NULL;
  dst[0] = '\0';
  snprintf(filter, sizeof filter, "{\"search\":\"%s\"}", digits);
  if (gymdash_lead_list(&out, db, gym, filter) == GYMDASH_OK) {
    const char* items = strstr(out, "\"items\":[{");
    json_str(items ? items + 9 : NULL, "id", dst, cap);
  }
  gymdash_string_free(out);
  return dst;
}

/* How many leads a gym has. */
static long lead_total(gymdash_t* db, const char* gym) {
  char* out = NULL;
  long total = -1;
  if (gymdash_lead_list(&out, db, gym, "{\"page_size\":1}") == GYMDASH_OK) {
    const char* t = strstr(out, "\"total\":");
    if (t != NULL) total = strtol(t + 8, NULL, 10);
  }
  gymdash_string_free(out);
  return total;
}

/* What the progress callback saw. */
struct progress_log {
  int calls;
  int cancel_on_call; /* cancel (return 1) on this call; 0 never */
  char last[512];
  gymdash_t* db;      /* if set, the callback reads the leads (a reentrant call) */
  long total_seen;    /* lead_total of gym-nyc on the first call */
};

static int on_progress(void* user, const char* progress_json) {
  struct progress_log* p = user;
  ++p->calls;
  snprintf(p->last, sizeof p->last, "%s", progress_json);
  if (p->db != NULL && p->calls == 1) p->total_seen = lead_total(p->db, "gym-nyc");
  return p->cancel_on_call != 0 && p->calls == p->cancel_on_call ? 1 : 0;
}

static const char* const kLeadsHeader =
    "external_id,gym_id,first_name,last_name,phone,email,source,created_at,interest,timeline,consent,tags\n";

/* The fixture: 12 data rows (lines 2–13) — 5 new leads, 1 duplicate, 6 rejects, one per reason. */
static void write_leads_csv(const char* path) {
  char csv[4096];
  char long_name[202];
  memset(long_name, 'A', 201);
  long_name[201] = '\0';
  snprintf(csv, sizeof csv,
           "%s"
           "E1,gym-nyc,Ana,Lopez,(212) 736-6001,ana@example.com,web_form,2026-10-13T12:21:44Z,yoga,asap,yes,vip\n"
           "E2,gym-nyc,Ben,Ng,212.736.6002,,facebook_ads,2026-10-14T08:00:00+02:00,,,yes,\n"
           "E3,gym-nyc,Cy,Ode,+1 212 736 6003,,web_form,2026-10-15T09:00:00Z,,,no,\n"
           "E4,gym-nyc,Ana,Dup,1-212-736-6001,,web_form,2026-10-01T00:00:00Z,,,yes,promo\n"
           "E5,gym-nyc,Bad,Phone,call me maybe,,web_form,2026-10-13T12:21:44Z,,,yes,\n"
           "E6,gym-xx,No,Gym,(212) 736-6006,,web_form,2026-10-13T12:21:44Z,,,yes,\n"
           "E7,gym-nyc,Bad,Date,(212) 736-6007,,web_form,2026-02-30T10:00:00Z,,,yes,\n"
           "E8,gym-nyc,%s,Long,(212) 736-6008,,web_form,2026-10-13T12:21:44Z,,,yes,\n"
           "E9,gym-nyc,Too,Few,(212) 736-6009\n"
           "E10,gym-nyc,Bad\xff\xfe,Enc,(212) 736-6010,,web_form,2026-10-13T12:21:44Z,,,yes,\n"
           "E11,gym-la,Lu,La,(213) 736-6011,,referral,2026-10-16T10:00:00Z,,,yes,\n"
           "E12,gym-nyc,Dee,Hot, 646 736 6012 ,,referral,2026-10-16T10:00:00Z,,,yes,\n",
           kLeadsHeader, long_name);
  write_file(path, csv);
}

static void test_import_files(gymdash_t* db) {
  char* out = NULL;
  char gyms[900], leads[900], more[900], bad[900], expected[128];
  struct progress_log p;
  long before;

  tmp_path(gyms, sizeof gyms, "gyms.csv");
  tmp_path(leads, sizeof leads, "leads.csv");
  tmp_path(more, sizeof more, "more.csv");
  tmp_path(bad, sizeof bad, "missing-columns.csv");

  /* gyms */
  write_file(gyms, "gym_id,name,timezone,region,state\n"
                   "gym-nyc,NYC Midtown,America/New_York,US,NY\n"
                   "gym-la,LA Downtown,America/Los_Angeles,US,CA\n"
                   "gym-bad,Bad Zone,Mars/Base,US,\n");
  CHECK_OK(gymdash_gyms_import_file(&out, db, gyms));
  CHECK_CONTAINS(out, "\"rows\":3,\"created\":2,\"updated\":0,\"rejected\":1");
  CHECK_CONTAINS(out, "\"rejected_rows\":[{\"line\":4,\"error\":\"");
  CHECK_CONTAINS(out, "timezone");
  gymdash_string_free(out);
  CHECK_OK(gymdash_gyms_import_file(&out, db, gyms));
  CHECK_CONTAINS(out, "\"created\":0,\"updated\":2");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_gyms_import_file(&out, db, "/nonexistent-dir/for/sure/gyms.csv"),
                GYMDASH_E_INVALID_ARGUMENT, "path: cannot read \"/nonexistent-dir/for/sure/gyms.csv\"");
  CHECK(strcmp(gymdash_last_error_field(), "path") == 0);
  CHECK_ERR_OUT(out, gymdash_gyms_import_file(&out, db, "/tmp"), GYMDASH_E_INVALID_ARGUMENT, "is a directory");

  /* leads: good, messy, duplicate and rejected rows, in batches of 5 with progress */
  write_leads_csv(leads);
  memset(&p, 0, sizeof p);
  CHECK_OK(gymdash_leads_import_file(&out, db, leads, "{\"batch_size\":5}", on_progress, &p));
  CHECK_CONTAINS(out, "{\"rows\":12,\"imported\":5,\"merged_duplicates\":1,\"rejected\":6,");
  CHECK_CONTAINS(out, "\"rejected_by_reason\":{\"bad_created_at\":1,\"bad_encoding\":1,\"bad_format\":1,"
                      "\"bad_phone\":1,\"too_long\":1,\"unknown_gym\":1}");
  CHECK_CONTAINS(out, "{\"line\":6,\"reason\":\"bad_phone\",\"detail\":\"");
  CHECK_CONTAINS(out, "{\"line\":7,\"reason\":\"unknown_gym\"");
  CHECK_CONTAINS(out, "{\"line\":8,\"reason\":\"bad_created_at\"");
  CHECK_CONTAINS(out, "{\"line\":9,\"reason\":\"too_long\"");
  CHECK_CONTAINS(out, "{\"line\":10,\"reason\":\"bad_format\"");
  CHECK_CONTAINS(out, "{\"line\":11,\"reason\":\"bad_encoding\"");
  CHECK_CONTAINS(out, "\"rejected_rows_truncated\":false");
  CHECK(out != NULL && strstr(out, "7366") == NULL && strstr(out, "736-60") == NULL); /* no number in details */
  gymdash_string_free(out);
  CHECK(p.calls == 3); /* 5 + 5 + 2 rows */
  snprintf(expected, sizeof expected, "\"bytes_read\":%ld,\"bytes_total\":%ld,", file_size(leads), file_size(leads));
  CHECK_CONTAINS(p.last, expected);
  CHECK_CONTAINS(p.last, "\"rows\":12,\"imported\":5,\"merged_duplicates\":1,\"rejected\":6}");
  CHECK(lead_total(db, "gym-nyc") == 4);
  CHECK(lead_total(db, "gym-la") == 1);
  {
    char id[128];
    CHECK_OK(gymdash_lead_get(&out, db, "gym-nyc", find_lead(db, "gym-nyc", "2127366001", id, sizeof id)));
    CHECK_CONTAINS(out, "\"external_id\":\"E1\""); /* the first row's id stays */
    CHECK_CONTAINS(out, "\"tags\":[\"promo\",\"vip\"]");
    CHECK_CONTAINS(out, "\"given\":true");
    CHECK_CONTAINS(out, "\"method\":\"import\"");
    CHECK_CONTAINS(out, "-leads.csv\""); /* the consent source is the file's name */
    gymdash_string_free(out);
  }

  /* a second run merges every row and imports nothing new */
  CHECK_OK(gymdash_leads_import_file(&out, db, leads, NULL, NULL, NULL));
  CHECK_CONTAINS(out, "\"imported\":0,\"merged_duplicates\":6,\"rejected\":6");
  gymdash_string_free(out);
  CHECK(lead_total(db, "gym-nyc") == 4);

  /* the callback cancels after the second batch: the two committed batches stay */
  {
    char csv[1024];
    int i;
    size_t n = (size_t)snprintf(csv, sizeof csv, "%s", kLeadsHeader);
    for (i = 0; i < 5; ++i) {
      n += (size_t)snprintf(csv + n, sizeof csv - n,
                            "C%d,gym-nyc,Can,Cel,(212) 736-61%02d,,web_form,2026-10-20T10:00:00Z,,,yes,\n", i, i);
    }
    write_file(more, csv);
  }
  before = lead_total(db, "gym-nyc");
  memset(&p, 0, sizeof p);
  p.cancel_on_call = 2;
  p.db = db;
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, more, "{\"batch_size\":2}", on_progress, &p),
                GYMDASH_E_CONFLICT, "import cancelled by the progress callback after 4 rows");
  CHECK(strcmp(gymdash_last_error_field(), "progress") == 0);
  CHECK(p.calls == 2);
  CHECK(p.total_seen == before + 2); /* the callback may read: its batch is committed */
  CHECK(lead_total(db, "gym-nyc") == before + 4);
  /* running it again completes it */
  CHECK_OK(gymdash_leads_import_file(&out, db, more, "{\"batch_size\":2}", NULL, NULL));
  CHECK_CONTAINS(out, "\"imported\":1,\"merged_duplicates\":4");
  gymdash_string_free(out);
  CHECK(lead_total(db, "gym-nyc") == before + 5);

  /* missing columns: named, and nothing is imported */
  before = lead_total(db, "gym-nyc");
  write_file(bad, "external_id,gym_id,first_name\nX1,gym-nyc,Nope\n");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, bad, NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "header: missing required column: phone");
  CHECK(strcmp(gymdash_last_error_field(), "header") == 0);
  write_file(bad, "first_name,telephone\nNope,(212) 736-6099\n");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, bad, NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "gym_id, phone");
  CHECK(lead_total(db, "gym-nyc") == before);

  /* options and paths */
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, leads, "{\"batch_size\":0}", NULL, NULL),
                GYMDASH_E_INVALID_ARGUMENT, "batch_size: must be between 1 and 1000000");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, leads, "{\"batch_size\":\"big\"}", NULL, NULL),
                GYMDASH_E_INVALID_ARGUMENT, "batch_size: expected an integer");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, leads, "{\"colour\":1}", NULL, NULL),
                GYMDASH_E_INVALID_ARGUMENT, "colour: unknown field");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, leads, "[5]", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "options_json");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, leads, "{\"batch_size\":", NULL, NULL),
                GYMDASH_E_INVALID_ARGUMENT, "options_json: invalid JSON");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, leads, "{\"max_rejected_rows\":-1}", NULL, NULL),
                GYMDASH_E_INVALID_ARGUMENT, "max_rejected_rows");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, "/nonexistent-dir/leads.csv", NULL, NULL, NULL),
                GYMDASH_E_INVALID_ARGUMENT, "path: cannot read");
  CHECK_OK(gymdash_leads_import_file(&out, db, leads, "{\"max_rejected_rows\":2,\"source\":\"crm-export\"}", NULL,
                                     NULL));
  CHECK_CONTAINS(out, "\"rejected\":6,");
  CHECK_CONTAINS(out, "\"rejected_rows_truncated\":true");
  gymdash_string_free(out);

  /* CSV text in memory */
  memset(&p, 0, sizeof p);
  {
    char csv[512];
    snprintf(csv, sizeof csv, "%sT1,gym-la,Tex,Tt,(213) 736-6201,,web_form,2026-10-20T10:00:00Z,,,yes,\n"
                              "T2,gym-la,Tex,Tt,213 736 62,,web_form,2026-10-20T10:00:00Z,,,yes,\n", kLeadsHeader);
    CHECK_OK(gymdash_leads_import_csv(&out, db, csv, NULL, on_progress, &p));
    CHECK_CONTAINS(out, "\"rows\":2,\"imported\":1,\"merged_duplicates\":0,\"rejected\":1");
    gymdash_string_free(out);
    CHECK(p.calls == 1);
    snprintf(expected, sizeof expected, "\"bytes_total\":%lu,", (unsigned long)strlen(csv));
    CHECK_CONTAINS(p.last, expected);
  }
  CHECK_ERR_OUT(out, gymdash_leads_import_csv(&out, db, "", NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "header");
  CHECK_ERR_OUT(out, gymdash_leads_import_csv(&out, db, NULL, NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "csv_text: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_leads_import_csv(&out, db, "gym_id,phone\n", "{\"batch_size\":2000000}", NULL, NULL),
                GYMDASH_E_INVALID_ARGUMENT, "batch_size");
  /* more than 1 MiB of text is fine here (the limit is 256 MiB) */
  {
    /* ~1.3 MB: 12000 rows, each with an ignored column of padding */
    const size_t rows = 12000;
    char padding[101];
    size_t cap = rows * 160 + 256, n, i;
    char* big = malloc(cap);
    memset(padding, 'x', 100);
    padding[100] = '\0';
    CHECK(big != NULL);
    if (big != NULL) {
      n = (size_t)snprintf(big, cap, "gym_id,phone,consent,ignored\n");
      for (i = 0; i < rows; ++i) {
        n += (size_t)snprintf(big + n, cap - n, "gym-la,(213) 736-%04lu,yes,%s\n", (unsigned long)(i % 3000), padding);
      }
      CHECK(n > GYMDASH_MAX_ARG_BYTES);
      CHECK_OK(gymdash_leads_import_csv(&out, db, big, "{\"batch_size\":5000}", NULL, NULL));
      CHECK_CONTAINS(out, "\"rows\":12000,");
      gymdash_string_free(out);
      free(big);
    }
  }

  remove(gyms);
  remove(leads);
  remove(more);
  remove(bad);
}

static const char* const kAt = "2026-11-02T15:00:00Z"; /* Monday 10:00 in New York */

static void test_who_to_call(gymdash_t* db) {
  char* out = NULL;
  char ana[128], ben[128], cy[128], dee[128], la[128], request[512];

  find_lead(db, "gym-nyc", "2127366001", ana, sizeof ana);
  find_lead(db, "gym-nyc", "2127366002", ben, sizeof ben);
  find_lead(db, "gym-nyc", "2127366003", cy, sizeof cy);
  find_lead(db, "gym-nyc", "6467366012", dee, sizeof dee);
  find_lead(db, "gym-la", "2137366011", la, sizeof la);
  CHECK(ana[0] && ben[0] && cy[0] && dee[0] && la[0]);

  /* next: the dialable leads, never the one without consent */
  snprintf(request, sizeof request, "{\"count\":100,\"at\":\"%s\"}", kAt);
  CHECK_OK(gymdash_leads_next(&out, db, "gym-nyc", request));
  CHECK(out != NULL && out[0] == '[');
  CHECK_CONTAINS(out, ana);
  CHECK_CONTAINS(out, ben);
  CHECK_CONTAINS(out, dee);
  CHECK(out != NULL && strstr(out, cy) == NULL);
  CHECK(out != NULL && strstr(out, la) == NULL);
  CHECK_CONTAINS(out, "\"external_id\":\"E1\"");
  gymdash_string_free(out);
  snprintf(request, sizeof request,
           "{\"count\":1,\"exclude\":[\"%s\",\"%s\",\"ld_other\"],\"at\":\"%s\",\"qualification\":null}", ana, ben,
           kAt);
  CHECK_OK(gymdash_leads_next(&out, db, "gym-nyc", request));
  CHECK(out != NULL && strstr(out, ana) == NULL && strstr(out, ben) == NULL);
  CHECK(out != NULL && strncmp(out, "[{\"id\":", 7) == 0);
  gymdash_string_free(out);
  CHECK_OK(gymdash_leads_next(&out, db, "gym-nyc",
                              "{\"count\":5,\"qualification\":\"hot\",\"at\":\"2026-11-02T15:00:00Z\"}"));
  CHECK(out != NULL && out[0] == '[');
  CHECK(out != NULL && strstr(out, "\"qualification\":\"neutral\"") == NULL &&
        strstr(out, "\"qualification\":\"cold\"") == NULL); /* only hot ones */
  gymdash_string_free(out);
  /* 02:00 in New York: outside every window */
  CHECK_OK(gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":5,\"at\":\"2026-11-02T07:00:00Z\"}"));
  CHECK(out != NULL && strcmp(out, "[]") == 0);
  gymdash_string_free(out);
  CHECK_OK(gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":5}")); /* now */
  gymdash_string_free(out);

  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":0}"), GYMDASH_E_INVALID_ARGUMENT,
                "count: must be between 1 and 1000");
  CHECK(strcmp(gymdash_last_error_field(), "count") == 0);
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":1001}"), GYMDASH_E_INVALID_ARGUMENT, "count");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{}"), GYMDASH_E_INVALID_ARGUMENT, "count: is required");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":\"5\"}"), GYMDASH_E_INVALID_ARGUMENT,
                "count: expected an integer");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":5,\"at\":\"tomorrow\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "at");
  CHECK(strcmp(gymdash_last_error_field(), "at") == 0);
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":5,\"at\":\"2026-11-02T15:00:00\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "at"); /* no zone */
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":5,\"qualification\":\"lukewarm\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "qualification");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":5,\"exclude\":[1]}"),
                GYMDASH_E_INVALID_ARGUMENT, "exclude[0]");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":5,\"colour\":\"red\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "colour: unknown field");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "{\"count\":"), GYMDASH_E_INVALID_ARGUMENT,
                "request_json: invalid JSON");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", "5"), GYMDASH_E_INVALID_ARGUMENT, "request_json");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nowhere", "{\"count\":5}"), GYMDASH_E_NOT_FOUND, "gym-nowhere");

  /* explain */
  CHECK_OK(gymdash_lead_explain(&out, db, "gym-nyc", ana, kAt));
  CHECK_CONTAINS(out, "\"dialable\":true");
  CHECK_CONTAINS(out, "\"reasons\":[]");
  CHECK_CONTAINS(out, "\"at\":\"2026-11-02T15:00:00Z\"");
  CHECK_CONTAINS(out, "\"local_zone\":\"America/New_York\"");
  CHECK_CONTAINS(out, "\"local_time\":\"2026-11-02T10:00:00");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_explain(&out, db, "gym-nyc", cy, "2026-11-02T10:00:00-05:00"));
  CHECK_CONTAINS(out, "\"dialable\":false");
  CHECK_CONTAINS(out, "\"reasons\":[\"no_consent\"]");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_explain(&out, db, "gym-nyc", ana, "2026-11-02T07:00:00Z"));
  CHECK_CONTAINS(out, "outside_federal_hours");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_explain(&out, db, "gym-nyc", ana, NULL)); /* now */
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_explain(&out, db, "gym-nyc", ana, "next monday"), GYMDASH_E_INVALID_ARGUMENT,
                "at: ");
  CHECK(strcmp(gymdash_last_error_field(), "at") == 0);
  CHECK_ERR_OUT(out, gymdash_lead_explain(&out, db, "gym-nyc", ana, "2026-02-30T10:00:00Z"), GYMDASH_E_INVALID_ARGUMENT,
                "at");
  CHECK_ERR_OUT(out, gymdash_lead_explain(&out, db, "gym-la", ana, kAt), GYMDASH_E_NOT_FOUND, ana);
  CHECK_ERR_OUT(out, gymdash_lead_explain(&out, db, "gym-nyc", la, kAt), GYMDASH_E_NOT_FOUND, la);

  /* do-not-call lists: a gym's list blocks its lead, explain says so */
  CHECK_OK(gymdash_dnc_add(&out, db, "gym-nyc", "212.736.6002", "asked by email", "front-desk"));
  CHECK_CONTAINS(out, "{\"scope\":\"gym-nyc\",\"phone\":\"+12127366002\",\"reason\":\"asked by email\","
                      "\"source\":\"front-desk\",\"added_at\":\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_add(&out, db, "gym-nyc", "(212) 736-6002", NULL, NULL)); /* already listed: the entry */
  CHECK_CONTAINS(out, "\"reason\":\"asked by email\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_explain(&out, db, "gym-nyc", ben, kAt));
  CHECK_CONTAINS(out, "\"dialable\":false");
  CHECK_CONTAINS(out, "\"reasons\":[\"dnc_list\"]");
  gymdash_string_free(out);
  snprintf(request, sizeof request, "{\"count\":100,\"at\":\"%s\"}", kAt);
  CHECK_OK(gymdash_leads_next(&out, db, "gym-nyc", request));
  CHECK(out != NULL && strstr(out, ben) == NULL);
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_check(&out, db, "gym-nyc", "+1 212 736 6002"));
  CHECK_CONTAINS(out, "{\"phone\":\"+12127366002\",\"gym_listed\":true,\"global_listed\":false,"
                      "\"lead_do_not_call\":false,\"blocked\":true}");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_check(&out, db, "gym-la", "+1 212 736 6002")); /* another gym's list */
  CHECK_CONTAINS(out, "\"blocked\":false");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_add(&out, db, "*", "+12127366003", NULL, NULL));
  CHECK_CONTAINS(out, "\"scope\":\"*\"");
  CHECK_CONTAINS(out, "\"source\":\"api\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_check(&out, db, "gym-la", "(212) 736-6003"));
  CHECK_CONTAINS(out, "\"global_listed\":true");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_list(&out, db, "gym-nyc", 10, 0));
  CHECK(out != NULL && out[0] == '[');
  CHECK_CONTAINS(out, "\"phone\":\"+12127366002\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_list(&out, db, "gym-nyc", 10, 1));
  CHECK(out != NULL && strcmp(out, "[]") == 0);
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_dnc_list(&out, db, "gym-nyc", 0, 0), GYMDASH_E_INVALID_ARGUMENT, "limit");
  CHECK_ERR_OUT(out, gymdash_dnc_list(&out, db, "gym-nyc", 10, -1), GYMDASH_E_INVALID_ARGUMENT, "offset");
  CHECK_ERR_OUT(out, gymdash_dnc_list(&out, db, "gym-nowhere", 10, 0), GYMDASH_E_NOT_FOUND, "gym-nowhere");
  CHECK_ERR_OUT(out, gymdash_dnc_add(&out, db, "gym-nyc", "12", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "phone");
  CHECK_ERR_OUT(out, gymdash_dnc_add(&out, db, "gym-nowhere", "(212) 736-6002", NULL, NULL), GYMDASH_E_NOT_FOUND,
                "gym-nowhere");
  CHECK_ERR_OUT(out, gymdash_dnc_add(&out, db, "", "(212) 736-6002", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "scope");
  CHECK_ERR_OUT(out, gymdash_dnc_check(&out, db, "gym-nyc", "not a phone"), GYMDASH_E_INVALID_ARGUMENT, "phone");
  {
    int removed = -1;
    CHECK_OK(gymdash_dnc_remove(&removed, db, "gym-nyc", "212-736-6002", "ana", "asked again to be called"));
    CHECK(removed == 1);
    CHECK_OK(gymdash_dnc_remove(&removed, db, "gym-nyc", "212-736-6002", NULL, NULL));
    CHECK(removed == 0);
    removed = -1;
    CHECK_ERR(gymdash_dnc_remove(&removed, db, "gym-nyc", "12", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "phone");
    CHECK(removed == 0);
  }
  CHECK_OK(gymdash_lead_explain(&out, db, "gym-nyc", ben, kAt));
  CHECK_CONTAINS(out, "\"dialable\":true");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_history(&out, db, "gym-nyc", ben));
  CHECK_CONTAINS(out, "\"kind\":\"dnc\"");
  gymdash_string_free(out);

  /* after a call */
  CHECK_OK(gymdash_lead_after_call(&out, db, "gym-nyc", ana,
                                   "{\"call_id\":\"call-1\",\"started_at\":\"2026-11-02T15:00:00Z\","
                                   "\"ended_at\":\"2026-11-02T15:04:00Z\",\"status\":\"completed\","
                                   "\"answered_by\":\"human\",\"outcome\":\"interested\",\"callback_at\":null,"
                                   "\"sentiment\":\"positive\"}"));
  CHECK_CONTAINS(out, "\"attempts\":1");
  CHECK_CONTAINS(out, "\"connects\":1");
  CHECK_CONTAINS(out, "\"sentiment\":\"positive\"");
  gymdash_string_free(out);
  /* the same call again changes nothing */
  CHECK_OK(gymdash_lead_after_call(&out, db, "gym-nyc", ana,
                                   "{\"call_id\":\"call-1\",\"started_at\":\"2026-11-02T15:00:00Z\","
                                   "\"status\":\"completed\",\"answered_by\":\"human\",\"outcome\":\"interested\","
                                   "\"ended_at\":\"2026-11-02T15:04:00Z\",\"sentiment\":\"positive\"}"));
  CHECK_CONTAINS(out, "\"attempts\":1");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_explain(&out, db, "gym-nyc", ana, "2026-11-02T15:30:00Z"));
  CHECK_CONTAINS(out, "retry_gap");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_after_call(&out, db, "gym-nyc", ana, "{\"status\":\"completed\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "started_at");
  CHECK_ERR_OUT(out, gymdash_lead_after_call(&out, db, "gym-nyc", ana,
                                             "{\"started_at\":\"2026-11-02T15:00:00Z\",\"status\":\"ringing_loudly\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "status");
  CHECK_ERR_OUT(out, gymdash_lead_after_call(&out, db, "gym-nyc", ana,
                                             "{\"started_at\":\"2026-11-02T15:00:00Z\",\"duration\":5}"),
                GYMDASH_E_INVALID_ARGUMENT, "duration");
  CHECK_ERR_OUT(out, gymdash_lead_after_call(&out, db, "gym-nyc", ana, "{\"started_at\":"),
                GYMDASH_E_INVALID_ARGUMENT, "call_result_json");
  CHECK_ERR_OUT(out, gymdash_lead_after_call(&out, db, "gym-nyc", ana, "[]"), GYMDASH_E_INVALID_ARGUMENT,
                "call_result_json");
  CHECK_ERR_OUT(out, gymdash_lead_after_call(&out, db, "gym-la", ana,
                                             "{\"call_id\":\"call-2\",\"started_at\":\"2026-11-02T15:00:00Z\"}"),
                GYMDASH_E_NOT_FOUND, ana);
}

static void test_dnc_import(gymdash_t* db) {
  char* out = NULL;
  char path[900], csv[900], dee[128];

  tmp_path(path, sizeof path, "dnc.txt");
  tmp_path(csv, sizeof csv, "dnc.csv");
  find_lead(db, "gym-nyc", "6467366012", dee, sizeof dee);

  write_file(path, "# numbers from the state registry\n"
                   "\n"
                   "(212) 736-6020\n"
                   "+1 212 736 6020\n"
                   "212.736.6021\n"
                   "12\n"
                   "not a number\n"
                   "   # an indented comment\n"
                   "646-736-6012\r\n");
  CHECK_OK(gymdash_dnc_import_file(&out, db, "gym-nyc", path));
  CHECK_CONTAINS(out, "{\"lines\":6,\"added\":3,\"already_listed\":1,\"rejected\":2,\"rejected_lines\":["
                      "{\"line\":6,\"error\":\"phone: ");
  CHECK_CONTAINS(out, "{\"line\":7,\"error\":\"phone: ");
  CHECK_CONTAINS(out, "\"rejected_lines_truncated\":false}");
  CHECK(out != NULL && strstr(out, "not a number\"") == NULL);
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_list(&out, db, "gym-nyc", 100, 0));
  CHECK_CONTAINS(out, "\"phone\":\"+16467366012\"");
  CHECK_CONTAINS(out, "-dnc.txt\""); /* the source is the file's name */
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_explain(&out, db, "gym-nyc", dee, kAt));
  CHECK_CONTAINS(out, "\"reasons\":[\"dnc_list\"]");
  gymdash_string_free(out);
  /* again: everything is already listed */
  CHECK_OK(gymdash_dnc_import_file(&out, db, "gym-nyc", path));
  CHECK_CONTAINS(out, "{\"lines\":6,\"added\":0,\"already_listed\":4,\"rejected\":2,");
  gymdash_string_free(out);

  /* CSV with a phone column (and a reason) */
  write_file(csv, "name,phone,reason\n"
                  "Zed,\"(212) 736-6030\",asked by email\n"
                  "Bad,12,x\n"
                  "\"Quote, Inc.\",\"+1 212 736 6031\",\"said \"\"stop\"\"\"\n"
                  "Short,row\n");
  CHECK_OK(gymdash_dnc_import_file(&out, db, "*", csv));
  CHECK_CONTAINS(out, "{\"lines\":4,\"added\":2,\"already_listed\":0,\"rejected\":2,");
  CHECK_CONTAINS(out, "{\"line\":3,\"error\":\"phone: ");
  CHECK_CONTAINS(out, "{\"line\":5,\"error\":\"line: has 2 fields where the header has 3\"}");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dnc_list(&out, db, "*", 100, 0));
  CHECK_CONTAINS(out, "\"phone\":\"+12127366030\",\"reason\":\"asked by email\"");
  CHECK_CONTAINS(out, "\"reason\":\"said \\\"stop\\\"\"");
  gymdash_string_free(out);

  CHECK_ERR_OUT(out, gymdash_dnc_import_file(&out, db, "gym-nowhere", path), GYMDASH_E_NOT_FOUND, "gym-nowhere");
  CHECK_ERR_OUT(out, gymdash_dnc_import_file(&out, db, "gym-nyc", "/nonexistent-dir/dnc.txt"),
                GYMDASH_E_INVALID_ARGUMENT, "path: cannot read");
  remove(path);
  remove(csv);
}

/* Every new function: NULL where a pointer is required names the parameter. */
static void test_calling_null_arguments(gymdash_t* db) {
  char* out = NULL;
  int removed = 0;
  CHECK_ERR(gymdash_leads_import_file(NULL, db, "x.csv", NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, NULL, "x.csv", NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR_OUT(out, gymdash_leads_import_file(&out, db, NULL, NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "path: must not be NULL");
  CHECK_ERR(gymdash_leads_import_csv(NULL, db, "", NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_ERR_OUT(out, gymdash_gyms_import_file(&out, db, NULL), GYMDASH_E_INVALID_ARGUMENT, "path: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_gyms_import_file(&out, NULL, "x"), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, NULL, "{\"count\":1}"), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-nyc", NULL), GYMDASH_E_INVALID_ARGUMENT,
                "request_json: must not be NULL");
  CHECK_ERR(gymdash_leads_next(NULL, db, "gym-nyc", "{\"count\":1}"), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_ERR_OUT(out, gymdash_lead_explain(&out, db, "gym-nyc", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "lead_id");
  CHECK_ERR_OUT(out, gymdash_lead_explain(&out, NULL, "gym-nyc", "ld_x", NULL), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR_OUT(out, gymdash_lead_after_call(&out, db, "gym-nyc", "ld_x", NULL), GYMDASH_E_INVALID_ARGUMENT,
                "call_result_json: must not be NULL");
  CHECK_ERR_OUT(out, gymdash_dnc_add(&out, db, NULL, "2127366002", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "scope");
  CHECK_ERR_OUT(out, gymdash_dnc_add(&out, db, "gym-nyc", NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "phone: must not be NULL");
  CHECK_ERR(gymdash_dnc_remove(NULL, db, "gym-nyc", "2127366002", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT,
            "out: must not be NULL");
  CHECK_ERR(gymdash_dnc_remove(&removed, db, "gym-nyc", NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "phone");
  CHECK_ERR(gymdash_dnc_remove(&removed, NULL, "gym-nyc", "2127366002", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR_OUT(out, gymdash_dnc_check(&out, db, NULL, "2127366002"), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
  CHECK_ERR_OUT(out, gymdash_dnc_list(&out, db, NULL, 10, 0), GYMDASH_E_INVALID_ARGUMENT, "scope");
  CHECK_ERR(gymdash_dnc_list(NULL, db, "*", 10, 0), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_ERR_OUT(out, gymdash_dnc_import_file(&out, db, "*", NULL), GYMDASH_E_INVALID_ARGUMENT, "path");
  CHECK_ERR_OUT(out, gymdash_dnc_import_file(&out, db, NULL, "x"), GYMDASH_E_INVALID_ARGUMENT, "scope");
  /* the 1 MiB limit and UTF-8 hold for the new text arguments */
  CHECK_ERR_OUT(out, gymdash_dnc_add(&out, db, "gym-nyc", "212\xff", NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "phone");
  CHECK_ERR_OUT(out, gymdash_lead_explain(&out, db, "gym-nyc", "ld_x", "2026\xc0\xaf"), GYMDASH_E_INVALID_ARGUMENT,
                "at");
}

/* Imports, who to call and do-not-call lists, on a fresh handle of `storage`. */
/* ---- calls ------------------------------------------------------------------------- */

static void test_calls(gymdash_t* db) {
  char* out = NULL;
  char calls[900];
  const char* ev =
      "{\"event_id\":\"CE-1\",\"call_id\":\"CC-1\",\"gym_id\":\"gym-nyc\",\"lead_external_id\":\"E2\","
      "\"to\":\"+12127366002\",\"direction\":\"outbound\",\"started_at\":\"2026-10-20T14:00:00Z\","
      "\"ended_at\":\"2026-10-20T14:00:30Z\",\"status\":\"no-answer\",\"answered_by\":\"unknown\","
      "\"duration_s\":0,\"outcome\":null,\"cost_usd\":0.01,\"recording_url\":null,\"summary\":null}";
  tmp_path(calls, sizeof calls, "calls.jsonl");
  CHECK_OK(gymdash_call_process_event(&out, db, ev));
  CHECK_CONTAINS(out, "{\"result\":\"applied\",\"call\":{");
  CHECK_CONTAINS(out, "\"provider_call_id\":\"CC-1\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_call_process_event(&out, db, ev));
  CHECK_CONTAINS(out, "{\"result\":\"duplicate\"");
  gymdash_string_free(out);
  write_file(calls, "{\"event_id\":\"CE-2\",\"call_id\":\"CC-2\",\"gym_id\":\"gym-nyc\",\"lead_external_id\":\"E2\","
                    "\"started_at\":\"2026-10-21T14:00:00Z\",\"status\":\"busy\"}\n"
                    "not json\n"
                    "{\"event_id\":\"CE-3\",\"call_id\":\"CC-3\",\"gym_id\":\"gym-nyc\",\"lead_external_id\":\"nobody\","
                    "\"started_at\":\"2026-10-21T14:00:00Z\"}\n");
  CHECK_OK(gymdash_calls_ingest_file(&out, db, calls, "{\"batch_size\":2}", NULL, NULL));
  CHECK_CONTAINS(out, "{\"events\":3,\"duplicates\":0,\"applied\":1,\"rejected\":2,");
  CHECK_CONTAINS(out, "\"rejected_by_reason\":{\"bad_json\":1,\"unknown_lead\":1}");
  CHECK_CONTAINS(out, "{\"line\":2,\"reason\":\"bad_json\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_call_get(&out, db, "gym-nyc", "CC-2"));
  CHECK_CONTAINS(out, "\"status\":\"busy\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_calls_list(&out, db, "gym-nyc", "{\"status\":\"no_answer\"}"));
  CHECK_CONTAINS(out, "\"total\":1}");
  gymdash_string_free(out);
  CHECK_OK(gymdash_calls_list(&out, db, "gym-nyc", NULL));
  CHECK_CONTAINS(out, "\"total\":2}");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_calls_list(&out, db, "gym-nyc", "{\"page_size\":5000}"), GYMDASH_E_INVALID_ARGUMENT,
                "page_size");
  CHECK_ERR_OUT(out, gymdash_call_get(&out, db, "gym-nyc", "CC-404"), GYMDASH_E_NOT_FOUND, "CC-404");
  CHECK_ERR_OUT(out, gymdash_lead_calls(&out, db, "gym-nyc", "ld_nobody"), GYMDASH_E_NOT_FOUND, "ld_nobody");
  CHECK_ERR_OUT(out, gymdash_calls_ingest_file(&out, db, NULL, NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "path");
  CHECK_ERR_OUT(out, gymdash_call_process_event(&out, db, "{\"colour\":1}"), GYMDASH_E_INVALID_ARGUMENT, "colour");
}

/* ---- analytics (docs/analytics.md) ------------------------------------------------ */

static void test_analytics(gymdash_t* db) {
  char* out = NULL;
  const char* q = "{\"gym_id\":\"gym-nyc\",\"from\":\"2026-10-01\",\"to\":\"2026-10-31\"}";
  CHECK_OK(gymdash_analytics_report(&out, db, q, NULL));
  CHECK_CONTAINS(out, "\"calls\":2,\"connected\":0,\"voicemail\":0,");
  CHECK_CONTAINS(out, "\"by_local_date\":{\"2026-10-20\":1,\"2026-10-21\":1}");
  CHECK_CONTAINS(out, "\"funnel\":[{\"stage\":\"lead\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_analytics_report(&out, db, q, "csv"));
  CHECK(out != NULL && strncmp(out, "section,key,metric,value\r\n", 26) == 0);
  CHECK_CONTAINS(out, "summary,,calls,2\r\n");
  gymdash_string_free(out);
  CHECK_OK(gymdash_analytics_report(&out, db, NULL, "json"));
  CHECK_CONTAINS(out, "\"per_gym\":");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_analytics_report(&out, db, "{\"gym_id\":\"gym-nyc\",\"from\":\"2026-10-31\",\"to\":\"2026-10-01\"}",
                                              NULL),
                GYMDASH_E_INVALID_ARGUMENT, "to");
  CHECK_ERR_OUT(out, gymdash_analytics_report(&out, db, "{\"gym_id\":\"gym-zz\"}", NULL), GYMDASH_E_NOT_FOUND, "gym-zz");
  CHECK_ERR_OUT(out, gymdash_analytics_report(&out, db, "{\"gym_id\":\"gym-nyc\",\"campaign_id\":\"camp-x\"}", NULL),
                GYMDASH_E_NOT_FOUND, "camp-x");
  CHECK_ERR_OUT(out, gymdash_analytics_report(&out, db, "{\"timezone\":\"Mars/Base\"}", NULL), GYMDASH_E_INVALID_ARGUMENT,
                "timezone");
  CHECK_ERR_OUT(out, gymdash_analytics_report(&out, db, NULL, "xml"), GYMDASH_E_INVALID_ARGUMENT, "format");
  CHECK_OK(gymdash_analytics_rebuild(&out, db, "gym-nyc"));
  CHECK_CONTAINS(out, "\"gyms\":1,");
  gymdash_string_free(out);
  CHECK_OK(gymdash_analytics_report(&out, db, q, NULL));
  CHECK_CONTAINS(out, "\"calls\":2,");
  gymdash_string_free(out);
}

/* ---- webhooks (docs/webhooks.md) ------------------------------------------------- */

static void test_webhooks(gymdash_t* db) {
  char* out = NULL;
  /* A Vapi end-of-call report for lead E2 of gym-nyc; Vapi sends its server secret in x-vapi-secret. */
  static const char* const kRequest =
      "{\"provider\":\"vapi\",\"url\":\"https://hooks.example.com/vapi\","
      "\"headers\":{\"Content-Type\":\"application/json\",\"X-Vapi-Secret\":\"%s\"},"
      "\"body\":\"{\\\"message\\\":{\\\"type\\\":\\\"end-of-call-report\\\","
      "\\\"endedReason\\\":\\\"customer-busy\\\",\\\"call\\\":{\\\"id\\\":\\\"vapi-c-1\\\","
      "\\\"type\\\":\\\"outboundPhoneCall\\\",\\\"customer\\\":{\\\"number\\\":\\\"+12127366002\\\"},"
      "\\\"metadata\\\":{\\\"gym_id\\\":\\\"gym-nyc\\\",\\\"lead_external_id\\\":\\\"E2\\\"}},"
      "\\\"endedAt\\\":\\\"2026-10-22T14:00:20Z\\\"}}\"}";
  char good[2048];
  char bad[2048];
  snprintf(good, sizeof good, kRequest, "s3cret-vapi");
  snprintf(bad, sizeof bad, kRequest, "guess");

  /* no secret given and none configured */
  CHECK_ERR_OUT(out, gymdash_webhook_ingest(&out, db, good, NULL), GYMDASH_E_INVALID_ARGUMENT, "secret");
  /* wrong secret: refused, nothing written */
  CHECK_ERR_OUT(out, gymdash_webhook_ingest(&out, db, bad, "{\"secret\":\"s3cret-vapi\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "signature");
  CHECK_ERR_OUT(out, gymdash_call_get(&out, db, "gym-nyc", "vapi-c-1"), GYMDASH_E_NOT_FOUND, "vapi-c-1");

  CHECK_OK(gymdash_webhook_ingest(&out, db, good, "{\"secret\":\"s3cret-vapi\"}"));
  CHECK_CONTAINS(out, "\"provider\":\"vapi\",\"kind\":\"end-of-call-report\",\"events\":1,\"applied\":1");
  CHECK_CONTAINS(out, "\"event_id\":\"vapi:vapi-c-1:end-of-call-report\",\"result\":\"applied\"");
  CHECK_CONTAINS(out, "\"status\":\"busy\"");
  gymdash_string_free(out);
  /* a re-delivery is a duplicate */
  CHECK_OK(gymdash_webhook_ingest(&out, db, good, "{\"secrets\":[\"old\",\"s3cret-vapi\"],\"tolerance_s\":60}"));
  CHECK_CONTAINS(out, "\"applied\":0,\"duplicates\":1");
  gymdash_string_free(out);
  CHECK_OK(gymdash_call_get(&out, db, "gym-nyc", "vapi-c-1"));
  CHECK_CONTAINS(out, "\"status\":\"busy\"");
  gymdash_string_free(out);

  CHECK_ERR_OUT(out, gymdash_webhook_ingest(&out, db, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "request_json");
  CHECK_ERR_OUT(out, gymdash_webhook_ingest(&out, db, "{\"provider\":\"skype\",\"body\":\"\"}", "{\"secret\":\"x\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "provider");
  CHECK_ERR_OUT(out, gymdash_webhook_ingest(&out, db, "{\"provider\":\"vapi\",\"headers\":7}", NULL),
                GYMDASH_E_INVALID_ARGUMENT, "headers");
  CHECK_ERR_OUT(out,
                gymdash_webhook_ingest(&out, db,
                                       "{\"provider\":\"vapi\",\"headers\":[[\"x-vapi-secret\",\"k\"]],\"body\":\"{]\"}",
                                       "{\"secret\":\"k\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "body");
  CHECK_ERR_OUT(out, gymdash_webhook_ingest(&out, db, good, "{\"tolerance_s\":0}"), GYMDASH_E_INVALID_ARGUMENT,
                "tolerance_s");
}

static void test_imports_and_calling(const char* storage) {
  gymdash_t* db = NULL;
  char config[1200];
  snprintf(config, sizeof config, "{\"storage\":\"%s\",\"logging\":{\"sink\":\"none\"}}", storage);
  CHECK_OK(gymdash_open(&db, config));
  if (db == NULL) return;
  test_import_files(db);
  test_who_to_call(db);
  test_dnc_import(db);
  test_calling_null_arguments(db);
  test_calls(db);
  test_analytics(db);
  test_webhooks(db);
  gymdash_close(db);
}

/* ---- metrics ---------------------------------------------------------------------- */

static void test_metrics(void) {
  gymdash_t* db = NULL;
  char* out = NULL;
  int i;

  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"logging\":{\"sink\":\"none\"}}"));
  if (db == NULL) return;

  /* every operation is there from the start, at zero */
  CHECK_OK(gymdash_metrics(&out, db, NULL));
  CHECK_CONTAINS(out, "# TYPE gymdash_operation_calls_total counter\n");
  CHECK_CONTAINS(out, "gymdash_operation_calls_total{operation=\"lead.create\"} 0\n");
  gymdash_string_free(out);

  CHECK_OK(gymdash_gym_create(&out, db, kGym));
  gymdash_string_free(out);
  for (i = 0; i < 5; ++i) {
    char json[64];
    snprintf(json, sizeof json, "{\"phone\":\"(212) 736-51%02d\"}", i);
    CHECK_OK(gymdash_lead_create(&out, db, "gym-nyc", json));
    gymdash_string_free(out);
  }
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"12\"}"), GYMDASH_E_INVALID_ARGUMENT, NULL);
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nowhere", "{\"phone\":\"(212) 736-5100\"}"),
                GYMDASH_E_NOT_FOUND, NULL);

  CHECK_OK(gymdash_metrics(&out, db, "prometheus"));
  CHECK_CONTAINS(out, "gymdash_operation_calls_total{operation=\"lead.create\"} 7\n");
  CHECK_CONTAINS(out, "gymdash_operation_calls_total{operation=\"gym.create\"} 1\n");
  CHECK_CONTAINS(out, "gymdash_operation_errors_total{operation=\"lead.create\",code=\"invalid_argument\"} 1\n");
  CHECK_CONTAINS(out, "gymdash_operation_errors_total{operation=\"lead.create\",code=\"not_found\"} 1\n");
  CHECK_CONTAINS(out, "# TYPE gymdash_operation_latency_seconds summary\n");
  CHECK_CONTAINS(out, "gymdash_operation_latency_seconds{operation=\"lead.create\",quantile=\"0.99\"} ");
  CHECK_CONTAINS(out, "gymdash_operation_latency_seconds_count{operation=\"lead.create\"} 7\n");
  gymdash_string_free(out);

  CHECK_OK(gymdash_metrics(&out, db, "json"));
  CHECK(out != NULL && strncmp(out, "{\"operations\":[", 15) == 0);
  CHECK_CONTAINS(out, "{\"operation\":\"lead.create\",\"calls\":7,\"errors\":{\"invalid_argument\":1,\"not_found\":1},");
  CHECK_CONTAINS(out, "\"gauges\":{\"jobs_due\":0E0,\"jobs_due_callbacks\":0E0,\"jobs_due_retries\":0E0}");
  gymdash_string_free(out);

  CHECK_ERR_OUT(out, gymdash_metrics(&out, db, "xml"), GYMDASH_E_INVALID_ARGUMENT, "format");
  CHECK(strcmp(gymdash_last_error_field(), "format") == 0);
  gymdash_close(db);
}

/* ---- redaction over a whole run ------------------------------------------------------ */

/*
 * True if a run of digits shows seven or more digits of a phone number the
 * scenarios use: all of them are 212 736 xxxx or 646 736 xxxx, so any run
 * with "736" and four more digits (or the area code and "736") is one.
 */
static int is_used_phone(const char* digits) {
  const char* p = strstr(digits, "736");
  if (strstr(digits, "212736") != NULL || strstr(digits, "646736") != NULL) return 1;
  return p != NULL && strlen(p) >= 7;
}

/*
 * Fails if `text` holds a run of 7 or more digits (with the punctuation people
 * type inside phone numbers) that is one of the scenario's phone numbers, or
 * an email address (any '@' at all).
 */
static void check_no_personal_data(int line_no, const char* text) {
  const char* p = text;
  char buf[700];
  if (strchr(text, '@') != NULL) {
    snprintf(buf, sizeof buf, "log line has an email address: %.600s", text);
    fail_at(line_no, buf);
    return;
  }
  while (*p) {
    char digits[64];
    size_t n = 0;
    while (*p && strchr("0123456789 .-()+", *p) != NULL) {
      if (*p >= '0' && *p <= '9' && n + 1 < sizeof digits) digits[n++] = *p;
      ++p;
    }
    digits[n] = '\0';
    if (n >= 7 && is_used_phone(digits)) {
      snprintf(buf, sizeof buf, "log line has a phone number (%s): %.600s", digits, text);
      fail_at(line_no, buf);
      return;
    }
    if (*p) ++p;
  }
}

/* Inputs that put phone numbers and email addresses where messages quote them. */
static void log_personal_data_inputs(gymdash_t* db) {
  char* out = NULL;
  char id[128];
  CHECK_OK(gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-5101\",\"email\":\"zoe@example.com\","
                                                    "\"first_name\":\"Zoe 212-736-5101\",\"notes\":\"zoe@example.com\"}"));
  lead_id_of(out, id, sizeof id);
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-51\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "phone");
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "gym-nyc", "{\"phone\":\"(212) 736-5102\",\"email\":\"zoe at example\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "email");
  /* (212) 736-5001 is the scenario's first lead */
  CHECK_ERR_OUT(out, gymdash_lead_update(&out, db, "gym-nyc", id, "{\"phone\":\"+1 212 736 5001\"}"),
                GYMDASH_E_ALREADY_EXISTS, NULL);
  CHECK_ERR_OUT(out, gymdash_lead_update(&out, db, "gym-nyc", id, "{\"email\":\"zoe@\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "email");
  CHECK_OK(gymdash_lead_update(&out, db, "gym-nyc", id, "{\"email\":\"zoe.b@example.com\",\"phone\":\"212.736.5103\"}"));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_add_note_by(&out, db, "gym-nyc", id, "Call 212-736-5104 or mail zoe@example.com",
                                    "coach 212 736 5105"));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_list(&out, db, "gym-nyc", "{\"search\":\"212-736-5101\"}"));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_list(&out, db, "gym-nyc", "{\"search\":\"zoe@example.com\"}"));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_change_status(&out, db, "gym-nyc", id,
                                      "{\"to\":\"contacted\",\"actor\":\"zoe@example.com\",\"reason\":\"called 2127365106\"}"));
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"name\":\"Gym 212-736-5107 zoe@example.com\",\"timezone\":\"Mars/Base\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "timezone");
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"id\":\"g\",\"name\":\"G\",\"timezone\":\"UTC\",\"caller_ids\":[\"212-736-51\"]}"),
                GYMDASH_E_INVALID_ARGUMENT, "caller_ids");
  CHECK_OK(gymdash_lead_delete(db, "gym-nyc", id));
}

/* Ids that are really phone numbers or emails: a host mixing up its arguments. */
static void log_ids_with_personal_data(gymdash_t* db) {
  char* out = NULL;
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, db, "gym-nyc", "2127365108"), GYMDASH_E_NOT_FOUND, NULL);
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, db, "gym-nyc", "zoe@example.com"), GYMDASH_E_NOT_FOUND, NULL);
  CHECK_ERR_OUT(out, gymdash_gym_get(&out, db, "+1 (212) 736-5109"), GYMDASH_E_NOT_FOUND, NULL);
  CHECK_ERR_OUT(out, gymdash_lead_create(&out, db, "zoe@example.com", "{\"phone\":\"(212) 736-5110\"}"),
                GYMDASH_E_NOT_FOUND, NULL);
  CHECK_ERR_OUT(out, gymdash_lead_add_tags(&out, db, "gym-nyc", "+12127365111", "[\"vip\"]"), GYMDASH_E_NOT_FOUND,
                NULL);
  CHECK_ERR_OUT(out, gymdash_gym_create(&out, db, "{\"id\":\"gym (212) 736-5112\",\"name\":\"x\",\"timezone\":\"UTC\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "id");
}

/*
 * Runs every gym and lead operation (the whole scenario, then inputs that put
 * personal data where messages quote them) with a callback at trace, and
 * scans both strings of every record. With `ids`, only the calls whose gym or
 * lead ids are phone numbers or emails.
 */
static void test_log_redaction_full_run(int ids) {
  gymdash_t* db = NULL;
  struct log_capture cap;
  char* out = NULL;
  int i;
  int ops = 0;

  capture_init(&cap);
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"logging\":{\"sink\":\"none\",\"format\":\"logfmt\"}}"));
  if (db == NULL) {
    capture_free(&cap);
    return;
  }
  CHECK_OK(gymdash_set_log_callback(db, capture_fn, &cap, GYMDASH_LOG_TRACE));
  if (ids) {
    CHECK_OK(gymdash_gym_create(&out, db, kGym));
    gymdash_string_free(out);
    log_ids_with_personal_data(db);
    gymdash_close(db);
    CHECK(cap.count >= 5);
    for (i = 0; i < cap.count; ++i) {
      check_no_personal_data(__LINE__, cap.lines[i]);
      check_no_personal_data(__LINE__, cap.records[i]);
    }
    if (g_failures > 0) {
      fprintf(stderr, "c_api_test: the record fields gym/lead are written as given; gymdash::Logger::log "
                      "(src/core/log.cpp) redacts only msg and the extra fields\n");
    }
    capture_free(&cap);
    return;
  }
  run_scenario(db);
  log_personal_data_inputs(db);
  gymdash_close(db);

  CHECK(cap.count > 100);
  for (i = 0; i < cap.count; ++i) {
    check_no_personal_data(__LINE__, cap.lines[i]);
    check_no_personal_data(__LINE__, cap.records[i]);
    if (strstr(cap.records[i], "\"op\":\"lead.") != NULL) ++ops;
  }
  CHECK(ops > 50);
  /* every kind of record was seen: the check above had something to look at */
  CHECK(capture_find(&cap, "\"op\":\"runtime.close\"", NULL) >= 0);
  CHECK(capture_find(&cap, "\"op\":\"lead.add_note\"", "\"level\":\"debug\"") >= 0);
  CHECK(capture_find(&cap, "\"op\":\"lead.update\"", "\"error\":\"already_exists\"") >= 0);
  CHECK(capture_find(&cap, "\"error\":\"invalid_argument\"", "***") >= 0);
  capture_free(&cap);
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

/* Voice providers: a simulated provider in virtual time places, reports and
   ends calls without waiting; errors name the provider and the field. */
static void test_voice(void) {
  gymdash_t* db = NULL;
  char* out = NULL;
  char id[128] = {0};
  const char* p;
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"logging\":{\"sink\":\"none\"},"
                             "\"voice_providers\":{\"sim\":{\"kind\":\"simulated\",\"options\":{\"seed\":7,"
                             "\"time\":\"virtual\",\"answer_rate\":1,\"voicemail_rate\":0,\"busy_rate\":0,"
                             "\"failed_rate\":0,\"ring_min_s\":30,\"ring_max_s\":30}}}}"));
  if (db == NULL) return;
  CHECK_OK(gymdash_voice_place_call(&out, db, "sim",
                                    "{\"from\":\"+12127365000\",\"to\":\"+12127365101\",\"assistant_id\":\"a1\","
                                    "\"dynamic_variables\":{\"first_name\":\"Ana\"},"
                                    "\"metadata\":{\"gym_id\":\"gym-voice\",\"lead_id\":\"l1\"}}"));
  CHECK_CONTAINS(out, "\"provider_call_id\":\"sim-7-");
  CHECK_CONTAINS(out, "\"status\":\"queued\"");
  p = out ? strstr(out, "sim-7-") : NULL;
  if (p != NULL) {
    size_t n = strcspn(p, "\"");
    if (n < sizeof id) memcpy(id, p, n);
  }
  gymdash_string_free(out);
  out = NULL;
  CHECK_OK(gymdash_voice_get_status(&out, db, "sim", id));
  CHECK_CONTAINS(out, "\"status\":\"ringing\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_voice_hang_up(db, "sim", id));
  CHECK_OK(gymdash_voice_get_status(&out, db, "sim", id));
  CHECK_CONTAINS(out, "\"status\":\"canceled\"");
  gymdash_string_free(out);

  CHECK_ERR_OUT(out, gymdash_voice_place_call(&out, db, "nope", "{\"from\":\"+12127365000\",\"to\":\"+12127365101\"}"),
                GYMDASH_E_NOT_FOUND, "provider");
  CHECK_ERR_OUT(out, gymdash_voice_place_call(&out, db, "sim", "{\"from\":\"+12127365000\",\"to\":\"12\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "to:");
  CHECK(strcmp(gymdash_last_error_field(), "to") == 0);
  CHECK_ERR_OUT(out, gymdash_voice_place_call(&out, db, "sim", "{\"to\":\"+12127365101\",\"colour\":1}"),
                GYMDASH_E_INVALID_ARGUMENT, "colour");
  CHECK_ERR_OUT(out, gymdash_voice_get_status(&out, db, "sim", "sim-0-000000"), GYMDASH_E_NOT_FOUND,
                "provider_call_id");
  CHECK_ERR(gymdash_voice_hang_up(db, NULL, id), GYMDASH_E_INVALID_ARGUMENT, "provider");
  gymdash_close(db);
}

/* ---- recordings and retention, call routing ------------------------------------ */

static void test_recordings_and_routing(void) {
  gymdash_t* db = NULL;
  char* out = NULL;
  char id[64];
  char buf[1024];
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"worker_threads\":1,\"logging\":{\"sink\":\"none\"},"
                             "\"gyms\":{\"gym-r\":{\"recording_retention_days\":30}}}"));
  if (db == NULL) return;
  CHECK_OK(gymdash_gym_create(&out, db, "{\"id\":\"gym-r\",\"name\":\"Routing Gym\",\"timezone\":\"America/New_York\","
                                        "\"caller_ids\":[\"(212) 736-5000\",\"(305) 372-0100\"]}"));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_create(&out, db, "gym-r",
                               "{\"phone\":\"(305) 372-4444\",\"first_name\":\"Ana\",\"email\":\"ana@example.com\"}"));
  lead_id_of(out, id, sizeof id);
  gymdash_string_free(out);

  snprintf(buf, sizeof buf,
           "{\"event_id\":\"rec-1\",\"call_id\":\"RC1\",\"gym_id\":\"gym-r\",\"lead_id\":\"%s\","
           "\"started_at\":\"2020-01-01T10:00:00Z\",\"ended_at\":\"2020-01-01T10:02:00Z\",\"status\":\"completed\","
           "\"answered_by\":\"human\",\"recording_url\":\"https://rec.example/RC1.wav\",\"summary\":\"prices\"}",
           id);
  CHECK_OK(gymdash_call_process_event(&out, db, buf));
  gymdash_string_free(out);
  /* 14 days old: kept under a 30-day retention */
  CHECK_OK(gymdash_calls_purge_expired(&out, db, "2020-01-15T00:00:00Z"));
  CHECK_CONTAINS(out, "\"calls\":0");
  CHECK_CONTAINS(out, "\"retention_days\":30");
  gymdash_string_free(out);
  CHECK_OK(gymdash_calls_purge_expired(&out, db, "2020-03-01T00:00:00Z"));
  CHECK_CONTAINS(out, "\"calls\":1");
  CHECK_CONTAINS(out, "\"cutoff\":\"2020-01-31T00:00:00Z\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_call_get(&out, db, "gym-r", "RC1"));
  CHECK_CONTAINS(out, "\"recording_url\":\"\"");
  CHECK_CONTAINS(out, "\"purged_at\":\"2020-03-01T00:00:00Z\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_calls_purge_expired(&out, db, "yesterday"), GYMDASH_E_INVALID_ARGUMENT, "now");

  snprintf(buf, sizeof buf,
           "{\"event_id\":\"rec-2\",\"call_id\":\"RC2\",\"gym_id\":\"gym-r\",\"lead_id\":\"%s\","
           "\"started_at\":\"2020-02-01T10:00:00Z\",\"status\":\"completed\",\"answered_by\":\"human\","
           "\"recording_url\":\"https://rec.example/RC2.wav\"}",
           id);
  CHECK_OK(gymdash_call_process_event(&out, db, buf));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_purge_recordings(&out, db, "gym-r", id, NULL, "erasure request"));
  CHECK_CONTAINS(out, "\"calls\":1");
  CHECK_CONTAINS(out, "\"lead_id\":\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_history(&out, db, "gym-r", id));
  CHECK_CONTAINS(out, "\"kind\":\"recordings_purged\"");
  CHECK_CONTAINS(out, "\"reason\":\"erasure request\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_purge_recordings(&out, db, "gym-r", "ld_nope", NULL, NULL), GYMDASH_E_NOT_FOUND,
                "ld_nope");
  CHECK(strcmp(gymdash_last_error_field(), "lead_id") == 0);
  CHECK_ERR_OUT(out, gymdash_lead_purge_recordings(&out, db, NULL, id, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT,
                "gym_id");

  /* routing */
  snprintf(buf, sizeof buf,
           "{\"gym_id\":\"gym-r\",\"lead_id\":\"%s\",\"campaign_id\":\"spring\",\"at\":\"2026-11-02T15:00:00Z\","
           "\"assistants\":{\"gym_default\":\"asst-main\",\"campaigns\":{\"spring\":{\"default\":\"asst-n\"}}}}",
           id);
  CHECK_OK(gymdash_route_outbound(&out, db, buf));
  CHECK_CONTAINS(out, "\"from\":\"+13053720100\"");
  CHECK_CONTAINS(out, "\"local_presence\":true");
  CHECK_CONTAINS(out, "\"assistant_id\":\"asst-n\"");
  CHECK_CONTAINS(out, "\"assistant_rule\":\"campaign_default\"");
  CHECK_CONTAINS(out, "\"greeting\":\"Good morning\"");
  CHECK_CONTAINS(out, "\"first_name\":\"Ana\"");
  CHECK(out != NULL && strstr(out, "example.com") == NULL);
  gymdash_string_free(out);
  snprintf(buf, sizeof buf, "{\"gym_id\":\"gym-r\",\"lead_id\":\"%s\"}", id);
  CHECK_ERR_OUT(out, gymdash_route_outbound(&out, db, buf), GYMDASH_E_INVALID_ARGUMENT, "assistants.gym_default");
  CHECK_ERR_OUT(out, gymdash_route_outbound(&out, db, "{\"gym_id\":\"gym-r\",\"lead_id\":\"x\",\"colour\":1}"),
                GYMDASH_E_INVALID_ARGUMENT, "colour");
  CHECK_ERR_OUT(out, gymdash_route_outbound(&out, db, "{\"gym_id\":\"gym-r\",\"lead_id\":\"ld_nope\"}"),
                GYMDASH_E_NOT_FOUND, "lead");

  CHECK_OK(gymdash_route_inbound(&out, db, "gym-r", "(212) 736-9999", NULL));
  CHECK_CONTAINS(out, "\"created\":true");
  CHECK_CONTAINS(out, "\"do_not_call\":false");
  gymdash_string_free(out);
  CHECK_OK(gymdash_route_inbound(&out, db, "gym-r", "212-736-9999", "2026-11-02T15:00:00Z"));
  CHECK_CONTAINS(out, "\"created\":false");
  gymdash_string_free(out);
  CHECK_OK(gymdash_route_inbound(&out, db, "gym-r", "(305) 372-4444", NULL));
  CHECK_CONTAINS(out, "\"created\":false");
  CHECK_CONTAINS(out, "\"first_name\":\"Ana\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_route_inbound(&out, db, "gym-r", "12", NULL), GYMDASH_E_INVALID_ARGUMENT,
                "from_number");
  CHECK_ERR_OUT(out, gymdash_route_inbound(&out, db, "gym-x", "(212) 736-9999", NULL), GYMDASH_E_NOT_FOUND, "gym");
  CHECK_ERR_OUT(out, gymdash_route_inbound(&out, db, "gym-r", "(212) 736-9999", "tonight"), GYMDASH_E_INVALID_ARGUMENT,
                "at: ");
  CHECK(strcmp(gymdash_last_error_field(), "at") == 0);
  gymdash_close(db);
}

/* ---- calling campaigns, the dialer and forecasts ------------------------------- */

/* Erasing a lead: everything about it goes, one audit entry without personal data stays. */
static void test_erase(void) {
  gymdash_t* db = NULL;
  char* out = NULL;
  char id[64];
  char keep[64];
  char buf[1024];
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"worker_threads\":1,\"logging\":{\"sink\":\"none\"}}"));
  if (db == NULL) return;
  CHECK_OK(gymdash_gym_create(&out, db, "{\"id\":\"gym-e\",\"name\":\"Erase Gym\",\"timezone\":\"America/New_York\"}"));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_create(&out, db, "gym-e",
                               "{\"phone\":\"(305) 372-4444\",\"first_name\":\"Ana\",\"last_name\":\"Reyes\","
                               "\"email\":\"ana@example.com\",\"tags\":[\"vip\"]}"));
  lead_id_of(out, id, sizeof id);
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_create(&out, db, "gym-e", "{\"phone\":\"(305) 372-5555\",\"first_name\":\"Bo\"}"));
  lead_id_of(out, keep, sizeof keep);
  gymdash_string_free(out);
  snprintf(buf, sizeof buf,
           "{\"event_id\":\"er-1\",\"call_id\":\"EC1\",\"gym_id\":\"gym-e\",\"lead_id\":\"%s\","
           "\"started_at\":\"2026-10-01T14:00:00Z\",\"ended_at\":\"2026-10-01T14:02:00Z\",\"status\":\"completed\","
           "\"answered_by\":\"human\",\"recording_url\":\"https://rec.example/EC1.wav\",\"transcript\":\"user: hi\"}",
           id);
  CHECK_OK(gymdash_call_process_event(&out, db, buf));
  gymdash_string_free(out);

  /* refused: nothing changes */
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, db, "gym-e", id, "ana@example.com", NULL), GYMDASH_E_INVALID_ARGUMENT,
                "actor");
  CHECK(strcmp(gymdash_last_error_field(), "actor") == 0);
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, db, "gym-e", id, NULL, "call 305 372 4444"),
                GYMDASH_E_INVALID_ARGUMENT, "reason");
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, db, "gym-e", id, NULL, "Ana asked"), GYMDASH_E_INVALID_ARGUMENT,
                "reason");
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, db, "gym-e", "ld_nope", NULL, NULL), GYMDASH_E_NOT_FOUND, "ld_nope");
  CHECK(strcmp(gymdash_last_error_field(), "lead_id") == 0);
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, db, "gym-x", id, NULL, NULL), GYMDASH_E_NOT_FOUND, "gym");
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, db, NULL, id, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, db, "gym-e", NULL, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "lead_id");
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, NULL, "gym-e", id, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "db");
  CHECK_ERR(gymdash_lead_erase(NULL, db, "gym-e", id, NULL, NULL), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_OK(gymdash_call_get(&out, db, "gym-e", "EC1"));
  gymdash_string_free(out);

  CHECK_OK(gymdash_lead_erase(&out, db, "gym-e", id, "dpo", "request 2026-11-02"));
  CHECK_CONTAINS(out, "\"actor\":\"dpo\"");
  CHECK_CONTAINS(out, "\"calls\":1");
  CHECK_CONTAINS(out, "\"recordings\":1");
  CHECK_CONTAINS(out, "\"transcripts\":1");
  CHECK_CONTAINS(out, "\"call_results\":1");
  CHECK(out != NULL && strstr(out, "3724444") == NULL && strstr(out, "example.com") == NULL &&
        strstr(out, "Ana") == NULL && strstr(out, "rec.example") == NULL);
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_get(&out, db, "gym-e", id), GYMDASH_E_NOT_FOUND, id);
  CHECK_ERR_OUT(out, gymdash_call_get(&out, db, "gym-e", "EC1"), GYMDASH_E_NOT_FOUND, "EC1");
  CHECK_OK(gymdash_lead_get(&out, db, "gym-e", keep));
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_erase(&out, db, "gym-e", id, NULL, NULL), GYMDASH_E_NOT_FOUND, id);

  CHECK_OK(gymdash_lead_erasures(&out, db, "gym-e", 10, 0));
  CHECK_CONTAINS(out, id);
  CHECK_CONTAINS(out, "\"reason\":\"request 2026-11-02\"");
  CHECK(out != NULL && out[0] == '[');
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_erasures(&out, db, "gym-e", 10, 1));
  CHECK(out != NULL && strcmp(out, "[]") == 0);
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_erasures(&out, db, "gym-e", 0, 0), GYMDASH_E_INVALID_ARGUMENT, "limit");
  CHECK_ERR_OUT(out, gymdash_lead_erasures(&out, db, "gym-e", 10, -1), GYMDASH_E_INVALID_ARGUMENT, "offset");
  CHECK_ERR_OUT(out, gymdash_lead_erasures(&out, db, "gym-x", 10, 0), GYMDASH_E_NOT_FOUND, "gym");
  CHECK_ERR_OUT(out, gymdash_lead_erasures(&out, db, NULL, 10, 0), GYMDASH_E_INVALID_ARGUMENT, "gym_id");
  gymdash_close(db);
}

static int g_dialer_events = 0;
static int g_dialer_placed_events = 0;
static char g_dialer_last_event[512];

/* Called on the ticking thread or a worker thread: counts (the test reads them after the handle's work is done). */
static void on_dialer_event(void* user, const char* event_json) {
  ++*(int*)user;
  ++g_dialer_events;
  if (strstr(event_json, "\"kind\":\"placed\"") != NULL) ++g_dialer_placed_events;
  snprintf(g_dialer_last_event, sizeof g_dialer_last_event, "%s", event_json);
}

struct sim_progress {
  int calls;
  int cancel_after; /* 0: never */
};

static int count_sim_progress(void* user, const char* progress_json) {
  struct sim_progress* sp = (struct sim_progress*)user;
  sp->calls++;
  if (strstr(progress_json, "\"day\":") == NULL) return 1;
  return (sp->cancel_after != 0 && sp->calls >= sp->cancel_after) ? 1 : 0;
}

static void test_campaigns(void) {
  gymdash_t* db = NULL;
  char* out = NULL;
  char cmp[128];
  char lead1[64], lead2[64];
  char buf[512];
  int user_count = 0;
  long tick_placed = -1;
  const char* p;
  CHECK_OK(gymdash_open(&db, "{\"storage\":\"memory:\",\"worker_threads\":1,\"logging\":{\"sink\":\"none\"},"
                             "\"voice_providers\":{\"sim\":{\"kind\":\"simulated\",\"options\":{\"seed\":3,"
                             "\"time\":\"virtual\",\"answer_rate\":1,\"voicemail_rate\":0,\"busy_rate\":0,"
                             "\"failed_rate\":0}}}}"));
  if (db == NULL) return;
  CHECK_OK(gymdash_gym_create(&out, db, "{\"id\":\"gym-c\",\"name\":\"Campaign Gym\",\"timezone\":\"America/New_York\","
                                        "\"caller_ids\":[\"(212) 736-5000\"]}"));
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_create(&out, db, "gym-c", "{\"phone\":\"(212) 736-5101\",\"first_name\":\"Ana\",\"tags\":[\"winter\"]}"));
  lead_id_of(out, lead1, sizeof lead1);
  gymdash_string_free(out);
  CHECK_OK(gymdash_lead_create(&out, db, "gym-c", "{\"phone\":\"(212) 736-5102\",\"first_name\":\"Bo\"}"));
  lead_id_of(out, lead2, sizeof lead2);
  gymdash_string_free(out);

  /* create → get → list → update */
  CHECK_OK(gymdash_campaign_create(&out, db, "gym-c",
                                   "{\"name\":\"Winter push\",\"voice_provider\":\"sim\",\"target\":{\"tags\":[\"winter\"]},"
                                   "\"schedule\":{\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]},"
                                   "\"pacing\":{\"max_concurrent\":2,\"calls_per_second\":10}}"));
  CHECK_CONTAINS(out, "\"state\":\"draft\"");
  CHECK_CONTAINS(out, "\"max_concurrent\":2");
  json_str(out, "id", cmp, sizeof cmp);
  CHECK(strncmp(cmp, "cmp_", 4) == 0);
  gymdash_string_free(out);
  CHECK_OK(gymdash_campaign_get(&out, db, "gym-c", cmp));
  CHECK_CONTAINS(out, "\"name\":\"Winter push\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_campaign_list(&out, db, "gym-c", NULL));
  CHECK_CONTAINS(out, "\"total\":1");
  gymdash_string_free(out);
  CHECK_OK(gymdash_campaign_list(&out, db, "gym-c", "{\"states\":[\"active\"]}"));
  CHECK_CONTAINS(out, "\"total\":0");
  gymdash_string_free(out);
  CHECK_OK(gymdash_campaign_update(&out, db, "gym-c", cmp, "{\"description\":\"cold months\",\"weight\":3}"));
  CHECK_CONTAINS(out, "\"weight\":3");
  gymdash_string_free(out);

  /* enrol: the campaign's own target, then by id; remove */
  CHECK_OK(gymdash_campaign_enrol(&out, db, "gym-c", cmp, "{}"));
  CHECK_CONTAINS(out, "\"enrolled\":1");
  gymdash_string_free(out);
  snprintf(buf, sizeof buf, "{\"lead_ids\":[\"%s\",\"%s\"]}", lead1, lead2);
  CHECK_OK(gymdash_campaign_enrol(&out, db, "gym-c", cmp, buf));
  CHECK_CONTAINS(out, "\"enrolled\":1");
  CHECK_CONTAINS(out, "\"already_enrolled\":1");
  gymdash_string_free(out);
  snprintf(buf, sizeof buf, "[\"%s\"]", lead2);
  CHECK_OK(gymdash_campaign_remove_leads(&out, db, "gym-c", cmp, buf));
  CHECK_CONTAINS(out, "{\"removed\":1}");
  gymdash_string_free(out);
  CHECK_OK(gymdash_campaign_enrol(&out, db, "gym-c", cmp, "{\"filter\":{\"statuses\":[\"new\"]}}"));
  CHECK_CONTAINS(out, "\"enrolled\":1");
  gymdash_string_free(out);

  /* whom the campaign would call, and why not this lead, under its rules (no consent: nobody) */
  CHECK_OK(gymdash_lead_explain_for_campaign(&out, db, "gym-c", lead1, cmp, "2026-11-02T15:00:00Z"));
  CHECK_CONTAINS(out, "\"dialable\":false");
  CHECK_CONTAINS(out, "\"no_consent\"");
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_lead_explain_for_campaign(&out, db, "gym-c", lead1, "cmp_nope", NULL),
                GYMDASH_E_NOT_FOUND, "cmp_nope");
  CHECK_ERR_OUT(out, gymdash_lead_explain_for_campaign(&out, db, "gym-c", lead1, NULL, NULL),
                GYMDASH_E_INVALID_ARGUMENT, "campaign_id");
  CHECK_ERR_OUT(out, gymdash_lead_explain_for_campaign(&out, db, "gym-c", lead1, cmp, "2026-11-02 15:00"),
                GYMDASH_E_INVALID_ARGUMENT, "at: ");
  CHECK(strcmp(gymdash_last_error_field(), "at") == 0);
  snprintf(buf, sizeof buf, "{\"count\":5,\"campaign_id\":\"%s\",\"at\":\"2026-11-02T15:00:00Z\"}", cmp);
  CHECK_OK(gymdash_leads_next(&out, db, "gym-c", buf));
  CHECK(out != NULL && strcmp(out, "[]") == 0);
  gymdash_string_free(out);
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-c", "{\"count\":5,\"campaign_id\":\"cmp_nope\"}"),
                GYMDASH_E_NOT_FOUND, "cmp_nope");
  snprintf(buf, sizeof buf, "{\"count\":5,\"campaign_id\":\"%s\",\"qualification\":\"hot\"}", cmp);
  CHECK_ERR_OUT(out, gymdash_leads_next(&out, db, "gym-c", buf), GYMDASH_E_INVALID_ARGUMENT, "qualification");
  CHECK_OK(gymdash_dialer_refill(&out, db));
  CHECK_CONTAINS(out, "\"refilled\":0");
  gymdash_string_free(out);

  /* activate → tick (the callback sees every event) → status → performance */
  CHECK_OK(gymdash_dialer_set_event_callback(db, on_dialer_event, &user_count));
  CHECK_OK(gymdash_campaign_set_state(&out, db, "gym-c", cmp, "active"));
  CHECK_CONTAINS(out, "\"state\":\"active\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dialer_tick(&out, db));
  CHECK_CONTAINS(out, "\"campaigns\":1");
  CHECK_CONTAINS(out, "\"placed\":");
  p = out ? strstr(out, "\"placed\":") : NULL;
  if (p != NULL) tick_placed = strtol(p + 9, NULL, 10);
  CHECK(tick_placed >= 0);
  gymdash_string_free(out);
  CHECK_OK(gymdash_dialer_status(&out, db));
  CHECK_CONTAINS(out, "\"running\":false");
  CHECK_CONTAINS(out, "\"ticks\":1");
  CHECK_CONTAINS(out, cmp);
  gymdash_string_free(out);
  CHECK_OK(gymdash_dialer_start(db));
  CHECK_OK(gymdash_dialer_status(&out, db));
  CHECK_CONTAINS(out, "\"running\":true");
  gymdash_string_free(out);
  CHECK_OK(gymdash_dialer_stop(db));
  CHECK_OK(gymdash_dialer_stop(db));
  CHECK_OK(gymdash_campaign_performance(&out, db, "gym-c", cmp));
  CHECK_CONTAINS(out, "\"enrolled\":2");
  CHECK_CONTAINS(out, "\"state\":\"active\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_campaign_set_state(&out, db, "gym-c", cmp, "paused"));
  gymdash_string_free(out);

  /* forecast: nothing is written */
  CHECK_OK(gymdash_campaign_simulate(&out, db, "gym-c", cmp, "{\"days\":2,\"step_seconds\":120,"
                                                              "\"provider_options\":{\"seed\":5,\"answer_rate\":0.5}}"));
  CHECK_CONTAINS(out, "\"target_leads\":2");
  CHECK_CONTAINS(out, "\"by_day\":[");
  gymdash_string_free(out);
  /* forecast with progress: one call a simulated day; a non-zero answer cancels */
  {
    struct sim_progress sp = {0, 0};
    CHECK_OK(gymdash_campaign_simulate_ex(&out, db, "gym-c", cmp, "{\"days\":3,\"step_seconds\":300}",
                                          count_sim_progress, &sp));
    CHECK(sp.calls >= 1 && sp.calls <= 3); /* fewer when every lead is done early */
    gymdash_string_free(out);
    sp.calls = 0;
    sp.cancel_after = 1;
    CHECK_ERR_OUT(out, gymdash_campaign_simulate_ex(&out, db, "gym-c", cmp, "{\"days\":3,\"step_seconds\":300}",
                                                    count_sim_progress, &sp),
                  GYMDASH_E_CONFLICT, "cancelled");
    CHECK(sp.calls == 1);
  }
  CHECK_ERR_OUT(out, gymdash_campaign_simulate(&out, db, "gym-c", cmp, "{\"days\":2,\"weeks\":1}"),
                GYMDASH_E_INVALID_ARGUMENT, "weeks");
  CHECK(strcmp(gymdash_last_error_field(), "weeks") == 0);
  CHECK_ERR_OUT(out, gymdash_campaign_simulate(&out, db, "gym-c", cmp, "{\"days\":0}"), GYMDASH_E_INVALID_ARGUMENT,
                "days");
  CHECK_ERR_OUT(out, gymdash_campaign_simulate(&out, db, "gym-c", cmp, "{\"provider_options\":{\"seed\":[1]}}"),
                GYMDASH_E_INVALID_ARGUMENT, "provider_options.seed");

  /* errors name the field */
  CHECK_ERR_OUT(out, gymdash_campaign_create(&out, db, "gym-c", "{\"name\":\"x\",\"voice_provider\":\"sim\","
                                                                "\"pacing\":{\"max_concurrent\":0}}"),
                GYMDASH_E_INVALID_ARGUMENT, "pacing.max_concurrent");
  CHECK(strcmp(gymdash_last_error_field(), "pacing.max_concurrent") == 0);
  CHECK_ERR_OUT(out, gymdash_campaign_create(&out, db, "gym-c", "{\"name\":\"x\",\"voice_provider\":\"sim\","
                                                                "\"colour\":\"red\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "colour");
  CHECK_ERR_OUT(out, gymdash_campaign_create(&out, db, "gym-c", "{\"name\":\"x\",\"voice_provider\":"),
                GYMDASH_E_INVALID_ARGUMENT, "input_json");
  CHECK_ERR_OUT(out, gymdash_campaign_create(&out, db, "gym-c", "{\"name\":\"x\",\"voice_provider\":\"nope\"}"),
                GYMDASH_E_INVALID_ARGUMENT, "voice_provider");
  CHECK_ERR_OUT(out, gymdash_campaign_set_state(&out, db, "gym-c", cmp, "running"), GYMDASH_E_INVALID_ARGUMENT,
                "state");
  CHECK(strcmp(gymdash_last_error_field(), "state") == 0);
  CHECK_ERR_OUT(out, gymdash_campaign_set_state(&out, db, "gym-c", cmp, "draft"), GYMDASH_E_CONFLICT, "draft");
  CHECK_ERR_OUT(out, gymdash_campaign_enrol(&out, db, "gym-c", cmp, "{\"lead_ids\":[\"ld_x\",3]}"),
                GYMDASH_E_INVALID_ARGUMENT, "lead_ids[1]");
  CHECK_ERR_OUT(out, gymdash_campaign_enrol(&out, db, "gym-c", cmp, "{\"filter\":{\"statuses\":[\"bogus\"]}}"),
                GYMDASH_E_INVALID_ARGUMENT, "filter.statuses");
  CHECK_ERR_OUT(out, gymdash_campaign_enrol(&out, db, "gym-c", cmp, "{\"leads\":[]}"), GYMDASH_E_INVALID_ARGUMENT,
                "leads");
  CHECK_ERR_OUT(out, gymdash_campaign_remove_leads(&out, db, "gym-c", cmp, "{}"), GYMDASH_E_INVALID_ARGUMENT,
                "lead_ids_json");
  CHECK_ERR_OUT(out, gymdash_campaign_get(&out, db, "gym-c", "cmp_nope"), GYMDASH_E_NOT_FOUND, NULL);
  CHECK_ERR_OUT(out, gymdash_campaign_get(&out, db, "gym-c", NULL), GYMDASH_E_INVALID_ARGUMENT, "campaign_id");
  CHECK_ERR_OUT(out, gymdash_campaign_list(&out, db, "gym-c", "{\"page_size\":0}"), GYMDASH_E_INVALID_ARGUMENT,
                "page_size");
  CHECK_ERR(gymdash_campaign_delete(db, "gym-c", cmp), GYMDASH_E_CONFLICT, NULL);
  CHECK_ERR(gymdash_dialer_tick(NULL, db), GYMDASH_E_INVALID_ARGUMENT, "out");
  CHECK_ERR(gymdash_dialer_start(NULL), GYMDASH_E_INVALID_ARGUMENT, "db");

  /* cancel, then delete */
  CHECK_OK(gymdash_campaign_set_state(&out, db, "gym-c", cmp, "cancelled"));
  CHECK_CONTAINS(out, "\"state\":\"cancelled\"");
  gymdash_string_free(out);
  CHECK_OK(gymdash_campaign_delete(db, "gym-c", cmp));
  CHECK_ERR_OUT(out, gymdash_campaign_get(&out, db, "gym-c", cmp), GYMDASH_E_NOT_FOUND, NULL);

  CHECK_OK(gymdash_dialer_set_event_callback(db, NULL, NULL));
  gymdash_close(db);
  /* Every placed call was told to the callback (placed ones counted by the tick and the started dialer). */
  CHECK(user_count == g_dialer_events);
  if (tick_placed > 0) CHECK(g_dialer_events > 0);
}

int main(int argc, char** argv) {
  gymdash_t* db = NULL;
  char path[900];
  char uri[1024];
  char* out = NULL;
  const char* tmp = getenv("GYMDASH_TEST_TMP");

  if (argc > 1 && strcmp(argv[1], "--redaction-of-ids") == 0) {
    test_log_redaction_full_run(1);
    printf("c_api_test --redaction-of-ids: %d checks, %d failures\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
  }
  test_version_and_basics();
  test_open_errors();
  test_config();
  test_configured_arg_limits();
  test_configured_gym_hours();
  test_open_config();
  test_logging();
  test_metrics();
  test_log_redaction_full_run(0);

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

  /* imports, who to call, do-not-call lists: memory, then SQLite */
  test_imports_and_calling("memory:");
  snprintf(path, sizeof path, "%s/c_api_test-calling-%ld.db", tmp && *tmp ? tmp : "/tmp", (long)getpid());
  remove_db(path);
  snprintf(uri, sizeof uri, "sqlite:%s", path);
  test_imports_and_calling(uri);
  remove_db(path);

  test_voice();
  test_recordings_and_routing();
  test_erase();
  test_campaigns();

  printf("c_api_test: %d checks, %d failures (library %s)\n", g_checks, g_failures, gymdash_version());
  return g_failures == 0 ? 0 : 1;
}
