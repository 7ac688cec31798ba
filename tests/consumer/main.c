#include <gymdash.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  gymdash_t* db = NULL;
  char* out = NULL;
  int rc = gymdash_open(&db, "memory:");
  if (rc != 0) return 1;
  rc = gymdash_gym_create(&out, db,
                          "{\"id\":\"gym-den-01\",\"name\":\"Mile High Fitness\",\"timezone\":\"America/Denver\"}");
  if (rc != 0) {
    fprintf(stderr, "%s\n", gymdash_last_error_message());
    return 1;
  }
  gymdash_string_free(out);
  rc = gymdash_lead_create(&out, db, "gym-den-01", "{\"phone\":\"303.861.1234\"}");
  if (rc != 0) return 1;
  int ok = strstr(out, "+13038611234") != NULL;
  printf("gymdash %s from C: %s\n", gymdash_version(), ok ? "lead stored" : out);
  gymdash_string_free(out);
  gymdash_close(db);
  return ok ? 0 : 1;
}
