"""Tests of the gymdash ctypes package (stdlib unittest, Debian's python3).

Run from tests/python with PYTHONPATH pointing at capi/python and
GYMDASH_LIBRARY at the built libgymdash_c.so (ctest sets both):

    python3 -m unittest -v test_gymdash
"""

import ctypes
import datetime
import doctest
import gc
import io
import json
import logging
import os
import pathlib
import re
import shutil
import tempfile
import threading
import unittest

import gymdash
from gymdash import _ffi

GYM = {
    "id": "gym-nyc",
    "name": "NYC Midtown",
    "timezone": "America/New_York",
    "region": "US",
    "state": "NY",
    "call_hours": {"start": "09:00", "end": "20:00"},
    "call_days": ["mon", "tue", "wed", "thu", "fri", "sat"],
    "caller_ids": ["(212) 736-5000"],
}

#: Monday 2 November 2026, 10:00 in New York: inside every calling window of GYM.
AT = "2026-11-02T15:00:00Z"

LEADS_HEADER = ("external_id,gym_id,first_name,last_name,phone,email,source,created_at,interest,timeline,"
                "consent,tags\n")
#: 9 data rows (lines 2-10): 4 new leads, 1 duplicate (line 5), 4 rejects (lines 6-9) and 1 more
#: new lead (line 10) in gym-la.
LEADS_CSV = (LEADS_HEADER
             + "I1,gym-nyc,Ana,Lopez,(212) 736-5401,,web_form,2026-10-13T12:21:44Z,yoga,asap,yes,vip\n"
             + "I2,gym-nyc,Ben,Ng,212.736.5402,,facebook_ads,2026-10-14T08:00:00+02:00,,,yes,\n"
             + "I3,gym-nyc,Cy,Ode, +1 212 736 5403 ,,web_form,2026-10-15T09:00:00Z,,,no,\n"
             + "I4,gym-nyc,Ana,Dup,1-212-736-5401,,web_form,2026-10-01T00:00:00Z,,,yes,promo\n"
             + "I5,gym-nyc,Bad,Phone,call me maybe,,web_form,2026-10-13T12:21:44Z,,,yes,\n"
             + "I6,gym-xx,No,Gym,(212) 736-5406,,web_form,2026-10-13T12:21:44Z,,,yes,\n"
             + "I7,gym-nyc,Bad,Date,(212) 736-5407,,web_form,31/10/2026,,,yes,\n"
             + "I8,gym-nyc,Too,Few\n"
             + "I9,gym-la,Lu,La,(213) 736-5409,,referral,2026-10-16T10:00:00Z,,,yes,\n")

ALL_ERRORS = [
    (-1, gymdash.NotFoundError, "not_found"),
    (-2, gymdash.InvalidArgumentError, "invalid_argument"),
    (-3, gymdash.AlreadyExistsError, "already_exists"),
    (-4, gymdash.ConflictError, "conflict"),
    (-5, gymdash.ComplianceBlockedError, "compliance_blocked"),
    (-6, gymdash.RateLimitedError, "rate_limited"),
    (-7, gymdash.ProviderError, "provider_error"),
    (-8, gymdash.StorageError, "storage_error"),
    (-9, gymdash.UnavailableError, "unavailable"),
    (-10, gymdash.InternalError, "internal"),
]


def tmp_dir():
    """A fresh directory under $GYMDASH_TEST_TMP (set by ctest) or the system temp dir."""
    base = os.environ.get("GYMDASH_TEST_TMP") or None
    if base:
        os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix="pytest-gymdash-", dir=base)


def sanitizer_loaded():
    """True if AddressSanitizer is in this process: its quarantine makes RSS useless as a leak signal."""
    try:
        with open("/proc/self/maps") as f:
            return any("libasan" in line or "libtsan" in line for line in f)
    except OSError:
        return False


def rss_bytes():
    """Resident set size of this process (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class ModuleTest(unittest.TestCase):
    """Module-level functions and the exception hierarchy."""

    def test_version(self):
        v = gymdash.version()
        self.assertRegex(v, r"^\d+\.\d+\.\d+$")
        self.assertEqual(v, "%d.%d.%d" % gymdash.version_info())

    def test_library_path(self):
        self.assertTrue(gymdash.library_path)
        if os.environ.get("GYMDASH_LIBRARY"):
            self.assertEqual(gymdash.library_path, os.environ["GYMDASH_LIBRARY"])

    def test_error_names(self):
        self.assertEqual(gymdash.error_name(0), "ok")
        for code, _cls, name in ALL_ERRORS:
            self.assertEqual(gymdash.error_name(code), name)
        self.assertEqual(gymdash.error_name(-99), "unknown")

    def test_exception_class_per_code(self):
        for code, cls, name in ALL_ERRORS:
            with self.subTest(code=code):
                e = gymdash.error_for_code(code, "x: y")
                self.assertIs(type(e), cls)
                self.assertIsInstance(e, gymdash.GymdashError)
                self.assertIsInstance(e, Exception)
                self.assertEqual(e.code, code)
                self.assertEqual(cls.CODE, code)
                self.assertEqual(cls.NAME, name)
                self.assertEqual(e.message, "x: y")
                self.assertEqual(e.field, "")
                self.assertEqual(str(e), "x: y")
                self.assertIn(cls.__name__, repr(e))
                self.assertTrue(cls.__doc__)

    def test_unknown_code_is_internal(self):
        e = gymdash.error_for_code(-42, "from the future")
        self.assertIsInstance(e, gymdash.InternalError)
        self.assertEqual(e.code, -42)

    def test_errcheck_raises_class_per_code(self):
        # The one errcheck of the function table maps every code.
        for code, cls, _name in ALL_ERRORS:
            with self.subTest(code=code):
                with self.assertRaises(cls) as cm:
                    _ffi._check(code, None, ())
                self.assertEqual(cm.exception.code, code)
        self.assertEqual(_ffi._check(0, None, ()), 0)

    def test_every_function_declared(self):
        names = {row[0] for row in _ffi._FUNCTIONS}
        expected = {
            "gymdash_version", "gymdash_version_major", "gymdash_version_minor", "gymdash_version_patch",
            "gymdash_last_error_code", "gymdash_last_error_message", "gymdash_error_name", "gymdash_string_free",
            "gymdash_open", "gymdash_close", "gymdash_gym_create", "gymdash_gym_get", "gymdash_gym_list",
            "gymdash_gym_update", "gymdash_lead_create", "gymdash_lead_get", "gymdash_lead_update",
            "gymdash_lead_delete", "gymdash_lead_list", "gymdash_lead_add_tags", "gymdash_lead_remove_tags",
            "gymdash_lead_add_note", "gymdash_lead_change_status", "gymdash_lead_history",
            "gymdash_last_error_field", "gymdash_open_config_file", "gymdash_lead_add_note_by",
            "gymdash_config_check", "gymdash_config_defaults", "gymdash_set_log_callback",
            "gymdash_set_log_level", "gymdash_metrics",
            "gymdash_leads_import_file", "gymdash_leads_import_csv", "gymdash_gyms_import_file",
            "gymdash_leads_next", "gymdash_lead_explain", "gymdash_lead_after_call", "gymdash_dnc_add",
            "gymdash_dnc_remove", "gymdash_dnc_check", "gymdash_dnc_list", "gymdash_dnc_import_file",
            "gymdash_calls_ingest_file", "gymdash_call_process_event", "gymdash_call_get", "gymdash_calls_list",
            "gymdash_analytics_report", "gymdash_analytics_rebuild",
            "gymdash_lead_calls",
            "gymdash_webhook_ingest",
            "gymdash_voice_place_call", "gymdash_voice_get_status", "gymdash_voice_hang_up",
            "gymdash_calls_purge_expired", "gymdash_lead_purge_recordings",
            "gymdash_lead_erase", "gymdash_lead_erasures",
            "gymdash_route_outbound", "gymdash_route_inbound",
            "gymdash_campaign_create", "gymdash_campaign_get", "gymdash_campaign_list", "gymdash_campaign_update",
            "gymdash_campaign_delete", "gymdash_campaign_set_state", "gymdash_campaign_enrol",
            "gymdash_campaign_remove_leads", "gymdash_campaign_performance", "gymdash_campaign_simulate", "gymdash_campaign_simulate_ex",
            "gymdash_dialer_start", "gymdash_dialer_stop", "gymdash_dialer_tick", "gymdash_dialer_status",
            "gymdash_dialer_refill", "gymdash_lead_explain_for_campaign",
            "gymdash_dialer_set_event_callback",
        }
        self.assertEqual(names, expected)
        for name, _argtypes, restype, _errcheck in _ffi._FUNCTIONS:
            # Owned strings never come back as c_char_p; only static/thread-local ones do.
            if restype is ctypes.c_char_p:
                self.assertIn(name, {"gymdash_version", "gymdash_last_error_message", "gymdash_last_error_field",
                                     "gymdash_error_name"})


class OpenCloseTest(unittest.TestCase):
    """Opening, closing, the context manager and the finalizer."""

    def test_default_is_memory(self):
        with gymdash.Gymdash() as db:
            self.assertFalse(db.closed)
            self.assertEqual(db.list_gyms(), [])
        self.assertTrue(db.closed)

    def test_none_is_memory(self):
        with gymdash.Gymdash(None) as db:
            self.assertEqual(db.list_gyms(), [])

    def test_worker_threads_option(self):
        with gymdash.Gymdash("memory:", worker_threads=3) as db:
            self.assertEqual(db.list_gyms(), [])
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.Gymdash("memory:", worker_threads=0)
        self.assertIn("worker_threads", cm.exception.message)

    def test_json_options(self):
        with gymdash.Gymdash('{"storage":"memory:","worker_threads":2}') as db:
            self.assertEqual(db.list_gyms(), [])
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.Gymdash('{"storage":"memory:","colour":"red"}')
        self.assertIn("colour: unknown key", cm.exception.message)
        self.assertEqual(cm.exception.field, "colour")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.Gymdash('{"storage":')
        self.assertIn("storage: invalid JSON", cm.exception.message)

    def test_unknown_scheme(self):
        with self.assertRaises(gymdash.InvalidArgumentError):
            gymdash.Gymdash("carrier-pigeon:coop")

    def test_storage_error(self):
        with self.assertRaises(gymdash.StorageError) as cm:
            gymdash.Gymdash("sqlite:/nonexistent-dir/for/sure/gym.db")
        self.assertEqual(cm.exception.code, -8)

    def test_close_twice_and_use_after_close(self):
        db = gymdash.Gymdash()
        db.close()
        db.close()
        with self.assertRaises(ValueError):
            db.list_gyms()
        self.assertIn("closed", repr(db))

    def test_context_manager_closes_on_exception(self):
        with self.assertRaises(RuntimeError):
            with gymdash.Gymdash() as db:
                raise RuntimeError("boom")
        self.assertTrue(db.closed)

    def test_del_closes(self):
        closed = []
        db = gymdash.Gymdash()
        real = db._close_fn
        db._close_fn = lambda h: (closed.append(True), real(h))
        del db
        gc.collect()
        self.assertEqual(closed, [True])

    def test_close_called_once(self):
        closed = []
        with gymdash.Gymdash() as db:
            real = db._close_fn
            db._close_fn = lambda h: (closed.append(True), real(h))
        db.close()
        del db
        gc.collect()
        self.assertEqual(closed, [True])


class OperationsTest(unittest.TestCase):
    """Configuration, logging and metrics (docs/operations.md)."""

    def setUp(self):
        self.dir = tmp_dir()

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- configuration ---------------------------------------------------------

    def test_config_defaults(self):
        defaults = gymdash.config_defaults()
        self.assertEqual(defaults["storage"], "sqlite:gymdash.db")
        self.assertEqual(defaults["worker_threads"], 2)
        self.assertEqual(defaults["defaults"]["call_hours"], {"start": "09:00", "end": "20:00"})
        self.assertEqual(defaults["logging"], {"level": "info", "format": "json", "sink": "stderr", "file": ""})
        self.assertEqual(defaults["metrics"], {"enabled": True})
        self.assertEqual(gymdash.config_check({}), defaults)

    def test_config_check_normalizes(self):
        checked = gymdash.config_check({"storage": "memory:", "gyms": {"gym-nyc": {"hot_threshold": 80}}})
        self.assertEqual(checked["gyms"]["gym-nyc"]["hot_threshold"], 80)
        self.assertEqual(checked["gyms"]["gym-nyc"]["cold_threshold"], 40)  # inherited
        self.assertEqual(gymdash.config_check('{"worker_threads": 4}')["worker_threads"], 4)

    def test_config_check_names_every_key(self):
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.config_check({"gyms": {"x": {"call_hours": {"start": "25:00"}}}, "worker_thread": 3,
                                  "limits": {"max_page_size": "big"}})
        message = cm.exception.message
        self.assertIn('gyms.x.call_hours.start: "25:00" is not a time', message)
        self.assertIn('worker_thread: unknown key (did you mean "worker_threads"?)', message)
        self.assertIn("limits.max_page_size: expected an integer", message)
        self.assertEqual(len(message.splitlines()), 3)
        self.assertEqual(cm.exception.field, "gyms.x.call_hours.start")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.config_check("[1]")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.config_check({"bad": object()})
        self.assertIn("config_json", cm.exception.message)

    def test_open_with_config_dict(self):
        path = os.path.join(self.dir, "gym.db")
        with gymdash.Gymdash({"storage": "sqlite:" + path, "worker_threads": 1,
                              "logging": {"level": "debug"}}) as db:
            db.create_gym(id="gym-a", name="A", timezone="UTC")
            self.assertEqual(db.storage, "sqlite:" + path)
        with gymdash.Gymdash("sqlite:" + path) as db:
            self.assertEqual(db.get_gym("gym-a")["name"], "A")

    def test_open_bad_config_opens_nothing(self):
        cases = [
            ({"storage": "memory:", "defaults": {"max_attempts": 0}}, "defaults.max_attempts"),
            ({"storage": "memory:", "voice_providers": {"main": {"kind": "vapi",
                                                                 "api_key_env": "GYMDASH_PY_TEST_UNSET"}}},
             "voice_providers.main.api_key_env"),
            ({"storage": "memory:", "logging": {"sink": "file", "file": "/nonexistent-dir/for/sure/g.log"}},
             "logging.file"),
            ({"storage": "memory:", "logging": {"level": "chatty"}}, "logging.level"),
        ]
        for doc, field in cases:
            with self.subTest(field=field):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    gymdash.Gymdash(doc)
                self.assertIn(field, cm.exception.message)
                self.assertEqual(cm.exception.field, field)
        os.environ["GYMDASH_PY_TEST_SET"] = "sk-test-value"
        try:
            with gymdash.Gymdash({"storage": "memory:", "voice_providers": {
                    "main": {"kind": "vapi", "api_key_env": "GYMDASH_PY_TEST_SET"}}}) as db:
                self.assertEqual(db.list_gyms(), [])
        finally:
            del os.environ["GYMDASH_PY_TEST_SET"]

    def test_open_config_file(self):
        log_path = os.path.join(self.dir, "gymdash.log")
        path = os.path.join(self.dir, "gymdash.json")
        with open(path, "w") as f:
            json.dump({"storage": "sqlite:" + os.path.join(self.dir, "gym.db"),
                       "logging": {"sink": "file", "file": log_path, "format": "logfmt"}}, f)
        with gymdash.Gymdash(config_file=path, log_to_python=False) as db:
            db.create_gym(id="gym-a", name="A", timezone="UTC")
        with open(log_path) as f:
            text = f.read()
        self.assertIn("op=runtime.open", text)
        self.assertIn("op=gym.create gym=gym-a", text)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.Gymdash(config_file=os.path.join(self.dir, "missing.json"))
        self.assertIn("missing.json", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.Gymdash("memory:", config_file=path)
        self.assertEqual(cm.exception.field, "config_file")

    def test_error_field(self):
        with gymdash.Gymdash() as db:
            with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                db.create_gym(name="A", timezone="UTC", call_hours={"start": "25:00"})
            self.assertEqual(cm.exception.field, "call_hours.start")
            with self.assertRaises(gymdash.NotFoundError) as cm:
                db.get_gym("gym-nowhere")
            self.assertIsInstance(cm.exception.field, str)

    # ---- logging ---------------------------------------------------------------

    def test_bridge_to_logging(self):
        with gymdash.Gymdash() as db:
            db.create_gym(id="gym-nyc", name="NYC", timezone="America/New_York")
            with self.assertLogs("gymdash", level="INFO") as cm:
                with self.assertRaises(gymdash.InvalidArgumentError):
                    db.create_lead("gym-nyc", phone="12")
            self.assertEqual(len(cm.records), 1)
            record = cm.records[0]
            self.assertEqual(record.levelno, logging.INFO)
            self.assertEqual(record.gymdash["op"], "lead.create")
            self.assertEqual(record.gymdash["error"], "invalid_argument")
            self.assertEqual(record.gymdash["gym"], "gym-nyc")
            self.assertIn("lead.create gym=gym-nyc: phone:", record.getMessage())
            self.assertTrue(record.getMessage().endswith("[invalid_argument]"))

            # the library's level decides what is produced at all
            db.set_log_level("debug")
            with self.assertLogs("gymdash", level="DEBUG") as cm:
                lead = db.create_lead("gym-nyc", phone="(212) 736-5001")["lead"]
            self.assertEqual([r.levelno for r in cm.records], [logging.DEBUG])
            self.assertEqual(cm.records[0].gymdash["msg"], "ok")
            self.assertIn("ms", cm.records[0].gymdash)

            # a phone number in a message arrives masked
            db.create_lead("gym-nyc", phone="(212) 736-5002")
            with self.assertLogs("gymdash", level="INFO") as cm:
                with self.assertRaises(gymdash.AlreadyExistsError):
                    db.update_lead("gym-nyc", lead["id"], phone="(212) 736-5002")
            self.assertIn("***5002", cm.records[0].gymdash["msg"])
            self.assertNotIn("7365002", cm.records[0].getMessage())

    def test_bridge_to_another_logger_and_trace(self):
        logger = logging.getLogger("gymdash.test.custom")
        with gymdash.Gymdash(logger=logger, log_level="trace") as db:
            with self.assertLogs(logger, level=gymdash.TRACE) as cm:
                db.list_gyms()
            self.assertEqual(cm.records[0].gymdash["op"], "gym.list")
            self.assertEqual(cm.records[0].levelno, logging.DEBUG)

    def test_close_delivers_runtime_close_then_releases(self):
        db = gymdash.Gymdash()
        with self.assertLogs("gymdash", level="INFO") as cm:
            db.close()
        self.assertEqual(cm.records[-1].gymdash["op"], "runtime.close")
        self.assertEqual(db._log_callbacks, [])

    def test_bridge_replaced_and_removed(self):
        with gymdash.Gymdash({"storage": "memory:", "logging": {"level": "off"}}, log_to_python=False) as db:
            with self.assertRaises(AssertionError):  # nothing is logged at all
                with self.assertLogs("gymdash", level="DEBUG"):
                    db.list_gyms()
            db.bridge_logging(level="info")
            with self.assertLogs("gymdash", level="INFO"):
                with self.assertRaises(gymdash.NotFoundError):
                    db.get_gym("gym-nowhere")
            db.unbridge_logging()  # back to the configured sink: stderr
            db.set_log_level("off")
            with self.assertRaises(AssertionError):
                with self.assertLogs("gymdash", level="DEBUG"):
                    with self.assertRaises(gymdash.NotFoundError):
                        db.get_gym("gym-nowhere")
            with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                db.set_log_level("chatty")
            self.assertEqual(cm.exception.field, "level")
            with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                db.set_log_level(9)
            self.assertEqual(cm.exception.field, "level")

    def test_a_failing_handler_does_not_break_calls(self):
        class Broken(logging.Handler):
            def emit(self, record):
                raise RuntimeError("handler broke")

            def handleError(self, record):
                raise RuntimeError("handleError broke too")

        logger = logging.getLogger("gymdash.test.broken")
        logger.propagate = False
        logger.addHandler(Broken())
        logger.setLevel(logging.DEBUG)
        with gymdash.Gymdash(logger=logger, log_level="debug") as db:
            self.assertEqual(db.list_gyms(), [])
            with self.assertRaises(gymdash.NotFoundError):
                db.get_gym("gym-nowhere")

    def test_records_from_many_threads(self):
        seen = []

        class Collect(logging.Handler):
            def emit(self, record):
                seen.append(record.gymdash["op"])

        logger = logging.getLogger("gymdash.test.threads")
        logger.propagate = False
        logger.addHandler(Collect())
        logger.setLevel(logging.DEBUG)
        with gymdash.Gymdash(logger=logger, log_level="debug") as db:
            threads = [threading.Thread(target=lambda: [db.list_gyms() for _ in range(50)]) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(seen.count("gym.list"), 200)

    # ---- metrics ---------------------------------------------------------------

    def test_metrics(self):
        with gymdash.Gymdash() as db:
            text = db.metrics()
            self.assertIn('gymdash_operation_calls_total{operation="lead.create"} 0\n', text)
            db.create_gym(id="gym-nyc", name="NYC", timezone="America/New_York")
            for i in range(4):
                db.create_lead("gym-nyc", phone="(212) 736-52%02d" % i)
            with self.assertRaises(gymdash.InvalidArgumentError):
                db.create_lead("gym-nyc", phone="12")
            text = db.metrics("prometheus")
            self.assertIn('gymdash_operation_calls_total{operation="lead.create"} 5\n', text)
            self.assertIn('gymdash_operation_errors_total{operation="lead.create",code="invalid_argument"} 1\n', text)
            self.assertIn('gymdash_operation_latency_seconds_count{operation="lead.create"} 5\n', text)
            self.assertRegex(text, r'gymdash_operation_latency_seconds\{operation="lead.create",quantile="0.5"\} '
                                   r'[0-9.]+\n')
            data = db.metrics(format="json")
            self.assertIsInstance(data, dict)
            ops = {op["operation"]: op for op in data["operations"]}
            self.assertEqual(ops["lead.create"]["calls"], 5)
            self.assertEqual(ops["lead.create"]["errors"], {"invalid_argument": 1})
            self.assertEqual(ops["gym.create"]["calls"], 1)
            for key in ("p50_ms", "p90_ms", "p99_ms", "sum_ms"):
                self.assertGreaterEqual(ops["lead.create"][key], 0)
            self.assertEqual(data["gauges"], {"jobs_due": 0, "jobs_due_callbacks": 0, "jobs_due_retries": 0})
            self.assertIn("gymdash_jobs_due 0\n", text)
            with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                db.metrics("xml")
            self.assertEqual(cm.exception.field, "format")

    def test_metrics_disabled(self):
        with gymdash.Gymdash({"storage": "memory:", "metrics": {"enabled": False}}) as db:
            db.list_gyms()
            self.assertEqual(db.metrics("json"), {"operations": [], "gauges": {}})

    # ---- actors --------------------------------------------------------------------

    def test_actor_on_tags_and_notes(self):
        with gymdash.Gymdash() as db:
            db.create_gym(id="gym-nyc", name="NYC", timezone="America/New_York")
            lead = db.create_lead("gym-nyc", phone="(212) 736-5001")["lead"]
            db.add_tags("gym-nyc", lead["id"], ["vip"], actor="coach.kim")
            db.remove_tags("gym-nyc", lead["id"], "vip", actor="coach.lee")
            note = db.add_note("gym-nyc", lead["id"], "Booked a tour.", actor="front-desk")
            self.assertEqual(note["actor"], "front-desk")
            self.assertEqual(db.add_note("gym-nyc", lead["id"], "No actor.")["actor"], "api")
            actors = [(e["kind"], e["actor"]) for e in db.history("gym-nyc", lead["id"])]
            self.assertIn(("tags", "coach.kim"), actors)
            self.assertIn(("tags", "coach.lee"), actors)
            self.assertIn(("note", "front-desk"), actors)


# Every phone number the redaction run uses, by its digits.
REDACTION_PHONES = ["(212) 736-53%02d" % i for i in range(12)]
REDACTION_EMAILS = ["mia.r@example.com", "coach+x@gym.example.org"]


class LogRedactionTest(unittest.TestCase):
    """Every record of a whole run, at trace, in both formats: no phone number, no email."""

    def run_everything(self, db):
        phones, emails = REDACTION_PHONES, REDACTION_EMAILS
        db.create_gym(id="gym-nyc", name="NYC", timezone="America/New_York", caller_ids=[phones[0]])
        db.update_gym(db.get_gym("gym-nyc"), name="NYC %s %s" % (phones[1], emails[0]))
        db.list_gyms()
        for bad in ({"name": "Gym %s" % phones[2], "timezone": "Mars/Base"},
                    {"name": "x", "timezone": "UTC", "caller_ids": ["212-736-53"]}):
            with self.assertRaises(gymdash.GymdashError):
                db.create_gym(bad)
        a = db.create_lead("gym-nyc", phone=phones[3], email=emails[0], first_name="Mia %s" % phones[3],
                           notes="reach me at %s" % emails[1])["lead"]
        b = db.create_lead("gym-nyc", phone=phones[4], email=emails[1])["lead"]
        db.create_lead("gym-nyc", phone=phones[3].replace("(", "+1 ("), email=emails[0])  # merged
        for bad in ({"phone": "212 736 53"}, {"phone": phones[5], "email": "mia at example"},
                    {"phone": phones[5], "email": "mia@"}):
            with self.assertRaises(gymdash.InvalidArgumentError):
                db.create_lead("gym-nyc", bad)
        with self.assertRaises(gymdash.AlreadyExistsError):
            db.update_lead("gym-nyc", a["id"], phone=phones[4])
        db.update_lead("gym-nyc", a["id"], email="mia.new@example.com", phone=phones[6], actor=emails[1])
        db.get_lead("gym-nyc", a["id"])
        db.list_leads("gym-nyc", search=phones[6])
        db.list_leads("gym-nyc", search=emails[0])
        db.add_tags("gym-nyc", a["id"], ["vip"], actor=phones[7])
        db.remove_tags("gym-nyc", a["id"], ["vip"], actor=emails[0])
        db.add_note("gym-nyc", a["id"], "Call %s or write %s" % (phones[8], emails[1]), actor=emails[0])
        db.change_status("gym-nyc", a["id"], "qualified", actor=emails[0], reason="called %s" % phones[9])
        with self.assertRaises(gymdash.ConflictError):
            db.change_status("gym-nyc", a["id"], "new", reason=phones[9])
        db.history("gym-nyc", a["id"])
        db.delete_lead("gym-nyc", b["id"])
        with self.assertRaises(gymdash.NotFoundError):
            db.get_lead("gym-nyc", b["id"])
        db.metrics()
        # Ids that are phone numbers or emails are c_api_log_redaction_ids' (tests/c/c_api_test.c).

    def leaks(self, text):
        """The phone numbers and email addresses `text` shows."""
        found = []
        if "@" in text:
            found.append("an email address")
        used = {re.sub(r"\D", "", p)[-7:] for p in REDACTION_PHONES}
        for run in re.findall(r"[0-9][0-9 .()+-]*[0-9]", text):
            digits = re.sub(r"\D", "", run)
            if len(digits) >= 7 and any(u in digits or digits in u for u in used):
                found.append(run)
        return found

    def test_no_personal_data_in_any_record(self):
        for fmt in ("json", "logfmt"):
            with self.subTest(format=fmt):
                lines = []

                @_ffi.LOG_FN
                def capture(_user, _level, line, record_json):
                    lines.append(line.decode("utf-8"))
                    lines.append(record_json.decode("utf-8"))

                db = gymdash.Gymdash({"storage": "memory:", "logging": {"format": fmt, "sink": "none"}},
                                     log_to_python=False)
                try:
                    _ffi.lib.gymdash_set_log_callback(db._h(), capture, None, 0)
                    self.run_everything(db)
                finally:
                    db.close()
                self.assertGreater(len(lines), 40)
                self.assertTrue(any('"op":"runtime.close"' in line for line in lines))
                leaked = [(line, self.leaks(line)) for line in lines if self.leaks(line)]
                self.assertEqual(leaked, [])

    def test_no_personal_data_through_the_bridge(self):
        with gymdash.Gymdash(log_level="trace") as db:
            with self.assertLogs("gymdash", level=gymdash.TRACE) as cm:
                self.run_everything(db)
        messages = [r.getMessage() for r in cm.records] + [json.dumps(r.gymdash) for r in cm.records]
        self.assertGreater(len(messages), 40)
        self.assertEqual([(m, self.leaks(m)) for m in messages if self.leaks(m)], [])


class ScenarioMixin:
    """Every gym and lead method; run over each backend."""

    storage = None  # set by subclasses

    def setUp(self):
        self.dir = tmp_dir()
        self.db = gymdash.Gymdash(self.storage_uri())
        self.gym = self.db.create_gym(GYM)
        self.db.create_gym(id="gym-la", name="LA Downtown", timezone="America/Los_Angeles")

    def tearDown(self):
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def storage_uri(self):
        return self.storage

    def new_lead(self, phone="(212) 736-5001", **fields):
        return self.db.create_lead("gym-nyc", phone=phone, **fields)["lead"]

    # ---- gyms ------------------------------------------------------------------

    def test_gym_create_get_list_update(self):
        self.assertEqual(self.gym["id"], "gym-nyc")
        self.assertEqual(self.gym["caller_ids"], ["+12127365000"])
        self.assertEqual(self.gym["call_days"], GYM["call_days"])
        self.assertTrue(self.gym["created_at"].endswith("Z"))
        self.assertEqual(self.db.get_gym("gym-nyc"), self.gym)
        self.assertEqual([g["id"] for g in self.db.list_gyms()], ["gym-la", "gym-nyc"])
        generated = self.db.create_gym(name="No Id", timezone="Europe/London", region="GB")
        self.assertTrue(generated["id"].startswith("gym_"))
        changed = dict(self.gym, name="NYC Midtown West")
        updated = self.db.update_gym(changed)
        self.assertEqual(updated["name"], "NYC Midtown West")
        self.assertEqual(updated["created_at"], self.gym["created_at"])
        updated = self.db.update_gym(self.db.get_gym("gym-nyc"), call_hours={"start": "10:00", "end": "19:00"})
        self.assertEqual(updated["call_hours"], {"start": "10:00", "end": "19:00"})
        self.assertEqual(updated["name"], "NYC Midtown West")

    def test_gym_errors(self):
        with self.assertRaises(gymdash.AlreadyExistsError) as cm:
            self.db.create_gym(GYM)
        self.assertIn("gym-nyc", cm.exception.message)
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.get_gym("gym-nowhere")
        self.assertIn("gym-nowhere", str(cm.exception))
        self.assertEqual(_ffi.lib.gymdash_last_error_code(), -1)
        with self.assertRaises(gymdash.NotFoundError):
            self.db.update_gym(id="gym-nowhere", name="X", timezone="UTC")
        cases = [
            ('{"name":', "gym_json"),                                   # invalid JSON
            ("[1, 2]", "gym_json"),                                      # not an object
            ({"name": 5, "timezone": "UTC"}, "name"),                    # wrong type
            ({"name": "A", "timezone": "UTC", "colour": "red"}, "colour"),  # unknown field
            ({"name": "A", "timezone": "UTC", "call_days": ["funday"]}, "call_days[0]"),  # bad enum
            ({"name": "A", "timezone": "Mars/Olympus_Mons"}, "timezone"),
            ({"name": "A", "timezone": "UTC", "call_hours": {"start": "25:00"}}, "call_hours.start"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    self.db.create_gym(body)
                self.assertIn(field, cm.exception.message)
                self.assertEqual(cm.exception.code, -2)

    # ---- leads -----------------------------------------------------------------

    def test_lead_create_merge_get(self):
        created = self.db.create_lead("gym-nyc", {
            "phone": "(212) 736-5001", "first_name": "Ana", "last_name": "López", "source": "web_form",
            "consent": {"given": True, "at": "2026-01-05T14:00:00Z", "method": "web_form", "source": "site"},
            "custom_fields": {"goal": "strength"}, "tags": ["Spanish"]})
        self.assertFalse(created["merged"])
        lead = created["lead"]
        self.assertTrue(lead["id"].startswith("ld_"))
        self.assertEqual(lead["phone"], "+12127365001")
        self.assertEqual(lead["gym_id"], "gym-nyc")
        self.assertEqual(lead["status"], "new")
        self.assertEqual(lead["tags"], ["spanish"])
        self.assertEqual(lead["custom_fields"], {"goal": "strength"})
        self.assertEqual(lead["consent"]["at"], "2026-01-05T14:00:00Z")
        again = self.db.create_lead("gym-nyc", phone="+1 212.736.5001", interest="boxing")
        self.assertTrue(again["merged"])
        self.assertEqual(again["lead"]["id"], lead["id"])
        self.assertEqual(again["lead"]["interest"], "boxing")
        got = self.db.get_lead("gym-nyc", lead["id"])
        self.assertEqual(got["last_name"], "López")
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.get_lead("gym-la", lead["id"])
        self.assertIn(lead["id"], cm.exception.message)

    def test_lead_create_errors(self):
        with self.assertRaises(gymdash.NotFoundError):
            self.db.create_lead("gym-nowhere", phone="(212) 736-5003")
        cases = [
            ({"phone": "12"}, "phone"),                                  # invalid phone
            ({"first_name": "No Phone"}, "phone"),                      # missing phone
            ({"phone": 2127365003}, "phone"),                            # wrong type
            ({"phone": "(212) 736-5003", "favourite": 1}, "favourite"),  # unknown field
            ({"phone": "(212) 736-5003", "status": "keen"}, "status"),   # bad enum
            ({"phone": "(212) 736-5003", "consent": {"given": "yes"}}, "consent.given"),
            ("not json", "lead_json"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    self.db.create_lead("gym-nyc", body)
                self.assertIn(field, cm.exception.message)

    def test_lead_update(self):
        lead = self.new_lead()
        other = self.new_lead("(212) 736-5002")
        updated = self.db.update_lead("gym-nyc", lead["id"], {"first_name": "Ana"}, qualification="hot",
                                      actor="coach")
        self.assertEqual(updated["first_name"], "Ana")
        self.assertEqual(updated["qualification"], "hot")
        self.assertTrue(updated["qualification_manual"])
        self.assertGreater(updated["version"], lead["version"])
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.update_lead("gym-nyc", lead["id"], qualification="lukewarm")
        self.assertIn("qualification", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.update_lead("gym-nyc", lead["id"], status="converted")
        self.assertIn("status", cm.exception.message)
        with self.assertRaises(gymdash.AlreadyExistsError):
            self.db.update_lead("gym-nyc", lead["id"], phone=other["phone"])
        with self.assertRaises(gymdash.NotFoundError):
            self.db.update_lead("gym-la", lead["id"], first_name="X")

    def test_lead_list(self):
        a = self.new_lead("(212) 736-5001", source="web_form", last_name="López")
        b = self.new_lead("(212) 736-5002", source="facebook_ads", qualification="hot")
        page = self.db.list_leads("gym-nyc")
        self.assertEqual(page["total"], 2)
        self.assertEqual(page["page"], 1)
        self.assertEqual(page["page_size"], 50)
        self.assertEqual({x["id"] for x in page["items"]}, {a["id"], b["id"]})
        self.assertEqual(self.db.list_leads("gym-nyc", source="facebook_ads")["items"][0]["id"], b["id"])
        self.assertEqual(self.db.list_leads("gym-nyc", {"qualifications": ["hot"]})["total"], 1)
        self.assertEqual(self.db.list_leads("gym-nyc", {"page_size": 1}, page=2)["page"], 2)
        self.assertEqual(len(self.db.list_leads("gym-nyc", page_size=1)["items"]), 1)
        self.assertEqual(self.db.list_leads("gym-nyc", search="lópez")["total"], 1)
        self.assertEqual(self.db.list_leads("gym-la"), {"items": [], "page": 1, "page_size": 50, "total": 0})
        for criteria, field in [({"statuses": ["new", "sleepy"]}, "statuses[1]"), ({"page_size": 0}, "page_size"),
                                ({"pages": 2}, "pages")]:
            with self.subTest(criteria=criteria):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    self.db.list_leads("gym-nyc", criteria)
                self.assertIn(field, cm.exception.message)

    def test_tags(self):
        lead = self.new_lead(tags=["Spanish"])
        lead = self.db.add_tags("gym-nyc", lead["id"], ["VIP", " morning "])
        self.assertEqual(lead["tags"], ["morning", "spanish", "vip"])
        lead = self.db.remove_tags("gym-nyc", lead["id"], ["morning", "not-there"])
        self.assertEqual(lead["tags"], ["spanish", "vip"])
        lead = self.db.add_tags("gym-nyc", lead["id"], "evening")
        self.assertIn("evening", lead["tags"])
        self.assertEqual(self.db.list_leads("gym-nyc", tags=["vip", "spanish"])["total"], 1)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.add_tags("gym-nyc", lead["id"], ["a", 7])
        self.assertIn("tags_json[1]", cm.exception.message)
        with self.assertRaises(gymdash.NotFoundError):
            self.db.remove_tags("gym-la", lead["id"], ["vip"])

    def test_note_status_history_delete(self):
        lead = self.new_lead()
        event = self.db.add_note("gym-nyc", lead["id"], 'Asked about "Bootcamp" — evenings.')
        self.assertEqual(event["kind"], "note")
        self.assertEqual(event["to"], 'Asked about "Bootcamp" — evenings.')
        self.assertEqual(event["lead_id"], lead["id"])
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.add_note("gym-nyc", lead["id"], "")
        self.assertIn("text", cm.exception.message)

        lead = self.db.change_status("gym-nyc", lead["id"], "qualified", actor="ana")
        self.assertEqual(lead["status"], "qualified")
        with self.assertRaises(gymdash.ConflictError) as cm:
            self.db.change_status("gym-nyc", lead["id"], "contacted")
        self.assertEqual(cm.exception.code, -4)
        lead = self.db.change_status("gym-nyc", lead["id"], "contacted", reason="by mistake", actor="ana", force=True)
        self.assertEqual(lead["status"], "contacted")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.change_status("gym-nyc", lead["id"], "maybe")
        self.assertIn("to", cm.exception.message)

        history = self.db.history("gym-nyc", lead["id"])
        kinds = [e["kind"] for e in history]
        self.assertEqual(kinds[0], "created")
        self.assertIn("note", kinds)
        self.assertEqual([e["to"] for e in history if e["kind"] == "status"], ["qualified", "contacted"])
        self.assertEqual(history[-1]["reason"], "by mistake")
        self.assertEqual(history[-1]["actor"], "ana")
        with self.assertRaises(gymdash.NotFoundError):
            self.db.history("gym-la", lead["id"])

        with self.assertRaises(gymdash.NotFoundError):
            self.db.delete_lead("gym-la", lead["id"])
        self.assertIsNone(self.db.delete_lead("gym-nyc", lead["id"]))
        with self.assertRaises(gymdash.NotFoundError):
            self.db.get_lead("gym-nyc", lead["id"])
        with self.assertRaises(gymdash.NotFoundError):
            self.db.delete_lead("gym-nyc", lead["id"])

    # ---- argument checks ---------------------------------------------------------

    def test_limits_and_utf8(self):
        big = "a" * (1048576 + 1)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.get_gym(big)
        self.assertIn("gym_id", cm.exception.message)
        self.assertIn("1048576", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.create_gym(name=big, timezone="UTC")
        self.assertIn("gym_json", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.add_note("gym-nyc", "ld_x", big)
        self.assertIn("text", cm.exception.message)
        # invalid UTF-8 as bytes reaches the library, which names the argument
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.get_gym(b"gym-\xff")
        self.assertIn("gym_id", cm.exception.message)
        self.assertIn("UTF-8", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.create_gym(b'{"name":"Caf\xc3\x28","timezone":"UTC"}')
        self.assertIn("gym_json", cm.exception.message)
        # a lone surrogate cannot even be encoded
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.add_note("gym-nyc", "ld_x", "bad \udc80 text")
        self.assertIn("text", cm.exception.message)
        # an embedded NUL would silently cut the text in C
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.get_gym("gym-nyc\0tail")
        self.assertIn("gym_id", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.get_gym(None)
        self.assertIn("gym_id", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError):
            self.db.create_gym({"name": object()})

    def test_null_pointers_from_ctypes(self):
        # Bypass the wrapper to pass NULL where the C ABI requires a pointer.
        lib = _ffi.lib
        out = ctypes.c_void_p()
        for call, field in [
            (lambda: lib.gymdash_gym_get(ctypes.byref(out), self.db._h(), None), "gym_id"),
            (lambda: lib.gymdash_gym_get(None, self.db._h(), b"gym-nyc"), "out"),
            (lambda: lib.gymdash_gym_list(ctypes.byref(out), None), "db"),
            (lambda: lib.gymdash_lead_create(ctypes.byref(out), self.db._h(), b"gym-nyc", None), "lead_json"),
            (lambda: lib.gymdash_lead_delete(self.db._h(), b"gym-nyc", None), "lead_id"),
            (lambda: lib.gymdash_lead_add_note(ctypes.byref(out), self.db._h(), b"gym-nyc", b"ld_x", None), "text"),
        ]:
            with self.subTest(field=field):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    call()
                self.assertIn("%s: must not be NULL" % field, cm.exception.message)
                self.assertIsNone(out.value)
                self.assertEqual(lib.gymdash_last_error_code(), -2)
        lib.gymdash_string_free(None)
        lib.gymdash_close(None)

    def test_last_error_cleared_by_success(self):
        with self.assertRaises(gymdash.NotFoundError):
            self.db.get_gym("gym-missing")
        self.assertEqual(_ffi.lib.gymdash_last_error_code(), -1)
        self.assertIn(b"gym-missing", _ffi.lib.gymdash_last_error_message())
        self.db.get_gym("gym-nyc")
        self.assertEqual(_ffi.lib.gymdash_last_error_code(), 0)
        self.assertEqual(_ffi.lib.gymdash_last_error_message(), b"")

    # ---- imports -----------------------------------------------------------------

    def write(self, name, text, mode="w"):
        path = os.path.join(self.dir, name)
        with open(path, mode) as f:
            f.write(text)
        return path

    def test_import_gyms(self):
        path = self.write("gyms.csv", "gym_id,name,timezone,region,state\n"
                                      "gym-bos,Boston Back Bay,America/New_York,US,MA\n"
                                      "gym-la,LA Downtown West,America/Los_Angeles,US,CA\n"
                                      "gym-bad,Bad,Mars/Base,US,\n")
        report = self.db.import_gyms(path)
        self.assertEqual((report["rows"], report["created"], report["updated"], report["rejected"]), (3, 1, 1, 1))
        self.assertEqual(report["rejected_rows"][0]["line"], 4)
        self.assertIn("timezone", report["rejected_rows"][0]["error"])
        self.assertEqual(self.db.get_gym("gym-la")["name"], "LA Downtown West")
        self.assertEqual(self.db.get_gym("gym-bos")["state"], "MA")
        self.assertEqual(self.db.import_gyms(pathlib.Path(path))["updated"], 2)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.import_gyms(os.path.join(self.dir, "missing.csv"))
        self.assertEqual(cm.exception.field, "path")
        self.assertIn("missing.csv", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.import_gyms(self.write("nocols.csv", "gym_id,name\nx,y\n"))
        self.assertEqual(cm.exception.field, "header")
        self.assertIn("timezone", cm.exception.message)

    def test_calls(self):
        self.db.import_leads(self.write("leads.csv", LEADS_CSV))
        event = {"event_id": "PE1", "call_id": "PC1", "gym_id": "gym-nyc", "lead_external_id": "I1",
                 "started_at": "2026-10-20T14:00:00Z", "ended_at": "2026-10-20T14:01:00Z",
                 "status": "completed", "answered_by": "human", "outcome": "interested"}
        first = self.db.process_call_event(event)
        self.assertEqual(first["result"], "applied")
        self.assertEqual(self.db.process_call_event(event)["result"], "duplicate")
        lead_id = first["call"]["lead_id"]
        lines = [json.dumps(dict(event, event_id="PE2", call_id="PC2", started_at="2026-10-21T14:00:00Z",
                                 ended_at=None, status="busy", answered_by="unknown", outcome=None)),
                 json.dumps(dict(event, event_id="PE3", duration_s=-1))]
        seen = []
        report = self.db.ingest_calls(self.write("calls.jsonl", "\n".join(lines) + "\n"), batch_size=1,
                                      progress=seen.append)
        self.assertEqual((report["events"], report["applied"], report["rejected"]), (2, 1, 1))
        self.assertEqual(report["rejected_lines"][0]["reason"], "negative_duration")
        self.assertEqual(seen[-1]["events"], 2)
        self.assertEqual(self.db.get_call("gym-nyc", "PC2")["status"], "busy")
        self.assertEqual(self.db.list_calls("gym-nyc", status="busy")["total"], 1)
        self.assertEqual(self.db.list_calls("gym-nyc")["total"], 2)
        self.assertEqual([c["provider_call_id"] for c in self.db.lead_calls("gym-nyc", lead_id)], ["PC1", "PC2"])
        with self.assertRaises(gymdash.NotFoundError):
            self.db.get_call("gym-nyc", "PC404")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.process_call_event(dict(event, event_id="PE4", colour="red"))
        self.assertEqual(cm.exception.field, "colour")

    def test_report(self):
        self.db.import_leads(self.write("leads.csv", LEADS_CSV))
        event = {"event_id": "RE1", "call_id": "RC1", "gym_id": "gym-nyc", "lead_external_id": "I1",
                 "started_at": "2026-10-20T14:00:00Z", "ended_at": "2026-10-20T14:01:00Z", "duration_s": 60,
                 "status": "completed", "answered_by": "human", "outcome": "trial_booked", "cost_usd": 0.25}
        self.db.process_call_event(event)
        self.db.process_call_event(dict(event, event_id="RE2", call_id="RC2", started_at="2026-10-21T03:00:00Z",
                                        ended_at=None, status="no-answer", answered_by="unknown", outcome=None,
                                        duration_s=None, cost_usd=0.01))
        d = self.db.report("gym-nyc", from_date="2026-09-01", to_date="2026-10-31")
        self.assertEqual((d["calls"], d["connected"], d["voicemail"], d["talk_s"]), (2, 1, 0, 60))
        self.assertEqual(d["connect_rate"], 0.5)
        self.assertEqual(d["cost_usd"], 0.26)
        self.assertEqual(d["outcomes"], {"trial_booked": 1})
        # 03:00Z on the 21st is the 20th in New York.
        self.assertEqual(d["by_local_date"], {"2026-10-20": 2})
        self.assertEqual(d["leads"]["total"], 3)  # I1 (merged with I4) was created on 2026-09-30 in New York
        self.assertEqual([s["stage"] for s in d["funnel"]], ["lead", "contacted", "qualified", "trial_booked", "member"])
        self.assertEqual(len(d["daily"]), 61)
        csv = self.db.report_csv("gym-nyc", from_date="2026-10-01", to_date="2026-10-31")
        self.assertTrue(csv.startswith("section,key,metric,value\r\n"))
        self.assertIn("summary,,calls,2\r\n", csv)
        self.assertEqual(self.db.report(from_date="2026-10-01", to_date="2026-10-31")["per_gym"]["gym-nyc"]["calls"], 2)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.report("gym-nyc", from_date="2026-10-31", to_date="2026-10-01")
        self.assertEqual(cm.exception.field, "to")
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.report("gym-zz")
        self.assertEqual(cm.exception.field, "gym_id")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.report("gym-nyc", timezone="Mars/Base")
        self.assertEqual(cm.exception.field, "timezone")
        self.assertEqual(self.db.rebuild_analytics("gym-nyc")["calls"], 2)
        self.assertEqual(self.db.report("gym-nyc", from_date="2026-10-01", to_date="2026-10-31")["calls"], 2)

    def test_import_leads_file_with_progress(self):
        path = self.write("leads.csv", LEADS_CSV)
        seen = []
        report = self.db.import_leads(path, batch_size=4, progress=seen.append)
        self.assertEqual((report["rows"], report["imported"], report["merged_duplicates"], report["rejected"]),
                         (9, 4, 1, 4))
        self.assertEqual(report["rejected_by_reason"],
                         {"bad_phone": 1, "unknown_gym": 1, "bad_created_at": 1, "bad_format": 1})
        self.assertEqual([(r["line"], r["reason"]) for r in report["rejected_rows"]],
                         [(6, "bad_phone"), (7, "unknown_gym"), (8, "bad_created_at"), (9, "bad_format")])
        self.assertNotIn("736-54", json.dumps(report))
        self.assertNotIn("73654", json.dumps(report))
        self.assertFalse(report["rejected_rows_truncated"])
        self.assertGreaterEqual(report["seconds"], 0)
        self.assertEqual(len(seen), 3)  # 4 + 4 + 1 rows
        self.assertEqual([p["rows"] for p in seen], [4, 8, 9])
        size = os.path.getsize(path)
        self.assertEqual((seen[-1]["bytes_read"], seen[-1]["bytes_total"]), (size, size))
        self.assertEqual(set(seen[-1]), {"bytes_read", "bytes_total", "rows", "imported", "merged_duplicates",
                                         "rejected"})
        ana = self.db.list_leads("gym-nyc", search="2127365401")["items"][0]
        self.assertEqual(ana["external_id"], "I1")
        self.assertEqual(ana["consent"]["source"], "leads.csv")
        self.assertEqual(self.db.list_leads("gym-nyc")["total"], 3)
        again = self.db.import_leads(path, source="crm", max_rejected_rows=1)
        self.assertEqual((again["imported"], again["merged_duplicates"]), (0, 5))
        self.assertEqual(len(again["rejected_rows"]), 1)
        self.assertTrue(again["rejected_rows_truncated"])

    def test_import_leads_from_file_objects(self):
        report = self.db.import_leads(io.StringIO(LEADS_CSV))
        self.assertEqual(report["imported"], 4)
        self.assertEqual(self.db.list_leads("gym-nyc", search="2127365401")["items"][0]["consent"]["source"],
                         "import")
        path = self.write("more.csv",
                          LEADS_HEADER + "M1,gym-la,Mo,M,(213) 736-5490,,web_form,2026-10-20T10:00:00Z,,,yes,\n")
        with open(path, "rb") as f:
            report = self.db.import_leads(f, progress=lambda p: None)
        self.assertEqual(report["imported"], 1)
        lead = self.db.list_leads("gym-la", search="2137365490")["items"][0]
        self.assertEqual(lead["consent"]["source"], "more.csv")  # the file object's name
        report = self.db.import_leads(io.BytesIO((LEADS_HEADER + "B1,gym-la,Bad\xff,X,(213) 736-5491,,,,,,yes,\n")
                                                 .encode("latin-1")))
        self.assertEqual(report["rejected_by_reason"], {"bad_encoding": 1})
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.import_leads(io.StringIO("gym_id,phone\n\0\n"))
        self.assertIn("csv_text", cm.exception.message)

    def test_progress_exception_propagates_and_committed_batches_stay(self):
        path = self.write("leads.csv", LEADS_CSV)
        calls = []

        class Stop(Exception):
            pass

        def progress(p):
            calls.append(p["rows"])
            if len(calls) == 2:
                raise Stop("enough after %d rows" % p["rows"])

        with self.assertRaises(Stop) as cm:
            self.db.import_leads(path, batch_size=2, progress=progress)
        self.assertEqual(str(cm.exception), "enough after 4 rows")
        self.assertEqual(calls, [2, 4])
        if hasattr(cm.exception, "__notes__"):
            self.assertIn("cancelled by the progress callback after 4 rows", cm.exception.__notes__[0])
        # rows 1-4 are in: I1, I2, I3 (I4 merged into I1)
        self.assertEqual(self.db.list_leads("gym-nyc")["total"], 3)
        # the error does not linger: the next call succeeds and raises nothing from before
        self.assertEqual(self.db.import_leads(path)["imported"], 1)

    def test_progress_false_cancels(self):
        path = self.write("leads.csv", LEADS_CSV)
        with self.assertRaises(gymdash.ConflictError) as cm:
            self.db.import_leads(path, batch_size=3, progress=lambda p: False)
        self.assertEqual(cm.exception.field, "progress")
        self.assertIn("import cancelled by the progress callback after 3 rows", cm.exception.message)
        self.assertEqual(self.db.list_leads("gym-nyc")["total"], 3)

    def test_import_errors(self):
        path = self.write("nophone.csv", "external_id,gym_id,first_name\nX,gym-nyc,Y\n")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.import_leads(path)
        self.assertEqual(cm.exception.field, "header")
        self.assertIn("missing required column: phone", cm.exception.message)
        self.assertEqual(self.db.list_leads("gym-nyc")["total"], 0)
        for kwargs, field in [({"batch_size": 0}, "batch_size"), ({"batch_size": "ten"}, "batch_size"),
                              ({"max_rejected_rows": -1}, "max_rejected_rows")]:
            with self.subTest(kwargs=kwargs):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    self.db.import_leads(self.write("ok.csv", LEADS_CSV), **kwargs)
                self.assertEqual(cm.exception.field, field)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.import_leads(os.path.join(self.dir, "nope.csv"))
        self.assertEqual(cm.exception.field, "path")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.import_leads(self.dir)
        self.assertIn("is a directory", cm.exception.message)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.import_leads(path, progress="not callable")
        self.assertEqual(cm.exception.field, "progress")
        with self.assertRaises(gymdash.InvalidArgumentError):
            self.db.import_leads(42)

    # ---- who to call --------------------------------------------------------------

    def dialable_leads(self):
        ana = self.new_lead("(212) 736-5501", first_name="Ana", consent=True, external_id="X-1")
        ben = self.new_lead("(212) 736-5502", first_name="Ben", consent=True)
        cy = self.new_lead("(212) 736-5503", first_name="Cy")  # no consent
        return ana, ben, cy

    def test_next_leads(self):
        ana, ben, cy = self.dialable_leads()
        leads = self.db.next_leads("gym-nyc", 10, at=AT)
        ids = [lead["id"] for lead in leads]
        self.assertEqual(sorted(ids), sorted([ana["id"], ben["id"]]))
        for key in ("id", "external_id", "phone", "status", "qualification", "score", "attempts"):
            self.assertIn(key, leads[0])
        self.assertEqual(len(self.db.next_leads("gym-nyc", 1, at=AT)), 1)
        self.assertEqual([lead["id"] for lead in self.db.next_leads("gym-nyc", 10, exclude=[ana["id"], "ld_x"],
                                                                     at=AT)], [ben["id"]])
        self.assertEqual([lead["id"] for lead in self.db.next_leads("gym-nyc", 10, exclude=ana["id"], at=AT)],
                         [ben["id"]])
        aware = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))
        self.assertEqual(len(self.db.next_leads("gym-nyc", 10, at=aware)), 2)
        self.assertEqual(self.db.next_leads("gym-nyc", 10, at="2026-11-02T07:00:00Z"), [])  # 02:00 in New York
        self.assertEqual(self.db.next_leads("gym-nyc", 10, at="2026-11-01T15:00:00Z"), [])  # the gym's Sunday
        for q in self.db.next_leads("gym-nyc", 10, qualification="neutral", at=AT):
            self.assertEqual(q["qualification"], "neutral")
        self.assertEqual(self.db.next_leads("gym-la", 10, at=AT), [])
        self.db.next_leads("gym-nyc", 5)  # now

        for kwargs, field in [({"count": 0}, "count"), ({"count": 1001}, "count"), ({"count": "5"}, "count"),
                              ({"count": 5, "at": "tomorrow"}, "at"), ({"count": 5, "at": "2026-11-02T10:00"}, "at"),
                              ({"count": 5, "qualification": "lukewarm"}, "qualification"),
                              ({"count": 5, "exclude": [1]}, "exclude[0]")]:
            with self.subTest(kwargs=kwargs):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    self.db.next_leads("gym-nyc", **kwargs)
                self.assertEqual(cm.exception.field, field)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.next_leads("gym-nyc", 5, at=datetime.datetime(2026, 11, 2, 10, 0))
        self.assertIn("tzinfo", cm.exception.message)
        with self.assertRaises(gymdash.NotFoundError):
            self.db.next_leads("gym-nowhere", 5, at=AT)

    def test_explain(self):
        ana, _ben, cy = self.dialable_leads()
        d = self.db.explain("gym-nyc", ana["id"], at=AT)
        self.assertEqual((d["lead_id"], d["at"], d["dialable"], d["reasons"]), (ana["id"], AT, True, []))
        self.assertEqual(d["local_zone"], "America/New_York")
        self.assertTrue(d["local_time"].startswith("2026-11-02T10:00:00"), d["local_time"])
        self.assertEqual(self.db.explain("gym-nyc", cy["id"], at=AT)["reasons"], ["no_consent"])
        self.assertIn("outside_federal_hours",
                      self.db.explain("gym-nyc", ana["id"], at="2026-11-02T07:00:00Z")["reasons"])
        self.assertIn("gym_closed_day", self.db.explain("gym-nyc", ana["id"], at="2026-11-01T15:00:00Z")["reasons"])
        self.db.explain("gym-nyc", ana["id"])  # now
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.explain("gym-nyc", ana["id"], at="next monday")
        self.assertEqual(cm.exception.field, "at")
        with self.assertRaises(gymdash.NotFoundError):
            self.db.explain("gym-la", ana["id"], at=AT)  # another gym's lead

    def test_after_call(self):
        ana, _ben, _cy = self.dialable_leads()
        result = {"call_id": "call-1", "started_at": AT, "ended_at": "2026-11-02T15:04:00Z", "status": "completed",
                  "answered_by": "human", "outcome": "callback_requested", "callback_at": "2026-11-03T15:00:00Z",
                  "sentiment": "positive"}
        lead = self.db.after_call("gym-nyc", ana["id"], result)
        self.assertEqual((lead["attempts"], lead["connects"], lead["callback_at"]), (1, 1, "2026-11-03T15:00:00Z"))
        self.assertEqual(self.db.after_call("gym-nyc", ana["id"], result)["attempts"], 1)  # the same call again
        self.assertIn("callback_pending", self.db.explain("gym-nyc", ana["id"], at="2026-11-02T20:00:00Z")["reasons"])
        self.assertTrue(self.db.explain("gym-nyc", ana["id"], at="2026-11-03T15:00:00Z")["dialable"])
        lead = self.db.after_call("gym-nyc", ana["id"], call_id="call-2", started_at="2026-11-03T15:00:00Z",
                                  status="completed", answered_by="human", outcome="do_not_call")
        self.assertTrue(lead["do_not_call"])
        self.assertIn("do_not_call", self.db.explain("gym-nyc", ana["id"], at="2026-11-04T15:00:00Z")["reasons"])
        for body, field in [({"call_id": "c", "status": "completed"}, "started_at"),
                            ({"call_id": "c", "started_at": AT, "status": "ringing_loudly"}, "status"),
                            ({"call_id": "c", "started_at": AT, "duration": 5}, "duration")]:
            with self.subTest(body=body):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    self.db.after_call("gym-nyc", ana["id"], body)
                self.assertEqual(cm.exception.field, field)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.after_call("gym-nyc", ana["id"], '{"started_at":')
        self.assertIn("call_result_json", cm.exception.message)
        with self.assertRaises(gymdash.NotFoundError):
            self.db.after_call("gym-la", ana["id"], {"call_id": "c", "started_at": AT})

    # ---- do-not-call lists ----------------------------------------------------------

    def test_dnc(self):
        ana, ben, _cy = self.dialable_leads()
        entry = self.db.dnc_add("gym-nyc", "212.736.5502", reason="asked by email", source="front-desk")
        self.assertEqual((entry["scope"], entry["phone"], entry["reason"], entry["source"]),
                         ("gym-nyc", "+12127365502", "asked by email", "front-desk"))
        self.assertEqual(self.db.dnc_add("gym-nyc", "+1 212 736 5502"), entry)  # already listed
        self.assertEqual(self.db.explain("gym-nyc", ben["id"], at=AT)["reasons"], ["dnc_list"])
        self.assertEqual([lead["id"] for lead in self.db.next_leads("gym-nyc", 10, at=AT)], [ana["id"]])
        self.assertEqual(self.db.dnc_check("gym-nyc", "(212) 736-5502"),
                         {"phone": "+12127365502", "gym_listed": True, "global_listed": False,
                          "lead_do_not_call": False, "blocked": True})
        self.assertFalse(self.db.dnc_check("gym-la", "(212) 736-5502")["blocked"])
        self.assertEqual(self.db.dnc_add("*", "+12127365509")["source"], "api")
        self.assertTrue(self.db.dnc_check("gym-la", "212-736-5509")["global_listed"])
        self.assertEqual([e["phone"] for e in self.db.dnc_list("gym-nyc")], ["+12127365502"])
        self.assertEqual(self.db.dnc_list("gym-nyc", limit=10, offset=1), [])
        self.assertTrue(self.db.dnc_remove("gym-nyc", "212-736-5502", actor="ana", reason="asked to be called"))
        self.assertFalse(self.db.dnc_remove("gym-nyc", "212-736-5502"))
        self.assertTrue(self.db.explain("gym-nyc", ben["id"], at=AT)["dialable"])
        for call, field in [(lambda: self.db.dnc_add("gym-nyc", "12"), "phone"),
                            (lambda: self.db.dnc_add("", "2127365502"), "scope"),
                            (lambda: self.db.dnc_list("gym-nyc", limit=0), "limit"),
                            (lambda: self.db.dnc_list("gym-nyc", offset=-1), "offset"),
                            (lambda: self.db.dnc_list("gym-nyc", limit=2 ** 40), "limit"),
                            (lambda: self.db.dnc_check("gym-nyc", "not a phone"), "phone")]:
            with self.subTest(field=field):
                with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                    call()
                self.assertEqual(cm.exception.field, field)
        with self.assertRaises(gymdash.NotFoundError):
            self.db.dnc_add("gym-nowhere", "2127365502")

    def test_dnc_import(self):
        _ana, ben, _cy = self.dialable_leads()
        path = self.write("registry.txt", "# state registry\n\n(212) 736-5502\n+1 212 736 5502\n12\n"
                                          "not a number\n646-736-5520\r\n")
        report = self.db.dnc_import("gym-nyc", path)
        self.assertEqual((report["lines"], report["added"], report["already_listed"], report["rejected"]),
                         (5, 2, 1, 2))
        self.assertEqual([r["line"] for r in report["rejected_lines"]], [5, 6])
        self.assertTrue(all(r["error"].startswith("phone: ") for r in report["rejected_lines"]))
        self.assertNotIn("not a number", json.dumps(report))
        self.assertEqual({e["source"] for e in self.db.dnc_list("gym-nyc")}, {"registry.txt"})
        self.assertEqual(self.db.explain("gym-nyc", ben["id"], at=AT)["reasons"], ["dnc_list"])
        self.assertEqual(self.db.dnc_import("gym-nyc", pathlib.Path(path))["already_listed"], 3)
        csv_path = self.write("dnc.csv", "Name,Phone,Reason\nZed,\"(212) 736-5530\",asked\nShort\n")
        report = self.db.dnc_import("*", csv_path)
        self.assertEqual((report["lines"], report["added"], report["rejected"]), (2, 1, 1))
        self.assertEqual(self.db.dnc_list("*")[0]["reason"], "asked")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.dnc_import("gym-nyc", os.path.join(self.dir, "missing.txt"))
        self.assertEqual(cm.exception.field, "path")
        with self.assertRaises(gymdash.NotFoundError):
            self.db.dnc_import("gym-nowhere", path)

    # ---- memory ownership --------------------------------------------------------

    def test_every_owned_string_is_freed_once(self):
        frees = []
        real = _ffi._string_free

        def counting_free(pointer):
            frees.append(pointer)
            real(pointer)

        _ffi._string_free = counting_free
        try:
            lead = self.new_lead()
            self.db.get_gym("gym-nyc")
            self.db.list_gyms()
            self.db.list_leads("gym-nyc")
            self.db.get_lead("gym-nyc", lead["id"])
            self.db.add_tags("gym-nyc", lead["id"], ["x"])
            self.db.history("gym-nyc", lead["id"])
            self.assertEqual(len(frees), 7)
            self.assertTrue(all(isinstance(p, int) and p for p in frees))
            with self.assertRaises(gymdash.NotFoundError):
                self.db.get_gym("gym-nowhere")  # nothing returned, nothing to free
            self.assertEqual(len(frees), 7)
        finally:
            _ffi._string_free = real

    @unittest.skipIf(sanitizer_loaded(), "a sanitizer's allocator keeps freed memory; see the counting test")
    def test_no_leak_over_many_calls(self):
        lead = self.new_lead()
        for _ in range(2000):  # warm up allocator pools and caches
            self.db.get_lead("gym-nyc", lead["id"])
        before = rss_bytes()
        n = 50000 if self.storage == "memory:" else 20000
        for _ in range(n):
            self.db.get_lead("gym-nyc", lead["id"])  # ~900 bytes each: a leak would be tens of MB
        grown = rss_bytes() - before
        self.assertLess(grown, 8 * 1024 * 1024, "RSS grew by %d bytes over %d calls" % (grown, n))

    # ---- threads -----------------------------------------------------------------

    def test_threads_share_one_handle(self):
        errors = []
        mismatched = []

        def work(index):
            try:
                for i in range(25):
                    self.db.create_lead("gym-la", phone="(646) 736-%02d%02d" % (index + 10, i), source="thread")
                    self.db.list_gyms()
                    try:
                        self.db.get_gym("gym-missing-%d" % index)
                    except gymdash.NotFoundError as e:
                        # the message is the thread's own
                        if ("gym-missing-%d" % index) not in e.message:
                            mismatched.append(e.message)
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(mismatched, [])
        self.assertEqual(self.db.list_leads("gym-la", source="thread", page_size=1)["total"], 200)


class MemoryScenarioTest(ScenarioMixin, unittest.TestCase):
    """The scenario over the memory backend."""

    storage = "memory:"


class SqliteScenarioTest(ScenarioMixin, unittest.TestCase):
    """The scenario over SQLite, plus persistence across reopening."""

    storage = "sqlite"

    def storage_uri(self):
        return "sqlite:" + os.path.join(self.dir, "gym.db")

    def test_reopen_keeps_data(self):
        lead = self.new_lead(first_name="Ana")
        self.db.close()
        with gymdash.Gymdash(self.storage_uri(), worker_threads=1) as db:
            self.assertEqual(db.get_gym("gym-nyc")["name"], "NYC Midtown")
            self.assertEqual(db.get_lead("gym-nyc", lead["id"])["first_name"], "Ana")
            self.assertEqual(len(db.history("gym-nyc", lead["id"])), 1)


class WebhookTest(unittest.TestCase):
    """Provider webhooks through the C ABI, signed here independently of the library."""

    SECRET = "key_py_webhook_1"

    def setUp(self):
        self.db = gymdash.Gymdash("memory:")
        self.db.create_gym(GYM)
        self.lead = self.db.create_lead("gym-nyc", phone="(212) 736-5101")["lead"]

    def tearDown(self):
        self.db.close()

    def retell_body(self, event="call_ended", lead_id=None):
        import time
        now_ms = int(time.time() * 1000)
        return json.dumps({"event": event, "call": {
            "call_id": "py-retell-1", "call_status": "ended", "direction": "outbound",
            "from_number": "+12127365000", "to_number": "+12127365101",
            "metadata": {"gym_id": "gym-nyc", "lead_id": lead_id or self.lead["id"]},
            "start_timestamp": now_ms - 90000, "end_timestamp": now_ms - 30000,
            "disconnection_reason": "voicemail_reached", "call_cost": {"combined_cost": 9}}})

    @staticmethod
    def retell_signature(body, key, at_ms=None):
        import hashlib
        import hmac
        import time
        stamp = str(int(time.time() * 1000) if at_ms is None else at_ms)
        return "v=%s,d=%s" % (stamp, hmac.new(key.encode(), (body + stamp).encode(), hashlib.sha256).hexdigest())

    def test_retell_signed_applied_then_duplicate(self):
        body = self.retell_body()
        headers = {"X-Retell-Signature": self.retell_signature(body, self.SECRET)}
        result = self.db.ingest_webhook("retell", body.encode(), headers, secret=self.SECRET)
        self.assertEqual((result["events"], result["applied"], result["duplicates"]), (1, 1, 0))
        self.assertIsNone(result["ignored"])
        call = result["results"][0]["call"]
        self.assertEqual(result["results"][0]["event_id"], "retell:py-retell-1:call_ended")
        self.assertEqual((call["status"], call["answered_by"]), ("completed", "machine"))
        self.assertEqual(call["duration_s"], 60)
        again = self.db.ingest_webhook("retell", body, [("x-retell-signature", headers["X-Retell-Signature"])],
                                       secret=["old-key", self.SECRET])
        self.assertEqual((again["applied"], again["duplicates"]), (0, 1))
        self.assertEqual(again["results"][0]["result"], "duplicate")

    def test_retell_refusals_write_nothing(self):
        import time
        body = self.retell_body()
        stale = self.retell_signature(body, self.SECRET, int(time.time() * 1000) - 10 * 60 * 1000)
        cases = [
            ({"x-retell-signature": self.retell_signature(body, "wrong-key")}, body),
            ({"x-retell-signature": self.retell_signature(body, self.SECRET)}, body.replace("voicemail", "user")),
            ({}, body),
            ({"x-retell-signature": stale}, body),
        ]
        for headers, sent in cases:
            with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                self.db.ingest_webhook("retell", sent, headers, secret=self.SECRET)
            self.assertEqual(cm.exception.field, "signature")
        self.assertEqual(self.db.list_calls("gym-nyc")["total"], 0)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.ingest_webhook("retell", body, {"x-retell-signature": self.retell_signature(body, "k")})
        self.assertEqual(cm.exception.field, "secret")
        bad = "{not json"
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.ingest_webhook("retell", bad, {"x-retell-signature": self.retell_signature(bad, self.SECRET)},
                                   secret=self.SECRET)
        self.assertEqual(cm.exception.field, "body")
        other = self.retell_body(lead_id="lead_nobody")
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.ingest_webhook("retell", other, {"x-retell-signature": self.retell_signature(other, self.SECRET)},
                                   secret=self.SECRET)
        self.assertEqual(cm.exception.field, "lead_id")

    def test_twilio_status_callback(self):
        import base64
        import email.utils
        import hashlib
        import hmac
        import urllib.parse
        url = "https://hooks.example.com/twilio?gym_id=gym-nyc&lead_id=" + self.lead["id"]
        params = {"CallSid": "CApy0001", "AccountSid": "ACpy", "CallStatus": "no-answer", "Direction": "outbound-api",
                  "To": "+12127365101", "From": "+12127365000", "CallDuration": "0",
                  "Timestamp": email.utils.formatdate(usegmt=False)}
        body = urllib.parse.urlencode(params)
        data = url + "".join(k + params[k] for k in sorted(params))
        signature = base64.b64encode(hmac.new(b"twilio-token", data.encode(), hashlib.sha1).digest()).decode()
        result = self.db.ingest_webhook("twilio", body, {"X-Twilio-Signature": signature}, url=url,
                                        secret="twilio-token")
        self.assertEqual(result["applied"], 1)
        self.assertEqual(result["results"][0]["call"]["status"], "no_answer")
        self.assertEqual(result["results"][0]["event_id"], "twilio:CApy0001:no-answer")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.ingest_webhook("twilio", body, {"X-Twilio-Signature": signature}, url=url + "&x=1",
                                   secret="twilio-token")
        self.assertEqual(cm.exception.field, "signature")


class VoiceTest(unittest.TestCase):
    """Placing calls through a configured voice provider (a simulated one in virtual time)."""

    def setUp(self):
        self.db = gymdash.Gymdash({"storage": "memory:", "logging": {"sink": "none"},
                                   "voice_providers": {"sim": {"kind": "simulated", "options": {
                                       "seed": 3, "time": "virtual", "answer_rate": 1, "voicemail_rate": 0,
                                       "busy_rate": 0, "failed_rate": 0, "ring_min_s": 20, "ring_max_s": 20}}}})

    def tearDown(self):
        self.db.close()

    def test_place_status_hang_up(self):
        result = self.db.place_call("sim", from_="+12127365000", to="+12127365101", assistant_id="a1",
                                    dynamic_variables={"first_name": "Ana"},
                                    metadata={"gym_id": "gym-py", "lead_id": "l1"})
        self.assertTrue(result["provider_call_id"].startswith("sim-3-"))
        self.assertEqual(result["status"], "queued")
        status = self.db.call_status("sim", result["provider_call_id"])
        self.assertEqual(status["status"], "ringing")
        self.assertIsNone(status["ended_at"])
        self.db.hang_up("sim", result["provider_call_id"])
        self.assertEqual(self.db.call_status("sim", result["provider_call_id"])["status"], "canceled")

    def test_errors_name_the_field(self):
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.place_call("nope", {"from": "+12127365000", "to": "+12127365101"})
        self.assertEqual(cm.exception.field, "provider")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.place_call("sim", {"from": "+12127365000", "to": "2127365101"})
        self.assertEqual(cm.exception.field, "to")
        self.assertNotIn("2127365101", str(cm.exception))
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.call_status("sim", "sim-0-000000")
        self.assertEqual(cm.exception.field, "provider_call_id")

    def test_bad_options_fail_at_open(self):
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            gymdash.Gymdash({"storage": "memory:", "voice_providers": {"sim": {
                "kind": "simulated", "options": {"answer_rate": 1.5}}}})
        self.assertEqual(cm.exception.field, "voice_providers.sim.options.answer_rate")


class CampaignTest(unittest.TestCase):
    """A short campaign through Python: create, enrol, activate, tick, performance, forecast, errors."""

    def setUp(self):
        self.db = gymdash.Gymdash({"storage": "memory:", "worker_threads": 1, "logging": {"sink": "none"},
                                   "voice_providers": {"sim": {"kind": "simulated", "options": {
                                       "seed": 3, "time": "virtual", "answer_rate": 1, "voicemail_rate": 0,
                                       "busy_rate": 0, "failed_rate": 0}}}})
        self.db.create_gym(GYM)
        self.leads = [self.db.create_lead("gym-nyc", {"phone": "(212) 736-54%02d" % i, "tags": ["winter"]})["lead"]
                      for i in range(1, 4)]

    def tearDown(self):
        self.db.close()

    def test_whom_a_campaign_would_call(self):
        db = self.db
        consent = {"given": True, "at": "2026-01-05T14:00:00Z", "method": "web_form", "source": "site"}
        spring = [db.create_lead("gym-nyc", {"phone": "(212) 736-55%02d" % i, "tags": ["spring"],
                                             "consent": consent})["lead"] for i in range(1, 3)]
        cmp = db.campaign_create("gym-nyc", name="Spring", voice_provider="sim", target={"tags": ["spring"]})
        db.campaign_enrol("gym-nyc", cmp["id"], lead_ids=[spring[0]["id"]])
        # The gym's call order holds both; the campaign's only its enrolled lead.
        everyone = [lead["id"] for lead in db.next_leads("gym-nyc", 10, at=AT)]
        self.assertIn(spring[1]["id"], everyone)
        self.assertEqual([lead["id"] for lead in db.next_leads("gym-nyc", 10, at=AT, campaign_id=cmp["id"])],
                         [spring[0]["id"]])
        self.assertTrue(db.explain("gym-nyc", spring[0]["id"], at=AT, campaign_id=cmp["id"])["dialable"])
        other = db.explain("gym-nyc", spring[1]["id"], at=AT, campaign_id=cmp["id"])
        self.assertFalse(other["dialable"])
        self.assertEqual(other["reasons"], ["not_enrolled"])
        self.assertTrue(db.explain("gym-nyc", spring[1]["id"], at=AT)["dialable"])
        with self.assertRaises(gymdash.NotFoundError) as cm:
            db.next_leads("gym-nyc", 5, at=AT, campaign_id="cmp_nope")
        self.assertEqual(cm.exception.field, "campaign_id")
        with self.assertRaises(gymdash.NotFoundError):
            db.explain("gym-nyc", spring[0]["id"], at=AT, campaign_id="cmp_nope")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            db.next_leads("gym-nyc", 5, qualification="hot", campaign_id=cmp["id"])
        self.assertEqual(cm.exception.field, "qualification")
        # A refill between hand ticks fills the active campaign's empty queue.
        self.assertEqual(db.dialer_refill()["refilled"], 0)
        db.campaign_set_state("gym-nyc", cmp["id"], "active")
        refill = db.dialer_refill()
        self.assertEqual(set(refill), {"at", "refilled", "leads", "seconds"})
        self.assertEqual(refill["refilled"], 1)

    def test_lifecycle(self):
        db = self.db
        cmp = db.campaign_create("gym-nyc", name="Winter push", voice_provider="sim",
                                 target={"tags": ["winter"]}, pacing={"max_concurrent": 2})
        self.assertEqual(cmp["state"], "draft")
        self.assertTrue(cmp["id"].startswith("cmp_"))
        self.assertEqual(db.campaign_get("gym-nyc", cmp["id"])["name"], "Winter push")
        self.assertEqual(db.campaign_list("gym-nyc")["total"], 1)
        self.assertEqual(db.campaign_list("gym-nyc", states="active")["total"], 0)
        self.assertEqual(db.campaign_update("gym-nyc", cmp["id"], weight=4)["weight"], 4)
        self.assertEqual(db.campaign_enrol("gym-nyc", cmp["id"], lead_ids=[self.leads[0]["id"]]),
                         {"enrolled": 1, "already_enrolled": 0})
        self.assertEqual(db.campaign_enrol("gym-nyc", cmp["id"]), {"enrolled": 2, "already_enrolled": 1})
        self.assertEqual(db.campaign_remove_leads("gym-nyc", cmp["id"], [self.leads[2]["id"]]), 1)
        self.assertEqual(db.campaign_enrol("gym-nyc", cmp["id"], filter={"tags": ["winter"]})["enrolled"], 1)

        events = []
        db.set_dialer_callback(events.append)
        self.assertEqual(db.campaign_set_state("gym-nyc", cmp["id"], "active")["state"], "active")
        tick = db.dialer_tick()
        self.assertEqual(tick["campaigns"], 1)
        status = db.dialer_status()
        self.assertFalse(status["running"])
        self.assertEqual(status["ticks"], 1)
        self.assertIn(cmp["id"], [c["campaign_id"] for c in status["campaigns"]])
        db.dialer_start()
        self.assertTrue(db.dialer_status()["running"])
        db.dialer_stop()
        db.dialer_stop()
        self.assertFalse(db.dialer_status()["running"])
        perf = db.campaign_performance("gym-nyc", cmp["id"])
        self.assertEqual(perf["enrolled"], 3)
        self.assertEqual(perf["state"], "active")
        db.set_dialer_callback(None)
        for e in events:
            self.assertIn(e["kind"], ("placed", "refused", "ended", "completed", "error"))

        self.assertEqual(db.campaign_set_state("gym-nyc", cmp["id"], "paused")["state"], "paused")
        forecast = db.campaign_simulate("gym-nyc", cmp["id"], days=2, step_seconds=120,
                                        provider_options={"seed": 5, "answer_rate": 0.5})
        self.assertEqual(forecast["campaign_id"], cmp["id"])
        days_seen = []
        db.campaign_simulate("gym-nyc", cmp["id"], days=2, step_seconds=600, progress=lambda p: days_seen.append(p["day"]))
        self.assertTrue(days_seen and days_seen == sorted(days_seen) and days_seen[-1] <= 2, days_seen)
        with self.assertRaises(gymdash.ConflictError):
            db.campaign_simulate("gym-nyc", cmp["id"], days=2, step_seconds=600, progress=lambda p: False)
        self.assertEqual(forecast["target_leads"], 3)
        self.assertIn("by_day", forecast)
        self.assertEqual(db.campaign_set_state("gym-nyc", cmp["id"], "cancelled")["state"], "cancelled")
        db.campaign_delete("gym-nyc", cmp["id"])
        with self.assertRaises(gymdash.NotFoundError):
            db.campaign_get("gym-nyc", cmp["id"])

    def test_errors_name_the_field(self):
        db = self.db
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            db.campaign_create("gym-nyc", name="x", voice_provider="sim", pacing={"max_concurrent": 0})
        self.assertEqual(cm.exception.field, "pacing.max_concurrent")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            db.campaign_create("gym-nyc", name="x", voice_provider="sim", colour="red")
        self.assertEqual(cm.exception.field, "colour")
        cmp = db.campaign_create("gym-nyc", name="x", voice_provider="sim")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            db.campaign_set_state("gym-nyc", cmp["id"], "running")
        self.assertEqual(cm.exception.field, "state")
        with self.assertRaises(gymdash.ConflictError):
            db.campaign_set_state("gym-nyc", cmp["id"], "paused")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            db.campaign_enrol("gym-nyc", cmp["id"], filter={"statuses": ["bogus"]})
        self.assertTrue(cm.exception.field.startswith("filter.statuses"), cm.exception.field)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            db.campaign_simulate("gym-nyc", cmp["id"], days=0)
        self.assertEqual(cm.exception.field, "days")
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            db.set_dialer_callback(42)
        self.assertEqual(cm.exception.field, "fn")

    def test_report_counts_the_enrolled_leads(self):
        db = self.db
        cmp = db.campaign_create("gym-nyc", name="x", voice_provider="sim")
        self.assertEqual(db.report("gym-nyc", campaign_id=cmp["id"])["leads"]["total"], 0)
        db.campaign_enrol("gym-nyc", cmp["id"], lead_ids=[self.leads[0]["id"], self.leads[1]["id"]])
        d = db.report("gym-nyc", campaign_id=cmp["id"])
        self.assertEqual(d["campaign_id"], cmp["id"])
        self.assertEqual(d["leads"]["total"], 2)
        self.assertEqual(d["funnel"][0]["count"], 2)
        self.assertEqual(db.report("gym-nyc")["leads"]["total"], 3)
        db.campaign_remove_leads("gym-nyc", cmp["id"], [self.leads[0]["id"]])
        self.assertEqual(db.report(campaign_id=cmp["id"])["leads"]["total"], 1)
        self.assertIn("leads_by_status,new,leads,1\r\n", db.report_csv("gym-nyc", campaign_id=cmp["id"]))
        with self.assertRaises(gymdash.NotFoundError) as cm:
            db.report("gym-nyc", campaign_id="cmp_missing")
        self.assertEqual(cm.exception.field, "campaign_id")

    def test_callback_that_raises_is_contained(self):
        def boom(_event):
            raise RuntimeError("boom")

        self.db.set_dialer_callback(boom)
        cmp = self.db.campaign_create("gym-nyc", name="x", voice_provider="sim")
        self.db.campaign_enrol("gym-nyc", cmp["id"])
        self.db.campaign_set_state("gym-nyc", cmp["id"], "active")
        self.db.dialer_tick()  # whatever the callback raises stays in Python
        self.assertEqual(self.db.dialer_status()["ticks"], 1)


class RecordingsTest(unittest.TestCase):
    """Retention per gym and purges on request (docs/calls.md, "Recordings and retention")."""

    def setUp(self):
        self.db = gymdash.Gymdash({"storage": "memory:", "logging": {"sink": "none"},
                                   "gyms": {"gym-rec": {"recording_retention_days": 30}}})
        self.db.create_gym(id="gym-rec", name="Recordings", timezone="America/New_York",
                           caller_ids=["(212) 736-5000"])
        self.lead = self.db.create_lead("gym-rec", phone="(212) 736-6100", first_name="Ana")["lead"]["id"]

    def tearDown(self):
        self.db.close()

    def _call(self, event_id, call_id, started_at, **extra):
        event = {"event_id": event_id, "call_id": call_id, "gym_id": "gym-rec", "lead_id": self.lead,
                 "started_at": started_at, "status": "completed", "answered_by": "human",
                 "recording_url": "https://rec.example/%s.wav" % call_id, "summary": "asked about prices"}
        event.update(extra)
        return self.db.process_call_event(event)

    def test_purge_expired(self):
        self._call("E1", "C1", "2020-01-01T10:00:00Z")
        self._call("E2", "C2", "2020-02-20T10:00:00Z")
        report = self.db.purge_expired_recordings(now="2020-03-01T00:00:00Z")
        self.assertEqual(report["calls"], 1)
        self.assertEqual(report["gyms"], [{"gym_id": "gym-rec", "calls": 1, "retention_days": 30,
                                           "cutoff": "2020-01-31T00:00:00Z"}])
        purged = self.db.get_call("gym-rec", "C1")
        self.assertEqual(purged["recording_url"], "")
        self.assertEqual(purged["summary"], "")
        self.assertEqual(purged["purged_at"], "2020-03-01T00:00:00Z")
        self.assertEqual(self.db.get_call("gym-rec", "C2")["recording_url"], "https://rec.example/C2.wav")
        at = datetime.datetime(2020, 3, 1, tzinfo=datetime.timezone.utc)
        self.assertEqual(self.db.purge_expired_recordings(at)["calls"], 0)
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.purge_expired_recordings(now="soon")
        self.assertEqual(cm.exception.field, "now")

    def test_purge_on_request(self):
        self._call("E1", "C1", "2020-01-01T10:00:00Z")
        report = self.db.purge_lead_recordings("gym-rec", self.lead, actor="dpo", reason="erasure request")
        self.assertEqual(report["calls"], 1)
        self.assertEqual(report["lead_id"], self.lead)
        entry = self.db.history("gym-rec", self.lead)[-1]
        self.assertEqual((entry["kind"], entry["to"], entry["actor"], entry["reason"]),
                         ("recordings_purged", "1", "dpo", "erasure request"))
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.purge_lead_recordings("gym-rec", "ld_nope")
        self.assertEqual(cm.exception.field, "lead_id")

    def test_no_consent_no_recording(self):
        call = self._call("E1", "C1", "2020-01-01T10:00:00Z", recording_consent=False)
        self.assertEqual(call["call"]["recording_url"], "")

    def test_erase_lead(self):
        self._call("E1", "C1", "2020-01-01T10:00:00Z", transcript="user: call me on 212 736 6100")
        self._call("E2", "C2", "2020-01-02T10:00:00Z")
        other = self.db.create_lead("gym-rec", phone="(212) 736-6101")["lead"]["id"]
        for actor, reason, field in (("ana@example.com", None, "actor"), (None, "212-736-6100", "reason"),
                                     (None, "Ana asked", "reason"), (None, "x" * 201, "reason")):
            with self.assertRaises(gymdash.InvalidArgumentError) as cm:
                self.db.erase_lead("gym-rec", self.lead, actor=actor, reason=reason)
            self.assertEqual(cm.exception.field, field)
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.erase_lead("gym-rec", "ld_nope")
        self.assertEqual(cm.exception.field, "lead_id")
        self.assertEqual(self.db.get_call("gym-rec", "C1")["provider_call_id"], "C1")  # still there after the refusals

        entry = self.db.erase_lead("gym-rec", self.lead, actor="dpo", reason="request 2026-11-02")
        self.assertEqual((entry["gym_id"], entry["lead_id"], entry["actor"], entry["reason"]),
                         ("gym-rec", self.lead, "dpo", "request 2026-11-02"))
        self.assertEqual(entry["removed"]["calls"], 2)
        self.assertEqual(entry["removed"]["recordings"], 2)
        self.assertEqual(entry["removed"]["call_results"], 2)
        text = json.dumps(entry)
        for personal in ("7366100", "Ana", "rec.example", "call me"):
            self.assertNotIn(personal, text)
        with self.assertRaises(gymdash.NotFoundError):
            self.db.get_lead("gym-rec", self.lead)
        with self.assertRaises(gymdash.NotFoundError):
            self.db.get_call("gym-rec", "C1")
        self.assertEqual(self.db.get_lead("gym-rec", other)["id"], other)
        self.assertEqual(self.db.lead_erasures("gym-rec"), [entry])
        self.assertEqual(self.db.lead_erasures("gym-rec", limit=1, offset=1), [])
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.lead_erasures("gym-rec", limit=0)
        self.assertEqual(cm.exception.field, "limit")


class RoutingTest(unittest.TestCase):
    """Caller id, assistant and dynamic variables; inbound calls (docs/routing.md)."""

    ASSISTANTS = {"gym_default": "asst-main", "campaigns": {"spring": {"default": "asst-spring",
                                                                         "hot": "asst-hot"}}}

    def setUp(self):
        self.db = gymdash.Gymdash({"storage": "memory:", "logging": {"sink": "none"}})
        self.db.create_gym(id="gym-rt", name="Route Gym", timezone="America/New_York",
                           caller_ids=["(212) 736-5000", "(305) 372-0100"])
        self.lead = self.db.create_lead("gym-rt", phone="(305) 372-4444", first_name="Ana",
                                        email="ana@example.com", notes="private")["lead"]["id"]

    def tearDown(self):
        self.db.close()

    def test_outbound(self):
        route = self.db.route_outbound("gym-rt", self.lead, campaign_id="spring", assistants=self.ASSISTANTS, at=AT)
        self.assertEqual(route["from"], "+13053720100")
        self.assertTrue(route["local_presence"])
        self.assertEqual(route["to"], "+13053724444")
        self.assertEqual((route["assistant_id"], route["assistant_rule"]), ("asst-spring", "campaign_default"))
        self.assertEqual(set(route["dynamic_variables"]), {"first_name", "gym_name", "interest", "timeline",
                                                           "time_of_day", "greeting", "last_outcome"})
        self.assertEqual(route["dynamic_variables"]["greeting"], "Good morning")
        self.assertNotIn("ana@example.com", json.dumps(route["dynamic_variables"]))
        self.assertNotIn("private", json.dumps(route["dynamic_variables"]))
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.route_outbound("gym-rt", self.lead)
        self.assertEqual(cm.exception.field, "assistants.gym_default")
        with self.assertRaises(gymdash.NotFoundError) as cm:
            self.db.route_outbound("gym-rt", "ld_nope", assistants=self.ASSISTANTS)
        self.assertEqual(cm.exception.field, "lead_id")

    def test_inbound(self):
        known = self.db.route_inbound("gym-rt", "305-372-4444")
        self.assertFalse(known["created"])
        self.assertEqual(known["lead_id"], self.lead)
        self.assertEqual(known["first_name"], "Ana")
        fresh = self.db.route_inbound("gym-rt", "(212) 736-7777", at=AT)
        self.assertTrue(fresh["created"])
        self.assertEqual(self.db.get_lead("gym-rt", fresh["lead_id"])["source"], "inbound_call")
        self.db.dnc_add("gym-rt", "(212) 736-8888")
        listed = self.db.route_inbound("gym-rt", "(212) 736-8888")
        self.assertTrue(listed["do_not_call"])
        with self.assertRaises(gymdash.InvalidArgumentError) as cm:
            self.db.route_inbound("gym-rt", "12")
        self.assertEqual(cm.exception.field, "from_number")


def load_tests(loader, tests, pattern):
    """Adds the package docstring's examples (doctest) to the suite."""
    tests.addTests(doctest.DocTestSuite(gymdash))
    return tests


if __name__ == "__main__":
    unittest.main()
