/*
 * host.c — a C host program using gymdash through its C ABI.
 *
 *   host [DB_PATH]
 *
 * Opens (or creates) an SQLite database, creates a gym, adds leads typed the
 * way people type phone numbers, lists them, tags one, moves its status, and
 * prints the JSON the library returns. Every return code is checked: on a
 * failure the program prints the library's message and exits with status 1.
 * Running it twice on the same file works: the gym is found, the leads merge.
 *
 * Build: link with gymdash::c (CMake) or -lgymdash_c.
 */
#define _POSIX_C_SOURCE 200809L

#include <gymdash.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gymdash_t* g_db = NULL;

/* Prints the failed step and the thread's last error, then exits. */
static void die(const char* step, int rc) {
  fprintf(stderr, "host: %s failed: %s (%d): %s\n", step, gymdash_error_name(rc), rc, gymdash_last_error_message());
  gymdash_close(g_db);
  exit(1);
}

/* Runs a call that returns JSON through `out`: checks it, prints it, frees it. */
#define SHOW(step, call)                      \
  do {                                        \
    char* out = NULL;                         \
    int rc = (call);                          \
    if (rc != GYMDASH_OK) die(step, rc);      \
    printf("%s:\n  %s\n", step, out);         \
    gymdash_string_free(out);                 \
  } while (0)

/* Copies the value of the first `"id":"…"` after `from` into dst. */
static void copy_id(const char* from, char* dst, size_t cap) {
  const char* p = from ? strstr(from, "\"id\":\"") : NULL;
  size_t n = 0;
  dst[0] = '\0';
  if (p == NULL) return;
  p += 6;
  while (p[n] != '\0' && p[n] != '"' && n + 1 < cap) ++n;
  memcpy(dst, p, n);
  dst[n] = '\0';
}

int main(int argc, char** argv) {
  /* Leads as they arrive from web forms and ads: messy phone formats, read in the gym's region. */
  static const char* const leads[] = {
      "{\"phone\":\"(212) 736-5000\",\"first_name\":\"Ana\",\"last_name\":\"Lopez\",\"source\":\"web_form\","
      "\"timeline\":\"asap\",\"consent\":{\"given\":true,\"method\":\"web_form\"}}",
      "{\"phone\":\"646.736.1000\",\"first_name\":\"Ben\",\"source\":\"facebook_ads\",\"timeline\":\"this month\","
      "\"consent\":true}",
      "{\"phone\":\"+1 718 555 0199\",\"first_name\":\"Chloe\",\"source\":\"instagram\",\"consent\":true,"
      "\"tags\":[\"Spanish\"]}",
      /* Ana again, typed differently: merged into her lead */
      "{\"phone\":\"1-212-736-5000\",\"email\":\"ana@example.com\",\"interest\":\"boxing classes\"}",
  };
  char default_path[256];
  const char* path = argc > 1 ? argv[1] : NULL;
  char storage[1200];
  char ana[128] = "";
  size_t i;
  int rc;

  if (path == NULL) {
    snprintf(default_path, sizeof default_path, "/tmp/gymdash-host-%ld.db", (long)getpid());
    path = default_path;
  }
  printf("gymdash %s, database %s\n", gymdash_version(), path);

  /* JSON options: the storage URI plus the size of the worker pool. */
  snprintf(storage, sizeof storage, "{\"storage\":\"sqlite:%s\",\"worker_threads\":1}", path);
  rc = gymdash_open(&g_db, storage);
  if (rc != GYMDASH_OK) die("open", rc);

  /* The gym: created on the first run, found on later ones. */
  {
    char* out = NULL;
    rc = gymdash_gym_create(&out, g_db,
                            "{\"id\":\"gym-nyc-01\",\"name\":\"Iron Temple Midtown\",\"timezone\":\"America/New_York\","
                            "\"region\":\"US\",\"state\":\"NY\",\"call_hours\":{\"start\":\"09:00\",\"end\":\"20:00\"},"
                            "\"caller_ids\":[\"(212) 736-5001\"]}");
    if (rc == GYMDASH_E_ALREADY_EXISTS) rc = gymdash_gym_get(&out, g_db, "gym-nyc-01");
    if (rc != GYMDASH_OK) die("gym", rc);
    printf("gym:\n  %s\n", out);
    gymdash_string_free(out);
  }

  for (i = 0; i < sizeof leads / sizeof leads[0]; ++i) {
    char* out = NULL;
    rc = gymdash_lead_create(&out, g_db, "gym-nyc-01", leads[i]);
    if (rc != GYMDASH_OK) die("lead_create", rc);
    printf("lead_create:\n  %s\n", out);
    if (i == 0) copy_id(strstr(out, "\"lead\":"), ana, sizeof ana);
    gymdash_string_free(out);
  }

  /* An invalid number is refused, naming the field. */
  {
    char* out = NULL;
    rc = gymdash_lead_create(&out, g_db, "gym-nyc-01", "{\"phone\":\"555-12\"}");
    if (rc != GYMDASH_E_INVALID_ARGUMENT || out != NULL) die("refusing an invalid phone", rc == 0 ? -10 : rc);
    printf("invalid phone refused: %s\n", gymdash_last_error_message());
  }

  SHOW("list (newest first)", gymdash_lead_list(&out, g_db, "gym-nyc-01", NULL));
  SHOW("list (facebook_ads only)",
       gymdash_lead_list(&out, g_db, "gym-nyc-01", "{\"source\":\"facebook_ads\",\"page_size\":10}"));
  SHOW("add_tags", gymdash_lead_add_tags(&out, g_db, "gym-nyc-01", ana, "[\"VIP\",\"morning\"]"));
  SHOW("add_note", gymdash_lead_add_note(&out, g_db, "gym-nyc-01", ana, "Wants a trial on Saturday morning."));
  SHOW("change_status",
       gymdash_lead_change_status(&out, g_db, "gym-nyc-01", ana,
                                  "{\"to\":\"trial_booked\",\"actor\":\"front-desk\",\"reason\":\"booked by phone\"}"));
  SHOW("history", gymdash_lead_history(&out, g_db, "gym-nyc-01", ana));

  gymdash_close(g_db);
  g_db = NULL;
  if (argc <= 1) {
    const char* suffixes[] = {"", "-wal", "-shm"};
    for (i = 0; i < 3; ++i) {
      char p[300];
      snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
      remove(p);
    }
  }
  printf("host: done\n");
  return 0;
}
