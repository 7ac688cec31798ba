// The PostgreSQL schema, version by version.
//
// Version 1 is the SQLite schema as of its version 8, table for table and
// column for column, so that the two backends stay comparable:
// - timestamps are BIGINT milliseconds since the Unix epoch (NULL: absent);
// - enums are stored as their API names, flags as INTEGER 0/1;
// - tags, caller ids, custom fields and recent calls are the same JSON text;
// - every text column is COLLATE "C": ORDER BY id is byte order, as in
//   SQLite and the memory backend, whatever the database's collation.
// What differs: sequences are identity columns; lead_tags and lead_zones are
// written by the backend itself (no triggers over JSON). bulk_dropped_indexes
// came in version 3; version 4 turned the unique key of a lead's number
// into (phone, gym_id).
//
// The version applied is recorded in gymdash_schema (one row per
// migration), created by the backend before the first migration.

#include "store/postgres/migrations.hpp"

#include <array>

namespace gymdash::postgres_store {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE gyms (
  id                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name              TEXT COLLATE "C" NOT NULL DEFAULT '',
  timezone          TEXT COLLATE "C" NOT NULL DEFAULT '',
  region            TEXT COLLATE "C" NOT NULL DEFAULT 'US',
  state             TEXT COLLATE "C" NOT NULL DEFAULT '',
  call_start_minute INTEGER NOT NULL DEFAULT 540,
  call_end_minute   INTEGER NOT NULL DEFAULT 1200,
  call_days         INTEGER NOT NULL DEFAULT 127,
  caller_ids        TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  created_at        BIGINT  NOT NULL DEFAULT 0,
  updated_at        BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE leads (
  id                   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  gym_id               TEXT COLLATE "C" NOT NULL REFERENCES gyms (id),
  external_id          TEXT COLLATE "C" NOT NULL DEFAULT '',
  phone                TEXT COLLATE "C" NOT NULL,
  first_name           TEXT COLLATE "C" NOT NULL DEFAULT '',
  last_name            TEXT COLLATE "C" NOT NULL DEFAULT '',
  email                TEXT COLLATE "C" NOT NULL DEFAULT '',
  source               TEXT COLLATE "C" NOT NULL DEFAULT '',
  interest             TEXT COLLATE "C" NOT NULL DEFAULT '',
  timeline             TEXT COLLATE "C" NOT NULL DEFAULT '',
  notes                TEXT COLLATE "C" NOT NULL DEFAULT '',
  tags                 TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  consent_given        INTEGER NOT NULL DEFAULT 0,
  consent_at           BIGINT,
  consent_method       TEXT COLLATE "C" NOT NULL DEFAULT '',
  consent_source       TEXT COLLATE "C" NOT NULL DEFAULT '',
  do_not_call          INTEGER NOT NULL DEFAULT 0,
  phone_invalid        INTEGER NOT NULL DEFAULT 0,
  status               TEXT COLLATE "C" NOT NULL DEFAULT 'new',
  qualification        TEXT COLLATE "C" NOT NULL DEFAULT 'neutral',
  qualification_manual INTEGER NOT NULL DEFAULT 0,
  score                INTEGER NOT NULL DEFAULT 0,
  attempts             INTEGER NOT NULL DEFAULT 0,
  last_call_at         BIGINT,
  next_call_at         BIGINT,
  timezone             TEXT COLLATE "C" NOT NULL DEFAULT '',
  custom_fields        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  created_at           BIGINT  NOT NULL DEFAULT 0,
  updated_at           BIGINT  NOT NULL DEFAULT 0,
  version              BIGINT  NOT NULL DEFAULT 0,
  callback_at          BIGINT,
  blocked_until        BIGINT,
  recent_calls         TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  last_outcome         TEXT COLLATE "C" NOT NULL DEFAULT '',
  sentiment            TEXT COLLATE "C" NOT NULL DEFAULT '',
  connects             INTEGER NOT NULL DEFAULT 0,
  active_call_id       TEXT COLLATE "C" NOT NULL DEFAULT '',
  local_zone           TEXT COLLATE "C" NOT NULL DEFAULT '',
  local_state          TEXT COLLATE "C" NOT NULL DEFAULT '',
  dnc_listed           INTEGER NOT NULL DEFAULT 0,
  base_status          TEXT COLLATE "C" NOT NULL DEFAULT 'new',
  base_status_at       BIGINT  NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX leads_gym_phone ON leads (gym_id, phone);
CREATE INDEX leads_gym_created ON leads (gym_id, created_at, id);
CREATE INDEX leads_gym_status ON leads (gym_id, status);
CREATE INDEX leads_gym_external ON leads (gym_id, external_id);
CREATE INDEX leads_dial_fresh ON leads (gym_id, local_zone, local_state, created_at DESC, id DESC, qualification,
                                        blocked_until)
  WHERE attempts = 0 AND callback_at IS NULL AND consent_given = 1 AND do_not_call = 0
    AND dnc_listed = 0 AND phone_invalid = 0 AND active_call_id = ''
    AND status IN ('new', 'contacted', 'qualified', 'trial_booked');
CREATE INDEX leads_dial_retry ON leads (gym_id, local_zone, local_state, qualification, attempts, last_call_at,
                                        blocked_until)
  WHERE attempts > 0 AND callback_at IS NULL AND consent_given = 1 AND do_not_call = 0
    AND dnc_listed = 0 AND phone_invalid = 0 AND active_call_id = ''
    AND status IN ('new', 'contacted', 'qualified', 'trial_booked');
CREATE INDEX leads_dial_callback ON leads (gym_id, callback_at)
  WHERE callback_at IS NOT NULL AND consent_given = 1 AND do_not_call = 0
    AND dnc_listed = 0 AND phone_invalid = 0 AND active_call_id = ''
    AND status IN ('new', 'contacted', 'qualified', 'trial_booked');

CREATE TABLE lead_tags (
  lead_id TEXT COLLATE "C" NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  gym_id  TEXT COLLATE "C" NOT NULL,
  tag     TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (lead_id, tag)
);
CREATE INDEX lead_tags_gym_tag ON lead_tags (gym_id, tag);

CREATE TABLE lead_history (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  lead_id    TEXT COLLATE "C" NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  gym_id     TEXT COLLATE "C" NOT NULL,
  at         BIGINT NOT NULL,
  kind       TEXT COLLATE "C" NOT NULL,
  from_value TEXT COLLATE "C" NOT NULL DEFAULT '',
  to_value   TEXT COLLATE "C" NOT NULL DEFAULT '',
  actor      TEXT COLLATE "C" NOT NULL DEFAULT '',
  reason     TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX lead_history_lead ON lead_history (lead_id);

CREATE TABLE lead_zones (
  gym_id      TEXT COLLATE "C" NOT NULL,
  local_zone  TEXT COLLATE "C" NOT NULL,
  local_state TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (gym_id, local_zone, local_state)
);

CREATE TABLE call_results (
  lead_id     TEXT COLLATE "C" NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  gym_id      TEXT COLLATE "C" NOT NULL,
  call_id     TEXT COLLATE "C" NOT NULL,
  started_at  BIGINT NOT NULL,
  ended_at    BIGINT,
  status      TEXT COLLATE "C" NOT NULL,
  answered_by TEXT COLLATE "C" NOT NULL,
  outcome     TEXT COLLATE "C",
  callback_at BIGINT,
  sentiment   TEXT COLLATE "C" NOT NULL DEFAULT '',
  opted_out   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (lead_id, call_id)
);

CREATE TABLE dnc_numbers (
  scope    TEXT COLLATE "C" NOT NULL,
  phone    TEXT COLLATE "C" NOT NULL,
  reason   TEXT COLLATE "C" NOT NULL DEFAULT '',
  source   TEXT COLLATE "C" NOT NULL DEFAULT '',
  added_at BIGINT NOT NULL,
  PRIMARY KEY (scope, phone)
);
CREATE INDEX dnc_numbers_phone ON dnc_numbers (phone);

CREATE TABLE calls (
  id                   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  provider_call_id     TEXT COLLATE "C" NOT NULL,
  gym_id               TEXT COLLATE "C" NOT NULL,
  lead_id              TEXT COLLATE "C" NOT NULL DEFAULT '',
  direction            TEXT COLLATE "C" NOT NULL DEFAULT 'outbound',
  to_number            TEXT COLLATE "C" NOT NULL DEFAULT '',
  from_number          TEXT COLLATE "C" NOT NULL DEFAULT '',
  status               TEXT COLLATE "C" NOT NULL DEFAULT 'queued',
  answered_by          TEXT COLLATE "C" NOT NULL DEFAULT 'unknown',
  started_at           BIGINT NOT NULL DEFAULT 0,
  ended_at             BIGINT,
  duration_s           BIGINT,
  outcome              TEXT COLLATE "C",
  callback_at          BIGINT,
  sentiment            TEXT COLLATE "C" NOT NULL DEFAULT '',
  summary              TEXT COLLATE "C" NOT NULL DEFAULT '',
  transcript           TEXT COLLATE "C" NOT NULL DEFAULT '',
  recording_url        TEXT COLLATE "C" NOT NULL DEFAULT '',
  cost_usd             DOUBLE PRECISION,
  campaign_id          TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at           BIGINT NOT NULL DEFAULT 0,
  updated_at           BIGINT NOT NULL DEFAULT 0,
  provider             TEXT COLLATE "C" NOT NULL DEFAULT '',
  end_reason           TEXT COLLATE "C" NOT NULL DEFAULT '',
  recording_duration_s BIGINT,
  recording_channels   INTEGER,
  recording_consent    INTEGER,
  purged_at            BIGINT
);
CREATE UNIQUE INDEX calls_gym_provider ON calls (gym_id, provider_call_id);
CREATE INDEX calls_gym_started ON calls (gym_id, started_at, id);
CREATE INDEX calls_lead_started ON calls (lead_id, started_at, id);
CREATE INDEX calls_open ON calls (started_at, id) WHERE status IN ('queued', 'ringing', 'in_progress');

CREATE TABLE call_events (
  event_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  call_id     TEXT COLLATE "C" NOT NULL,
  received_at BIGINT NOT NULL
);

CREATE TABLE rollup_call_days (
  gym_id               TEXT COLLATE "C" NOT NULL,
  local_day            INTEGER NOT NULL,
  campaign_id          TEXT COLLATE "C" NOT NULL DEFAULT '',
  calls                BIGINT NOT NULL DEFAULT 0,
  connected            BIGINT NOT NULL DEFAULT 0,
  voicemail            BIGINT NOT NULL DEFAULT 0,
  talk_s               BIGINT NOT NULL DEFAULT 0,
  cost_micros          BIGINT NOT NULL DEFAULT 0,
  o_interested         BIGINT NOT NULL DEFAULT 0,
  o_not_interested     BIGINT NOT NULL DEFAULT 0,
  o_callback_requested BIGINT NOT NULL DEFAULT 0,
  o_trial_booked       BIGINT NOT NULL DEFAULT 0,
  o_membership_sold    BIGINT NOT NULL DEFAULT 0,
  o_wrong_number       BIGINT NOT NULL DEFAULT 0,
  o_do_not_call        BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (gym_id, local_day, campaign_id)
);
CREATE TABLE rollup_call_hours (
  gym_id      TEXT COLLATE "C" NOT NULL,
  local_day   INTEGER NOT NULL,
  campaign_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  counts      TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (gym_id, local_day, campaign_id)
);
CREATE TABLE rollup_lead_days (
  gym_id    TEXT COLLATE "C" NOT NULL,
  dimension TEXT COLLATE "C" NOT NULL,
  local_day INTEGER NOT NULL,
  counts    TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (gym_id, dimension, local_day)
);

CREATE TABLE campaigns (
  id                    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  gym_id                TEXT COLLATE "C" NOT NULL REFERENCES gyms (id),
  name                  TEXT COLLATE "C" NOT NULL DEFAULT '',
  description           TEXT COLLATE "C" NOT NULL DEFAULT '',
  state                 TEXT COLLATE "C" NOT NULL DEFAULT 'draft',
  target_qualifications TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  target_statuses       TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  target_tags           TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  target_source         TEXT COLLATE "C" NOT NULL DEFAULT '',
  target_created_from   BIGINT,
  target_created_to     BIGINT,
  start_date            TEXT COLLATE "C" NOT NULL DEFAULT '',
  end_date              TEXT COLLATE "C" NOT NULL DEFAULT '',
  call_days             INTEGER NOT NULL DEFAULT 31,
  call_start_minute     INTEGER NOT NULL DEFAULT 540,
  call_end_minute       INTEGER NOT NULL DEFAULT 1140,
  max_concurrent        INTEGER NOT NULL DEFAULT 5,
  calls_per_day         INTEGER NOT NULL DEFAULT 500,
  calls_per_second      DOUBLE PRECISION NOT NULL DEFAULT 1.0,
  max_attempts          INTEGER NOT NULL DEFAULT 4,
  retry_gap_minutes     INTEGER NOT NULL DEFAULT 240,
  budget_daily_usd      DOUBLE PRECISION NOT NULL DEFAULT 0,
  budget_total_usd      DOUBLE PRECISION NOT NULL DEFAULT 0,
  reserve_per_call_usd  DOUBLE PRECISION NOT NULL DEFAULT 0.5,
  voice_provider        TEXT COLLATE "C" NOT NULL DEFAULT '',
  assistant_id          TEXT COLLATE "C" NOT NULL DEFAULT '',
  weight                INTEGER NOT NULL DEFAULT 1,
  created_at            BIGINT NOT NULL DEFAULT 0,
  updated_at            BIGINT NOT NULL DEFAULT 0,
  activated_at          BIGINT,
  ended_at              BIGINT,
  version               BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_gym_created ON campaigns (gym_id, created_at, id);
CREATE INDEX campaigns_state ON campaigns (state, gym_id, id);

CREATE TABLE campaign_leads (
  campaign_id        TEXT COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  lead_id            TEXT COLLATE "C" NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  gym_id             TEXT COLLATE "C" NOT NULL,
  enrolled_at        BIGINT NOT NULL DEFAULT 0,
  attempts           INTEGER NOT NULL DEFAULT 0,
  last_attempt_at    BIGINT,
  lead_created_at    BIGINT NOT NULL DEFAULT 0,
  lead_source        TEXT COLLATE "C" NOT NULL DEFAULT '',
  lead_status        TEXT COLLATE "C" NOT NULL DEFAULT 'new',
  lead_qualification TEXT COLLATE "C" NOT NULL DEFAULT 'neutral',
  lead_connects      INTEGER NOT NULL DEFAULT 0,
  lead_first_call_at BIGINT,
  PRIMARY KEY (campaign_id, lead_id)
);
CREATE INDEX campaign_leads_lead ON campaign_leads (lead_id);

CREATE TABLE lead_erasures (
  seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  gym_id          TEXT COLLATE "C" NOT NULL,
  lead_id         TEXT COLLATE "C" NOT NULL,
  at              BIGINT NOT NULL,
  actor           TEXT COLLATE "C" NOT NULL DEFAULT '',
  reason          TEXT COLLATE "C" NOT NULL DEFAULT '',
  history_entries BIGINT NOT NULL DEFAULT 0,
  calls           BIGINT NOT NULL DEFAULT 0,
  recordings      BIGINT NOT NULL DEFAULT 0,
  transcripts     BIGINT NOT NULL DEFAULT 0,
  call_results    BIGINT NOT NULL DEFAULT 0,
  enrolments      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX lead_erasures_gym ON lead_erasures (gym_id, seq);
)sql";

// v2: call event ids are unique per gym (as in SQLite's v10): each recorded
// event gets its call's gym, and the key becomes (gym_id, event_id).
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE call_events ADD COLUMN gym_id TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE call_events e SET gym_id = c.gym_id FROM calls c WHERE c.id = e.call_id;
ALTER TABLE call_events ALTER COLUMN gym_id DROP DEFAULT;
ALTER TABLE call_events DROP CONSTRAINT call_events_pkey;
ALTER TABLE call_events ADD PRIMARY KEY (gym_id, event_id);
)sql";

// v3: the lead indexes a bulk import dropped, with their definitions, until
// it builds them again (PostgresStore::begin_bulk_load; also rebuilt by the
// next open after a host died in the middle of one).
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE bulk_dropped_indexes (
  name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  sql  TEXT COLLATE "C" NOT NULL
);
)sql";

// v4: the unique key of a lead's number is (phone, gym_id), not (gym_id,
// phone): the same pairs, but a lookup in it decides on the number in one
// comparison instead of comparing the gym first (equal for every lead of
// the gym) — the key every imported lead is inserted into, about 0.5 s of
// the server's 7 s `COPY` of the reference set's 1,000,000 leads — and a
// number is found across gyms (inbound calls, the global do-not-call list)
// by one range of the index. Built before the old one goes, in the
// migration's transaction: writers wait for the build (docs/operations.md).
constexpr std::string_view kSchemaV4 = R"sql(
CREATE UNIQUE INDEX leads_phone_gym ON leads (phone, gym_id);
DROP INDEX leads_gym_phone;
)sql";

constexpr std::array kMigrations{
    Migration{1, kSchemaV1},
    Migration{2, kSchemaV2},
    Migration{3, kSchemaV3},
    Migration{4, kSchemaV4},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latest_schema_version() { return kMigrations.back().version; }

}  // namespace gymdash::postgres_store
