/*
 * gymdash.h — the C ABI of gymdash.
 *
 * A plain C header (C99/C11 and C++) over the C++ library: leads and gyms in,
 * JSON out. Link with -lgymdash_c (CMake: gymdash::c). The reference, with the
 * JSON shapes and Python usage, is docs/c-api.md.
 *
 * Conventions
 * -----------
 *  1. Handles are opaque. `gymdash_t` is one opened library instance (a store,
 *     its services and their worker threads). Only pointers to it exist.
 *
 *  2. Errors. Every function that can fail returns `int`: 0 (GYMDASH_OK) on
 *     success, otherwise a stable negative error code, GYMDASH_E_*. The values
 *     are those of gymdash::ErrorCode in C++; they are never renumbered, only
 *     appended, so a host may switch on them. Any code not listed here must be
 *     treated like GYMDASH_E_INTERNAL.
 *
 *  3. Arguments. Outputs come first and are named `out`. Requests and results
 *     are JSON text (UTF-8, NUL-terminated); ids and free text are plain
 *     UTF-8 strings. The JSON shapes are those of the C++ model (field names
 *     are the C++ member names); reading is strict: an unknown field, a wrong
 *     type or a bad enum value is GYMDASH_E_INVALID_ARGUMENT naming the field.
 *
 *  4. The last error. When a function fails, a message naming the offending
 *     argument, field or id ("phone: not a valid number in region US",
 *     "gym_id: must not be NULL") is kept for the calling thread:
 *     gymdash_last_error_code() and gymdash_last_error_message() read it, and
 *     gymdash_last_error_field() gives the name or key path alone ("phone",
 *     "gyms.gym-nyc.call_hours.start"; "" when the error names none). Both
 *     strings are owned by the library and stay valid until the next call of a
 *     gymdash function that returns int on the same thread; each such call
 *     clears them on entry (code 0, message and field "").
 *
 *  5. Who frees what. A string returned through `char** out` is allocated by
 *     the library and belongs to the caller, who frees it only with
 *     gymdash_string_free() (never free()). On failure `*out` is set to NULL,
 *     so freeing it unconditionally is safe. Strings returned as
 *     `const char*` (version, error messages and names) belong to the library
 *     and must not be freed. Every gymdash_open() is paired with a
 *     gymdash_close(); gymdash_close(NULL) and gymdash_string_free(NULL) do
 *     nothing. The library never keeps a pointer to an argument after the call
 *     returns.
 *
 *  6. NULL. `out`, the handle, ids, JSON and text arguments must not be NULL
 *     unless the function says so (gymdash_open's `storage`,
 *     gymdash_lead_list's `filter_json`, gymdash_lead_add_note_by's `actor`,
 *     gymdash_metrics' `format`, gymdash_set_log_callback's `fn` and `user`,
 *     the imports' `options_json`, `progress` and `user`,
 *     gymdash_lead_explain's `at`, gymdash_dnc_add's `reason` and `source`,
 *     gymdash_dnc_remove's `actor` and `reason`,
 *     gymdash_calls_purge_expired's `now`, gymdash_lead_purge_recordings'
 *     `actor` and `reason`, gymdash_route_inbound's `at`,
 *     gymdash_campaign_list's `filter_json`, gymdash_campaign_simulate's
 *     `options_json`, gymdash_dialer_set_event_callback's `fn` and `user`);
 *     a NULL where one is required is
 *     GYMDASH_E_INVALID_ARGUMENT naming the parameter. Functions taking a
 *     pointer to free or close accept NULL.
 *
 *  7. Threads. A handle may be used from several threads at once without
 *     external locking. gymdash_close() must not race with other calls on the
 *     same handle: close it only after every other call on it has returned.
 *     The library calls into the host only through the log callback
 *     (convention 11) and an import's progress callback (gymdash_progress_fn),
 *     which runs on the thread that called the import, before it returns,
 *     and the dialer's event callback (gymdash_dialer_set_event_callback).
 *
 *  8. Limits. Any string or JSON argument longer than 1 MiB (1048576 bytes,
 *     GYMDASH_MAX_ARG_BYTES) or that is not valid UTF-8 is
 *     GYMDASH_E_INVALID_ARGUMENT naming the argument. A handle opened with a
 *     configuration holds the calls made on it to its limits.max_request_bytes
 *     and limits.max_json_depth instead (1 MiB and 32 levels by default;
 *     calls without a handle keep those). The one exception is
 *     gymdash_leads_import_csv's `csv_text`: up to 256 MiB
 *     (GYMDASH_MAX_CSV_BYTES), its encoding checked row by row. Field limits
 *     inside the JSON (names 200 code points, notes 10000, 100 tags …) are in
 *     docs/c-api.md.
 *
 *  9. Exceptions never cross this ABI: every failure, including running out
 *     of memory, comes back as an error code.
 *
 * 10. Configuration. One JSON document configures a handle: storage, worker
 *     threads, per-gym policy, voice providers, limits, logging and metrics.
 *     Every key and its default is in docs/operations.md. A document is read
 *     completely and strictly: the error message lists every mistake, one per
 *     line, each starting with its key path, and an unknown key comes with the
 *     nearest known one. Secrets are never in the document, only the names of
 *     the environment variables that hold them; those are read when the
 *     handle opens. Any failure at open (a bad key, an unset variable, a log
 *     file that cannot be written, a database that cannot be opened) returns
 *     an error and leaves nothing open.
 *
 * 11. Logging. A handle writes structured records (what was done, for which
 *     gym and lead, how long it took, how it ended) to the sink its
 *     configuration names: stderr (the default), a file, or none.
 *     gymdash_set_log_callback() sends them to the host instead. The callback
 *     may be called from any thread (the caller's or one of the library's
 *     own), by several threads at once, and from within gymdash_close(). It
 *     must not call gymdash functions on the same handle (they would log and
 *     call it again), and must return normally (no longjmp, no C++
 *     exception). Phone numbers in records appear only as their last four
 *     digits ("***5001"), email addresses not at all ("[email]").
 */
#ifndef GYMDASH_H
#define GYMDASH_H

#if defined(_WIN32)
#  if defined(GYMDASH_C_BUILDING)
#    define GYMDASH_C_API __declspec(dllexport)
#  else
#    define GYMDASH_C_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define GYMDASH_C_API __attribute__((visibility("default")))
#else
#  define GYMDASH_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Error codes (convention 2)                                               */
/* ------------------------------------------------------------------------ */

/** Stable error codes; the same values as gymdash::ErrorCode in C++. */
enum gymdash_error_code {
  GYMDASH_OK = 0,
  GYMDASH_E_NOT_FOUND = -1,          /**< the id does not exist (or belongs to another gym) */
  GYMDASH_E_INVALID_ARGUMENT = -2,   /**< an argument or field is missing, malformed or out of range */
  GYMDASH_E_ALREADY_EXISTS = -3,     /**< an object with that id already exists */
  GYMDASH_E_CONFLICT = -4,           /**< illegal state transition or concurrent modification */
  GYMDASH_E_COMPLIANCE_BLOCKED = -5, /**< a calling rule (consent, do-not-call, hours) forbids it */
  GYMDASH_E_RATE_LIMITED = -6,       /**< a pacing or provider rate limit was hit */
  GYMDASH_E_PROVIDER_ERROR = -7,     /**< the voice provider answered with an error */
  GYMDASH_E_STORAGE_ERROR = -8,      /**< the storage backend failed (I/O, corruption, schema) */
  GYMDASH_E_UNAVAILABLE = -9,        /**< a dependency is temporarily unreachable; retrying may succeed */
  GYMDASH_E_INTERNAL = -10           /**< a bug in gymdash (or out of memory); the message says where */
};

/** Longest accepted string or JSON argument, in bytes (convention 8). */
#define GYMDASH_MAX_ARG_BYTES 1048576
/** Longest CSV text gymdash_leads_import_csv accepts, in bytes (256 MiB; convention 8). */
#define GYMDASH_MAX_CSV_BYTES 268435456

/** An opened library instance (convention 1). */
typedef struct gymdash_t gymdash_t;

/** Log levels (convention 11), lowest first; the values of gymdash::LogLevel. */
#define GYMDASH_LOG_TRACE 0
#define GYMDASH_LOG_DEBUG 1
#define GYMDASH_LOG_INFO 2
#define GYMDASH_LOG_WARN 3
#define GYMDASH_LOG_ERROR 4
#define GYMDASH_LOG_OFF 5
/** For gymdash_set_log_callback's `min_level`: keep the handle's current level. */
#define GYMDASH_LOG_UNCHANGED (-1)

/* ------------------------------------------------------------------------ */
/* Version, errors, memory                                                  */
/* ------------------------------------------------------------------------ */

/** The version of the library actually loaded, "MAJOR.MINOR.PATCH". Static storage. */
GYMDASH_C_API const char* gymdash_version(void);
/** The loaded library's major version number (for hosts that cannot read macros, e.g. ctypes). */
GYMDASH_C_API int gymdash_version_major(void);
/** The loaded library's minor version number. */
GYMDASH_C_API int gymdash_version_minor(void);
/** The loaded library's patch version number. */
GYMDASH_C_API int gymdash_version_patch(void);

/** The code of the calling thread's last failure, or GYMDASH_OK (convention 4). */
GYMDASH_C_API int gymdash_last_error_code(void);
/**
 * The message of the calling thread's last failure, "" when there is none.
 * Never NULL. Owned by the library; valid until the next int-returning
 * gymdash call on this thread.
 */
GYMDASH_C_API const char* gymdash_last_error_message(void);
/**
 * The argument name or key path the calling thread's last failure is about
 * ("phone", "tags_json[1]", "gyms.gym-nyc.call_hours.start"), "" when there
 * is none. For a configuration with several errors it is the first one's.
 * Never NULL; owned by the library like the message.
 */
GYMDASH_C_API const char* gymdash_last_error_field(void);
/**
 * The short stable name of an error code: "ok", "not_found",
 * "invalid_argument", …; "unknown" for a value that is not a code. Static
 * storage.
 */
GYMDASH_C_API const char* gymdash_error_name(int code);

/** Frees a string returned through `char** out`. NULL does nothing. */
GYMDASH_C_API void gymdash_string_free(char* s);

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

/**
 * Opens a library instance.
 *
 * `storage` is a storage URI — "memory:" (nothing persists) or "sqlite:PATH"
 * (created and migrated if needed) — or, when it starts with `{`, a whole
 * configuration document (convention 10), e.g.
 * {"storage":"sqlite:gym.db","worker_threads":2,"logging":{"level":"debug"}}.
 * Keys a document leaves out take their defaults (storage
 * "sqlite:gymdash.db"). NULL means "memory:" with every other default.
 * On success `*out` is the new handle, to be closed with gymdash_close().
 * Errors: INVALID_ARGUMENT (unknown scheme; every configuration error, each
 * naming its key path; an unset secret variable; a log file that cannot be
 * opened), STORAGE_ERROR (the database cannot be opened or is from a newer
 * schema). On error `*out` is NULL and nothing is left open.
 */
GYMDASH_C_API int gymdash_open(gymdash_t** out, const char* storage);

/**
 * Opens a library instance from a configuration file (a JSON document as for
 * gymdash_open, at most 16 MiB). A relative "sqlite:PATH" is relative to the
 * working directory, not to the file. Errors: as gymdash_open, plus
 * INVALID_ARGUMENT naming the path when the file cannot be read.
 */
GYMDASH_C_API int gymdash_open_config_file(gymdash_t** out, const char* path);

/**
 * Closes a handle: waits for its background work, closes the store, frees
 * everything. NULL does nothing. Every other call on the handle must have
 * returned.
 */
GYMDASH_C_API void gymdash_close(gymdash_t* db);

/* ------------------------------------------------------------------------ */
/* Gyms                                                                     */
/* ------------------------------------------------------------------------ */

/**
 * Creates a gym from a Gym JSON object; `*out` is the stored gym. An empty or
 * missing "id" gets a generated one; a missing "call_hours" or "call_days"
 * is the handle's configuration's (defaults, or gyms.<id>). Errors:
 * INVALID_ARGUMENT naming the field, ALREADY_EXISTS for a taken id.
 */
GYMDASH_C_API int gymdash_gym_create(char** out, gymdash_t* db, const char* gym_json);
/** `*out` is the gym with that id as JSON. Errors: NOT_FOUND. */
GYMDASH_C_API int gymdash_gym_get(char** out, gymdash_t* db, const char* gym_id);
/** `*out` is a JSON array of every gym, ordered by id. */
GYMDASH_C_API int gymdash_gym_list(char** out, gymdash_t* db);
/**
 * Replaces the settings of the gym named by the JSON's "id" (created_at is
 * kept); `*out` is the stored gym. Errors: NOT_FOUND, INVALID_ARGUMENT.
 */
GYMDASH_C_API int gymdash_gym_update(char** out, gymdash_t* db, const char* gym_json);

/* ------------------------------------------------------------------------ */
/* Leads (every call is scoped to one gym: another gym's lead is NOT_FOUND)  */
/* ------------------------------------------------------------------------ */

/**
 * Creates a lead from a LeadInput JSON object (only "phone" is required; it is
 * read in the gym's region and stored E.164). A lead of the gym with the same
 * number is merged instead. `*out` is {"lead":{…},"merged":false|true}.
 * Errors: NOT_FOUND (gym), INVALID_ARGUMENT naming the field.
 */
GYMDASH_C_API int gymdash_lead_create(char** out, gymdash_t* db, const char* gym_id, const char* lead_json);
/** `*out` is the lead as JSON. Errors: NOT_FOUND. */
GYMDASH_C_API int gymdash_lead_get(char** out, gymdash_t* db, const char* gym_id, const char* lead_id);
/**
 * Changes the fields present in a LeadPatch JSON object; `*out` is the lead.
 * Errors: NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS (the new phone belongs
 * to another lead), CONFLICT (a concurrent change).
 */
GYMDASH_C_API int gymdash_lead_update(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                      const char* patch_json);
/**
 * Deletes a lead and its history (its call records stay). Errors: NOT_FOUND.
 * To remove everything about a person, use gymdash_lead_erase.
 */
GYMDASH_C_API int gymdash_lead_delete(gymdash_t* db, const char* gym_id, const char* lead_id);
/**
 * Erases a lead completely, in one transaction (docs/hardening.md, "Erasing
 * a lead"): the lead, its tags, history, call results, campaign enrolments,
 * and its call records with their transcripts, summaries and recording
 * metadata; the analytics rollups lose their counts. `actor` (default "api")
 * and `reason` may be NULL, are at most 200 characters and must not hold a
 * phone number, an email address or the lead's name. `*out` is the audit
 * entry left behind: {"seq","gym_id","lead_id","at","actor","reason",
 * "removed":{"history_entries","calls","recordings","transcripts",
 * "call_results","enrolments"}}. Errors: NOT_FOUND naming gym_id or lead_id;
 * INVALID_ARGUMENT naming actor or reason; CONFLICT naming lead_id while a
 * call to the lead is in progress. On any error nothing changes.
 */
GYMDASH_C_API int gymdash_lead_erase(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                     const char* actor, const char* reason);
/**
 * The gym's erasure audit entries, newest first, as a JSON array of the
 * objects gymdash_lead_erase returns; `limit` 1–1000, `offset` ≥ 0.
 * Errors: NOT_FOUND naming gym_id; INVALID_ARGUMENT naming limit or offset.
 */
GYMDASH_C_API int gymdash_lead_erasures(char** out, gymdash_t* db, const char* gym_id, int limit, int offset);
/**
 * One page of the gym's leads, newest first. `filter_json` is a LeadFilter
 * JSON object, or NULL for the first page of everything. `*out` is
 * {"items":[…],"page":1,"page_size":50,"total":N}.
 */
GYMDASH_C_API int gymdash_lead_list(char** out, gymdash_t* db, const char* gym_id, const char* filter_json);
/**
 * Adds tags given as a JSON array of strings (["vip","spanish"]), or as an
 * object naming who does it ({"tags":["vip"],"actor":"ana"}; the actor is
 * recorded in the history, default "api"). Tags are trimmed, lower-cased and
 * deduplicated. `*out` is the lead.
 */
GYMDASH_C_API int gymdash_lead_add_tags(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                        const char* tags_json);
/**
 * Removes tags given as for gymdash_lead_add_tags (an array, or
 * {"tags":[…],"actor":"…"}); absent tags are ignored. `*out` is the lead.
 */
GYMDASH_C_API int gymdash_lead_remove_tags(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                           const char* tags_json);
/**
 * Appends a note (plain UTF-8 text, 1–10000 code points, not JSON) to the
 * lead's history. `*out` is the history event (LeadEvent JSON).
 */
GYMDASH_C_API int gymdash_lead_add_note(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                        const char* text);
/**
 * As gymdash_lead_add_note, recording `actor` (who wrote it, 1–200 code
 * points) in the history; NULL or "" means "api".
 */
GYMDASH_C_API int gymdash_lead_add_note_by(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                           const char* text, const char* actor);
/**
 * Moves the lead's status. `change_json` is a StatusChange JSON object:
 * {"to":"qualified","actor":"ana","reason":"…","force":false}. `*out` is the
 * lead. Errors: CONFLICT for a move back (or out of converted) without
 * "force" and a "reason".
 */
GYMDASH_C_API int gymdash_lead_change_status(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                             const char* change_json);
/** `*out` is a JSON array of the lead's history events, oldest first. Errors: NOT_FOUND. */
GYMDASH_C_API int gymdash_lead_history(char** out, gymdash_t* db, const char* gym_id, const char* lead_id);

/* ------------------------------------------------------------------------ */
/* Imports (docs/import.md)                                                 */
/* ------------------------------------------------------------------------ */

/**
 * An import's progress callback, called after each committed batch with
 * {"bytes_read":N,"bytes_total":N,"rows":N,"imported":N,"merged_duplicates":N,
 * "rejected":N} (bytes_total 0 when the size is not known). The string is
 * valid only during the call. `user` is the pointer given to the import.
 *
 * Return 0 to go on; any other value cancels the import: the batches already
 * committed stay, nothing more is read, and the import returns
 * GYMDASH_E_CONFLICT "progress: import cancelled by the progress callback
 * after N rows" (field "progress"; N counts the rows committed).
 *
 * Threads: called on the thread that called the import, never after the
 * import has returned. It may call other gymdash functions (the batch is
 * committed), but must not close the handle, and must return normally (no
 * longjmp, no C++ exception).
 */
typedef int (*gymdash_progress_fn)(void* user, const char* progress_json);

/**
 * Imports leads from a CSV file in the data contract's format
 * (docs/import.md; opened in binary mode, read in constant memory). Rows are
 * committed in batches; each row is imported, merged into the gym's lead with
 * the same number, or rejected with its line and reason. `options_json` is
 * NULL or {"batch_size":50000,"source":"<file name>","max_rejected_rows":100000}
 * (every member optional; the source, recorded as the consent source,
 * defaults to the file's name). `progress` (may be NULL) is called after each
 * batch with `user`. `*out` is the report:
 * {"rows","imported","merged_duplicates","rejected","rejected_by_reason":{reason:N},
 * "rejected_rows":[{"line","reason","detail"}],"rejected_rows_truncated","seconds"}.
 * Errors: INVALID_ARGUMENT naming `path` (the file cannot be read; its
 * contents are never quoted), `header` (missing required columns: nothing is
 * imported) or the option; CONFLICT when `progress` cancelled (committed
 * batches stay); STORAGE_ERROR.
 */
GYMDASH_C_API int gymdash_leads_import_file(char** out, gymdash_t* db, const char* path, const char* options_json,
                                            gymdash_progress_fn progress, void* user);
/**
 * As gymdash_leads_import_file, from CSV text in memory: at most 256 MiB
 * (GYMDASH_MAX_CSV_BYTES) rather than 1 MiB, and not checked as a whole for
 * UTF-8 (a row with a bad byte is rejected as bad_encoding, as in a file).
 * The source defaults to "import".
 */
GYMDASH_C_API int gymdash_leads_import_csv(char** out, gymdash_t* db, const char* csv_text, const char* options_json,
                                           gymdash_progress_fn progress, void* user);
/**
 * Creates or updates gyms from a gyms.csv file (`gym_id,name,timezone`,
 * optional `region`, `state`). `*out` is {"rows","created","updated",
 * "rejected","rejected_rows":[{"line","error"}]}; a bad row does not stop the
 * others. Errors: INVALID_ARGUMENT naming `path` or `header`.
 */
GYMDASH_C_API int gymdash_gyms_import_file(char** out, gymdash_t* db, const char* path);

/* ------------------------------------------------------------------------ */
/* Who to call (docs/compliance.md)                                         */
/* ------------------------------------------------------------------------ */

/**
 * The gym's leads that may be dialed now, best first. `request_json` is
 * {"count":N,"qualification":"hot"|null,"campaign_id":"cmp_…"|null,
 * "exclude":["ld_…",…],"at":ISO|null}: `count` (1–1000) is required;
 * `qualification` keeps only that qualification; `campaign_id` asks whom
 * that campaign's dialer would call, under its rules (its enrolled leads,
 * attempts, retry gap, hours and target qualifications; then
 * `qualification` must be left out); `exclude` (at most 1000 ids) skips
 * leads; `at` asks about another moment than now. `*out` is a JSON array of
 * leads. Errors: NOT_FOUND (gym, campaign), INVALID_ARGUMENT naming the
 * member.
 */
GYMDASH_C_API int gymdash_leads_next(char** out, gymdash_t* db, const char* gym_id, const char* request_json);
/**
 * Whether the lead may be dialed at `at` (ISO 8601; NULL means now) and why
 * not. `*out` is {"lead_id","at","dialable":bool,"reasons":["no_consent",…],
 * "local_zone","local_state","local_time"}. Errors: NOT_FOUND,
 * INVALID_ARGUMENT naming `at`.
 */
GYMDASH_C_API int gymdash_lead_explain(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                       const char* at);
/**
 * gymdash_lead_explain under a campaign's rules, as the dialer checks a lead
 * when it claims it: after the hard rules, `not_enrolled`,
 * `campaign_attempts`, `campaign_retry_gap`, `qualification`,
 * `outside_campaign_hours` (docs/campaigns.md). `at` may be NULL (now).
 * Errors: NOT_FOUND (gym, lead, campaign), INVALID_ARGUMENT naming `at`.
 */
GYMDASH_C_API int gymdash_lead_explain_for_campaign(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                                    const char* campaign_id, const char* at);
/**
 * Applies a call's result to the lead. `call_result_json` is
 * {"call_id","started_at","ended_at","status","answered_by","outcome",
 * "callback_at","sentiment"} (started_at required). `*out` is the lead.
 * Errors: NOT_FOUND, INVALID_ARGUMENT naming the field.
 */
GYMDASH_C_API int gymdash_lead_after_call(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                          const char* call_result_json);

/* ------------------------------------------------------------------------ */
/* Calls (docs/calls.md)                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Applies the call events of a JSON Lines file (the data contract's
 * calls.jsonl: one event object a line; blank lines skipped), committing in
 * batches. Each event_id is applied once: a repeat is counted as a duplicate
 * and changes nothing. A bad line is counted and listed with its line and
 * reason (bad_json, bad_field, unknown_gym, unknown_lead, bad_times,
 * negative_duration, outcome_without_person) and the ingest goes on.
 * `options_json` is NULL or {"batch_size":50000,"max_rejected_lines":100000} (defaults).
 * `progress` (may be NULL) is called after each batch with
 * {"events","duplicates","applied","rejected"}; a non-zero answer cancels as
 * for imports. `*out` is {"events","duplicates","applied","rejected",
 * "rejected_by_reason":{reason:N},"rejected_lines":[{"line","reason","detail"}],
 * "rejected_lines_truncated","seconds"}. Errors: INVALID_ARGUMENT naming
 * `path` or the option; CONFLICT when cancelled; STORAGE_ERROR.
 */
GYMDASH_C_API int gymdash_calls_ingest_file(char** out, gymdash_t* db, const char* path, const char* options_json,
                                            gymdash_progress_fn progress, void* user);
/**
 * Applies one call event (a calls.jsonl object). `*out` is
 * {"result":"applied"|"duplicate","call":{…}}. Errors: INVALID_ARGUMENT
 * naming the field; NOT_FOUND (gym or lead).
 */
GYMDASH_C_API int gymdash_call_process_event(char** out, gymdash_t* db, const char* event_json);
/** `*out` is the call, found by its id or the provider's call id. Errors: NOT_FOUND. */
GYMDASH_C_API int gymdash_call_get(char** out, gymdash_t* db, const char* gym_id, const char* call_id);
/**
 * One page of the gym's calls, newest first. `filter_json` is NULL or
 * {"lead_id","campaign_id","status","outcome","direction","started_from",
 * "started_to","page","page_size"} (every member optional; page_size 1–1000).
 * `*out` is {"items":[…],"page","page_size","total"}. Errors: NOT_FOUND (gym),
 * INVALID_ARGUMENT naming the member.
 */
GYMDASH_C_API int gymdash_calls_list(char** out, gymdash_t* db, const char* gym_id, const char* filter_json);
/** `*out` is a JSON array of the lead's calls, oldest first. Errors: NOT_FOUND. */
GYMDASH_C_API int gymdash_lead_calls(char** out, gymdash_t* db, const char* gym_id, const char* lead_id);

/* ------------------------------------------------------------------------ */
/* Do-not-call lists (scope: a gym id, or "*" for the global list)           */
/* ------------------------------------------------------------------------ */

/**
 * Puts a number on a list (read in the gym's region; the global list expects
 * E.164, else US). `reason` and `source` may be NULL (source then "api").
 * `*out` is the entry {"scope","phone","reason","source","added_at"}, the
 * existing one if already listed. Errors: NOT_FOUND (gym), INVALID_ARGUMENT.
 */
GYMDASH_C_API int gymdash_dnc_add(char** out, gymdash_t* db, const char* scope, const char* phone,
                                  const char* reason, const char* source);
/**
 * Takes a number off a list, recording `actor` and `reason` (both may be
 * NULL) in the history of the leads it unblocks. `*out` is 1 if the number was
 * listed, 0 if not (both are success).
 */
GYMDASH_C_API int gymdash_dnc_remove(int* out, gymdash_t* db, const char* scope, const char* phone,
                                     const char* actor, const char* reason);
/**
 * Whether a number may not be called for a gym. `*out` is {"phone",
 * "gym_listed","global_listed","lead_do_not_call","blocked"}.
 */
GYMDASH_C_API int gymdash_dnc_check(char** out, gymdash_t* db, const char* gym_id, const char* phone);
/** `*out` is a JSON array of a list's entries ordered by number; `limit` 1–1000, `offset` ≥ 0. */
GYMDASH_C_API int gymdash_dnc_list(char** out, gymdash_t* db, const char* scope, int limit, int offset);
/**
 * Adds the numbers of a file to a list, each with the file's name as source.
 * The file is either one number per line (blank lines and lines starting with
 * `#` are skipped) or, when its first such line is a CSV header with a
 * `phone` column, CSV (one row per line; an optional `reason` column). A bad
 * line does not stop the others. `*out` is {"lines","added","already_listed",
 * "rejected","rejected_lines":[{"line","error"}],"rejected_lines_truncated"}
 * (lines = added + already_listed + rejected; errors never show the full
 * number; at most 1000 rejected lines are listed). Errors: NOT_FOUND (gym),
 * INVALID_ARGUMENT naming `path` or `header`.
 */
GYMDASH_C_API int gymdash_dnc_import_file(char** out, gymdash_t* db, const char* scope, const char* path);

/* ------------------------------------------------------------------------ */
/* Configuration (convention 10)                                            */
/* ------------------------------------------------------------------------ */

/**
 * Reads a configuration document without opening anything. `*out` is the
 * document as the library understood it, every default filled in (pretty
 * JSON; secrets appear only as the names of their variables). Errors:
 * INVALID_ARGUMENT whose message lists every error, one per line, each
 * starting with its key path; gymdash_last_error_field() is the first path.
 * Environment variables, files and storage are not touched: those are
 * checked when a handle opens.
 */
GYMDASH_C_API int gymdash_config_check(char** out, const char* config_json);
/** `*out` is the default configuration document (pretty JSON). */
GYMDASH_C_API int gymdash_config_defaults(char** out);

/* ------------------------------------------------------------------------ */
/* Logging (convention 11)                                                  */
/* ------------------------------------------------------------------------ */

/**
 * A log callback. `level` is a GYMDASH_LOG_* value; `line` is the record
 * written in the handle's configured format (logging.format: a JSON object or
 * a logfmt line, no newline); `record_json` is the same record always as a
 * JSON object: {"time","level","op","gym","lead","error","ms","msg",…} (empty
 * members are left out). Both strings are valid only during the call. `user`
 * is the pointer given to gymdash_set_log_callback.
 */
typedef void (*gymdash_log_fn)(void* user, int level, const char* line, const char* record_json);

/**
 * Sends the handle's log records to `fn` instead of its configured sink, and
 * sets the handle's level to `min_level` (GYMDASH_LOG_TRACE … GYMDASH_LOG_OFF;
 * GYMDASH_LOG_UNCHANGED keeps it). `fn` NULL gives the records back to the
 * configured sink (stderr unless the configuration says otherwise).
 *
 * Lifetimes: `fn` and `user` must stay valid until they are replaced by
 * another call that has returned, or until gymdash_close() has returned
 * (close itself logs "runtime.close"). A record being written concurrently
 * on another thread may still reach the previous callback while the
 * replacement is in progress.
 * Threads: `fn` may be called from any thread, concurrently (convention 11).
 * Errors: INVALID_ARGUMENT naming `min_level`; for NULL `fn`, INVALID_ARGUMENT
 * naming logging.file when the configured log file cannot be reopened.
 */
GYMDASH_C_API int gymdash_set_log_callback(gymdash_t* db, gymdash_log_fn fn, void* user, int min_level);

/** Sets the lowest level the handle logs (GYMDASH_LOG_*; GYMDASH_LOG_OFF silences it). */
GYMDASH_C_API int gymdash_set_log_level(gymdash_t* db, int level);

/* ------------------------------------------------------------------------ */
/* Metrics                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * `*out` is the handle's metrics: per operation ("lead.create" …) the calls,
 * the errors by code and latency quantiles, plus gauges. `format` is
 * "prometheus" (the text exposition format 0.0.4; also when NULL) or "json"
 * ({"operations":[{"operation","calls","errors":{…},"p50_ms","p90_ms",
 * "p99_ms","sum_ms"}…],"gauges":{…}}). The names are in docs/operations.md.
 * Errors: INVALID_ARGUMENT naming `format`.
 */
GYMDASH_C_API int gymdash_metrics(char** out, gymdash_t* db, const char* format);

/* ------------------------------------------------------------------------ */
/* Webhooks of the voice providers (docs/webhooks.md)                       */
/* ------------------------------------------------------------------------ */

/**
 * Verifies one webhook request of Retell, Vapi or Twilio, turns it into call
 * events and applies them (as gymdash_call_process_event). Nothing is written
 * unless the signature or secret holds. `request_json` is
 * {"provider":"retell"|"vapi"|"twilio","url":"…","headers":{name:value}
 * (or [[name,value]…]; names in any case),"body":"…"}: the body exactly as
 * received, the full URL the provider called (Twilio signs it). `options_json`
 * is NULL or {"secret":"…","secrets":["…"],"tolerance_s":300}; without a
 * secret, the configuration's voice providers of that kind supply them
 * (webhook_secret; for Retell and Twilio also api_key). `*out` is
 * {"provider","kind","events","applied","duplicates","ignored":null|"why",
 * "warnings":["…"],"results":[{"event_id","result":"applied"|"duplicate",
 * "call":{…}}]}; a re-delivery is a duplicate.
 * Errors: INVALID_ARGUMENT naming `signature` (missing, not matching, or a
 * timestamp outside the tolerance), `secret` (none configured), `provider`,
 * `url`, `body` or the payload field (`call.call_id`, `CallSid`, `gym_id` …);
 * NOT_FOUND (gym, or lead); STORAGE_ERROR.
 */
GYMDASH_C_API int gymdash_webhook_ingest(char** out, gymdash_t* db, const char* request_json,
                                         const char* options_json);

/* ------------------------------------------------------------------------ */
/* Voice providers: placing calls (docs/voice.md)                           */
/* ------------------------------------------------------------------------ */

/**
 * Places one outbound call through the provider named `provider` under
 * voice_providers in the handle's configuration, and blocks until the
 * provider has accepted or refused it (retries included: see docs/voice.md).
 * `request_json` is {"from":"+1…","to":"+1…","assistant_id":"…",
 * "dynamic_variables":{name:text},"metadata":{"gym_id","lead_id",
 * "campaign_id"}}. `*out` is {"provider_call_id":"…","status":"queued"|…}.
 * A simulated provider's call events go to the handle's calls (as
 * gymdash_call_process_event) as the call unfolds.
 * Errors: INVALID_ARGUMENT naming `provider`, `request_json` or the field
 * (`to`, `from`, `assistant_id`, `metadata.gym_id` …); NOT_FOUND naming
 * `provider` (not configured); PROVIDER_ERROR (the provider refused it, with
 * its message); RATE_LIMITED; UNAVAILABLE (timeouts, refused connections).
 */
GYMDASH_C_API int gymdash_voice_place_call(char** out, gymdash_t* db, const char* provider,
                                           const char* request_json);

/**
 * `*out` is a call's state as the provider reports it now:
 * {"provider_call_id","status","answered_by","started_at","ended_at",
 * "duration_s","cost_usd","end_reason","summary"} (absent values are null).
 * Errors: as gymdash_voice_place_call; NOT_FOUND naming `provider_call_id`.
 */
GYMDASH_C_API int gymdash_voice_get_status(char** out, gymdash_t* db, const char* provider,
                                           const char* provider_call_id);

/** Ends a ringing or live call. Errors: as gymdash_voice_get_status. */
GYMDASH_C_API int gymdash_voice_hang_up(gymdash_t* db, const char* provider, const char* provider_call_id);

/* ---- analytics (docs/analytics.md) --------------------------------------- */

/**
 * A dashboard of calls and leads over a period. `query_json` is NULL (every
 * gym, the 90 days ending today) or {"gym_id","campaign_id","from","to",
 * "timezone"} (every member optional; dates `YYYY-MM-DD`, gym-local,
 * inclusive). `format` is NULL or "json": `*out` is the dashboard's JSON
 * (the data contract's per-gym names calls, connected, voicemail,
 * connect_rate, talk_s, avg_talk_s, cost_usd, outcomes, by_local_date at the
 * top level, then leads, funnel, cost_per_*, speed_to_lead, best_times, daily,
 * trends, and per_gym for every gym); "csv": one RFC 4180 table
 * `section,key,metric,value`. Errors: INVALID_ARGUMENT naming `from`, `to`
 * (a period that ends before it starts), `timezone`, `format` or the
 * member; NOT_FOUND naming `gym_id` or `campaign_id`.
 */
GYMDASH_C_API int gymdash_analytics_report(char** out, gymdash_t* db, const char* query_json, const char* format);
/**
 * Recomputes the analytics rollups of a gym (NULL or "": every gym) from its
 * stored calls and leads. `*out` is {"gyms","leads","calls","seconds"}.
 * Errors: NOT_FOUND naming `gym_id`.
 */
GYMDASH_C_API int gymdash_analytics_rebuild(char** out, gymdash_t* db, const char* gym_id);

/* ---- recordings and retention (docs/calls.md) ----------------------------- */

/**
 * Retention, for every gym: calls that started more than the gym's
 * recording_retention_days (configuration policy) before `now` lose their
 * recording_url, transcript and summary, and get purged_at. `now` is NULL
 * (the handle's clock) or ISO 8601. A maintenance job runs it daily; running
 * it again purges nothing more. `*out` is {"at","calls","gyms":[{"gym_id",
 * "calls","retention_days","cutoff"}]} (every gym, zero counts included).
 * Errors: INVALID_ARGUMENT naming `now`; STORAGE_ERROR.
 */
GYMDASH_C_API int gymdash_calls_purge_expired(char** out, gymdash_t* db, const char* now);
/**
 * A purge on request: every call of the lead loses its recording_url,
 * transcript and summary (purged_at set), and the lead's history gets a
 * `recordings_purged` entry (to: how many calls; `actor`, default "api", and
 * `reason`, both may be NULL, at most 200 characters). `*out` is
 * {"at","calls","gyms":[{"gym_id","calls","retention_days":0,"cutoff":null}],
 * "lead_id"}. Errors: NOT_FOUND naming gym_id or lead_id; INVALID_ARGUMENT
 * naming actor or reason.
 */
GYMDASH_C_API int gymdash_lead_purge_recordings(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                                const char* actor, const char* reason);

/* ---- call routing (docs/routing.md) ------------------------------------------ */

/**
 * How to place an outbound call to a lead. `request_json` is {"gym_id",
 * "lead_id","campaign_id","at","assistants":{"gym_default":"…","campaigns":
 * {"<campaign id>":{"default","hot","neutral","cold"}}}} (campaign_id, at and
 * assistants optional; `at` the placing time, default now). `*out` is
 * {"gym_id","lead_id","campaign_id","from","local_presence","to",
 * "assistant_id","assistant_rule","dynamic_variables":{name:text}}: from is
 * the gym's caller id with the lead's area code, else its first; the
 * variables are exactly those of docs/routing.md (never an email, a full
 * number or notes). Writes nothing; does not decide whether the lead may be
 * dialed (gymdash_lead_explain does). Errors: NOT_FOUND naming gym_id or
 * lead_id; INVALID_ARGUMENT naming `caller_ids` (the gym has none),
 * `assistants.gym_default` (no assistant matches) or the request's field.
 */
GYMDASH_C_API int gymdash_route_outbound(char** out, gymdash_t* db, const char* request_json);
/**
 * The lead behind an inbound call from `from_number` (read in the gym's
 * region) at `at` (NULL: now; else ISO 8601). An unknown number creates a
 * lead (source "inbound_call", no consent). `*out` is {"gym_id","from",
 * "created","do_not_call","lead_id","first_name","last_name","status",
 * "qualification","last_outcome","callback_at","dynamic_variables"};
 * do_not_call true means the number must not be called back, the inbound
 * call itself is still routed. Errors: NOT_FOUND naming gym_id;
 * INVALID_ARGUMENT naming from_number or at.
 */
GYMDASH_C_API int gymdash_route_inbound(char** out, gymdash_t* db, const char* gym_id, const char* from_number,
                                        const char* at);

/* ---- calling campaigns (docs/campaigns.md) ---------------------------------- */

/**
 * Creates a campaign of the gym in state "draft". `input_json` is a
 * CampaignInput object: {"name","voice_provider"} required, then
 * "description","target":{"qualifications","statuses","tags","source",
 * "created_from","created_to"},"schedule":{"start_date","end_date","days",
 * "hours":{"start","end"}},"pacing":{"max_concurrent","calls_per_day",
 * "calls_per_second","max_attempts","retry_gap_minutes"},"budget":
 * {"daily_usd","total_usd","reserve_per_call_usd"},"assistant_id","weight"
 * (docs/campaigns.md has every rule and default). `*out` is the Campaign
 * {"id","gym_id","name",…,"state","version",…}. Errors: NOT_FOUND naming
 * gym_id; INVALID_ARGUMENT naming the field ("pacing.max_concurrent",
 * "schedule.hours", "voice_provider" …).
 */
GYMDASH_C_API int gymdash_campaign_create(char** out, gymdash_t* db, const char* gym_id, const char* input_json);
/** `*out` is the campaign as JSON. Errors: NOT_FOUND naming gym_id or campaign_id. */
GYMDASH_C_API int gymdash_campaign_get(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id);
/**
 * One page of the gym's campaigns, newest first. `filter_json` is NULL or
 * {"states":["active",…],"page":1,"page_size":50} (every member optional;
 * page_size 1–1000). `*out` is {"items":[…],"page","page_size","total"}.
 * Errors: NOT_FOUND (gym); INVALID_ARGUMENT naming the member.
 */
GYMDASH_C_API int gymdash_campaign_list(char** out, gymdash_t* db, const char* gym_id, const char* filter_json);
/**
 * Changes the members present in a CampaignPatch object (the members of
 * CampaignInput, each optional; a nested object such as "pacing" replaces
 * the whole section). Only a draft or paused campaign may change. `*out` is
 * the campaign. Errors: NOT_FOUND; INVALID_ARGUMENT naming the field;
 * CONFLICT (active or ended campaign, a concurrent change).
 */
GYMDASH_C_API int gymdash_campaign_update(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id,
                                          const char* patch_json);
/**
 * Deletes a draft, completed or cancelled campaign and its enrolments.
 * Errors: NOT_FOUND; CONFLICT for an active or paused campaign.
 */
GYMDASH_C_API int gymdash_campaign_delete(gymdash_t* db, const char* gym_id, const char* campaign_id);
/**
 * Moves a campaign through its lifecycle: `state` is "active" (start, or
 * resume a paused one), "paused", "completed" or "cancelled" ("canceled"
 * also accepted). `*out` is the campaign. Errors: INVALID_ARGUMENT naming
 * `state` (an unknown name); CONFLICT naming both states for an illegal move
 * (or a schedule that has already ended); NOT_FOUND.
 */
GYMDASH_C_API int gymdash_campaign_set_state(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id,
                                             const char* state);
/**
 * Enrols leads in a campaign. `request_json` is {"lead_ids":["ld_…",…]} (at
 * most 10000; all or none are enrolled), {"filter":{…}} (the gym's leads
 * matching a target object as in CampaignInput's "target") or {} (the
 * campaign's own target). `*out` is {"enrolled":N,"already_enrolled":N}.
 * Errors: NOT_FOUND naming the campaign or the first lead id that is not the
 * gym's ("lead_ids[3]"); INVALID_ARGUMENT naming the member ("lead_ids[0]",
 * "filter.statuses[1]"); CONFLICT for an ended campaign.
 */
GYMDASH_C_API int gymdash_campaign_enrol(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id,
                                         const char* request_json);
/**
 * Takes leads out of a campaign. `lead_ids_json` is a JSON array of lead ids.
 * `*out` is {"removed":N}: how many of them were enrolled.
 * Errors: NOT_FOUND (campaign); INVALID_ARGUMENT naming "lead_ids_json[i]".
 */
GYMDASH_C_API int gymdash_campaign_remove_leads(char** out, gymdash_t* db, const char* gym_id,
                                                const char* campaign_id, const char* lead_ids_json);
/**
 * A campaign's figures now: `*out` is {"campaign_id","state","enrolled",
 * "never_called","exhausted","attempts","calls_today","cost_today_usd",
 * "cost_total_usd","connected","trials_booked","memberships_sold"}.
 * Errors: NOT_FOUND.
 */
GYMDASH_C_API int gymdash_campaign_performance(char** out, gymdash_t* db, const char* gym_id,
                                               const char* campaign_id);
/**
 * Forecasts a campaign (any state but cancelled): runs its plan from now
 * against the simulated provider on a virtual clock, over a copy of the
 * gym's leads, in memory; nothing is written to the handle's store and no
 * call is placed. `options_json` is NULL or {"days":14,"step_seconds":30,
 * "provider_options":{name:value}} (every member optional; days 1–90,
 * step_seconds 1–600; provider_options are the simulated provider's
 * settings, docs/voice.md, strings, numbers or booleans; empty: the
 * campaign's provider's own options when it is simulated). `*out` is
 * {"gym_id","campaign_id","from","to","target_leads","calls","connected",
 * "voicemail","trials_booked","memberships_sold","callbacks_requested",
 * "cost_usd","attempted_leads","reached_leads","done_leads",
 * "hours_until_all_done","by_day":[{"date","calls","connected","cost_usd"}]}.
 * Blocks the calling thread for the whole run (a 90-day run of thousands of
 * leads may take seconds); gymdash_campaign_simulate_ex reports progress.
 * Errors: INVALID_ARGUMENT naming the option ("days", "provider_options.x",
 * an unknown member); NOT_FOUND naming gym_id or campaign_id.
 */
GYMDASH_C_API int gymdash_campaign_simulate(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id,
                                            const char* options_json);
/**
 * gymdash_campaign_simulate with a progress callback (gymdash_progress_fn,
 * may be NULL), called on the calling thread after each simulated day with
 * {"day":N,"days":N,"calls":N,"done_leads":N,"target_leads":N}, and once more
 * when the run ends early because every target lead is done. A non-zero
 * return cancels: GYMDASH_E_CONFLICT "progress: forecast cancelled by the
 * progress callback after day N" (field "progress"); nothing was written
 * either way.
 */
GYMDASH_C_API int gymdash_campaign_simulate_ex(char** out, gymdash_t* db, const char* gym_id,
                                               const char* campaign_id, const char* options_json,
                                               gymdash_progress_fn progress, void* user);

/* ---- the dialer (docs/campaigns.md, "The dialer") ----------------------------- */

/**
 * Starts the handle's dialer: every `tick` it places the calls of every
 * active campaign of every gym through their voice providers, on the
 * handle's worker threads, within every calling rule and campaign limit.
 * Calls in flight whose process stopped long ago are abandoned first. A
 * no-op when it is running.
 */
GYMDASH_C_API int gymdash_dialer_start(gymdash_t* db);
/** Stops the dialer: no call is begun after it returns; calls in flight go on. Safe to call twice. */
GYMDASH_C_API int gymdash_dialer_stop(gymdash_t* db);
/**
 * One round of dialing decisions now, on the calling thread (whether the
 * dialer is started or not). `*out` is {"at","campaigns","asked","placed",
 * "lines_in_use","seconds"}.
 */
GYMDASH_C_API int gymdash_dialer_tick(char** out, gymdash_t* db);
/**
 * The dialer's state after its last tick: `*out` is {"running","ticks",
 * "placed","refused","lines_in_use","campaigns":[{"gym_id","campaign_id",
 * "lines_in_use","calls_today","reserved_usd","waiting"}]} ("waiting" says
 * what held a campaign back: "no_eligible_leads", "outside_schedule",
 * "daily_cap", "budget", "rate", "lines", "no_caller_id", "no_provider", or "").
 */
GYMDASH_C_API int gymdash_dialer_status(char** out, gymdash_t* db);
/**
 * Fills the candidate queues that are due now, on this thread (what a
 * started dialer does in a job after each tick; a host ticking by hand may
 * call it between ticks so that its ticks ask no questions). `*out` is
 * {"at","refilled","leads","seconds"}.
 */
GYMDASH_C_API int gymdash_dialer_refill(char** out, gymdash_t* db);

/**
 * A dialer event callback: `event_json` is {"kind":"placed"|"refused"|"ended"|
 * "completed"|"error","at","gym_id","campaign_id","lead_id","call_id",
 * "message"}, valid only during the call. `user` is the pointer given to
 * gymdash_dialer_set_event_callback.
 */
typedef void (*gymdash_dialer_event_fn)(void* user, const char* event_json);

/**
 * Sends every dialer event to `fn` (NULL: none; replaces any previous one).
 * Threads: `fn` is called on the thread running gymdash_dialer_tick, or on
 * one of the handle's worker threads (the started dialer's ticks, provider
 * completions and call events), one call at a time, while the dialer holds
 * its lock: it must return quickly and normally (no longjmp, no C++
 * exception; the library ignores one anyway), and must not call the
 * gymdash_dialer_* functions of the same handle. `fn` and `user` must stay
 * valid until a replacing call has returned or gymdash_close() has returned.
 */
GYMDASH_C_API int gymdash_dialer_set_event_callback(gymdash_t* db, gymdash_dialer_event_fn fn, void* user);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GYMDASH_H */
