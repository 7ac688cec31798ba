"""Tests of the gymdash command-line tool (examples/cli), run as a program.

ctest sets GYMDASH_CLI to the built tool and GYMDASH_TEST_TMP to a scratch
directory (tests/cmake/cli.cmake):

    GYMDASH_CLI=build/examples/cli/gymdash python3 -m unittest -v test_cli

Each test checks the exit status (0 ok, 1 the operation failed, 2 a usage
error), what reached stdout and what reached stderr.
"""

import json
import os
import pty
import shutil
import subprocess
import tempfile
import unittest

CLI = os.environ.get("GYMDASH_CLI")


def tmp_dir():
    """A fresh directory under $GYMDASH_TEST_TMP or the system temp dir."""
    base = os.environ.get("GYMDASH_TEST_TMP") or None
    if base:
        os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix="cli-", dir=base)


@unittest.skipUnless(CLI, "GYMDASH_CLI is not set")
class CliTest(unittest.TestCase):
    """Commands against a temporary SQLite file."""

    def setUp(self):
        self.dir = tmp_dir()
        self.db = "sqlite:" + os.path.join(self.dir, "gym.db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_cli(self, *args, env=None, db=True):
        """Runs the tool; returns (status, stdout, stderr)."""
        argv = [CLI] + (["--db", self.db] if db else []) + list(args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=self.dir,
                           timeout=60)
        return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")

    def ok(self, *args, **kw):
        """Runs a command that must succeed and leave stderr empty; returns stdout."""
        status, out, err = self.run_cli(*args, **kw)
        self.assertEqual((status, err), (0, ""), "%s: %s" % (args, err))
        return out

    def ok_json(self, *args):
        """Runs a command with --json; returns the decoded stdout."""
        return json.loads(self.ok("--json", *args))

    def fails(self, status, *args, **kw):
        """Runs a command that must exit with `status` and print nothing; returns stderr."""
        code, out, err = self.run_cli(*args, **kw)
        self.assertEqual(code, status, "%s: %s" % (args, err))
        self.assertEqual(out, "")
        self.assertTrue(err.startswith("gymdash: "), err)
        return err

    def write(self, name, doc):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    # ---- config --------------------------------------------------------------

    def test_config_check(self):
        good = self.write("good.json", {"storage": "memory:", "gyms": {"gym-nyc": {"hot_threshold": 80}}})
        self.assertEqual(self.ok("config", "check", good, db=False), "ok\n")
        normalized = self.ok_json("config", "check", good)
        self.assertEqual(normalized["gyms"]["gym-nyc"]["hot_threshold"], 80)
        self.assertEqual(normalized["gyms"]["gym-nyc"]["cold_threshold"], 40)

        bad = self.write("bad.json", {"gyms": {"x": {"call_hours": {"start": "25:00"}}}, "worker_thread": 3,
                                      "logging": {"sink": "file"}})
        err = self.fails(1, "config", "check", bad)
        lines = err.splitlines()
        self.assertEqual(len(lines), 3, err)
        self.assertTrue(all(line.startswith("gymdash: " + bad + ": ") for line in lines), err)
        self.assertIn('gyms.x.call_hours.start: "25:00" is not a time', err)
        self.assertIn('worker_thread: unknown key (did you mean "worker_threads"?)', err)
        self.assertIn("logging.file: is required", err)

        self.assertIn("missing.json", self.fails(1, "config", "check", os.path.join(self.dir, "missing.json")))
        self.assertIn("config: invalid JSON", self.fails(1, "config", "check", self.write("broken.json", "{")))
        self.assertIn("missing FILE", self.fails(2, "config", "check"))

    def test_config_check_env(self):
        doc = self.write("voice.json", {"voice_providers": {"main": {"kind": "retell",
                                                                     "api_key_env": "GYMDASH_CLI_TEST_KEY"}}})
        env = {"GYMDASH_CLI_TEST_KEY": ""}
        self.assertEqual(self.ok("config", "check", doc, env=env), "ok\n")  # names only, by default
        err = self.fails(1, "config", "check", "--env", doc, env=env)
        self.assertIn("voice_providers.main.api_key_env: environment variable GYMDASH_CLI_TEST_KEY is not set", err)
        self.assertEqual(self.ok("config", "check", "--env", doc, env={"GYMDASH_CLI_TEST_KEY": "sk-1"}), "ok\n")

    def test_config_defaults(self):
        defaults = json.loads(self.ok("config", "defaults"))
        self.assertEqual(defaults["storage"], "sqlite:gymdash.db")
        self.assertEqual(defaults["logging"]["level"], "info")
        self.assertEqual(json.loads(self.ok("--json", "config", "defaults")), defaults)

    def test_config_file_with_db_override(self):
        log = os.path.join(self.dir, "gymdash.log")
        cfg = self.write("gymdash.json", {"storage": "sqlite:" + os.path.join(self.dir, "other.db"),
                                          "logging": {"sink": "file", "file": log, "format": "logfmt"}})
        self.ok("--config", cfg, "--log-level", "info", "gyms", "create", "--id", "gym-a", "--name", "A",
                "--timezone", "UTC")
        self.assertEqual([g["id"] for g in self.ok_json("gyms", "list")], ["gym-a"])  # --db won
        self.assertFalse(os.path.exists(os.path.join(self.dir, "other.db")))
        with open(log) as f:
            self.assertIn("op=gym.create gym=gym-a", f.read())

    def test_config_calling_hours_for_new_gyms(self):
        # A gym created without --call-hours / --call-days, or by gyms.csv, gets the configuration's.
        cfg = self.write("hours.json", {"storage": "memory:",
                                        "defaults": {"call_hours": {"start": "10:00", "end": "18:00"},
                                                     "call_days": ["mon", "tue"]},
                                        "gyms": {"gym-sat": {"call_days": ["sat"]}}})
        gym = self.ok_json("--config", cfg, "gyms", "create", "--id", "gym-a", "--name", "A", "--timezone", "UTC")
        self.assertEqual(gym["call_hours"], {"start": "10:00", "end": "18:00"})
        self.assertEqual(gym["call_days"], ["mon", "tue"])
        gym = self.ok_json("--config", cfg, "gyms", "create", "--id", "gym-sat", "--name", "S", "--timezone", "UTC",
                           "--call-hours", "08:00-12:00")
        self.assertEqual(gym["call_hours"], {"start": "08:00", "end": "12:00"})
        self.assertEqual(gym["call_days"], ["sat"])

    # ---- usage errors ----------------------------------------------------------

    def test_usage_errors_exit_2(self):
        cases = [
            (["frobnicate"], 'unknown command "frobnicate"'),
            (["gyms", "frob"], 'unknown command "gyms frob" (gyms commands: create, get, list, import)'),
            (["gyms"], "missing gyms command"),
            ([], "missing command"),
            (["--frob", "gyms", "list"], "unknown option --frob"),
            (["gyms", "list", "--frob"], "unknown option --frob"),
            (["gyms", "list", "extra"], 'unexpected argument "extra"'),
            (["gyms", "get"], "missing ID"),
            (["gyms", "create", "--timezone", "UTC"], "missing --name"),
            (["gyms", "create", "--name", "A", "--timezone", "UTC", "--call-hours", "9"], "--call-hours"),
            (["leads", "list", "--gym", "g", "--page", "two"], '--page: "two" is not an integer'),
            (["leads", "list", "--gym", "g", "--page-size", "0"], "--page-size: 0 is out of range"),
            (["leads", "list", "--gym"], "--gym needs a value"),
            (["leads", "tag", "--gym", "g", "--lead", "l"], "give --add, --remove or both"),
            (["leads", "status", "--gym", "g", "--lead", "l", "--to", "new", "--force=maybe"], "--force"),
            (["--log-level", "chatty", "gyms", "list"], "--log-level"),
            (["metrics", "--format", "xml"], "--format"),
            (["help", "nothing"], 'unknown command "nothing"'),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                self.assertIn(needle, self.fails(2, *args))

    def test_help(self):
        out = self.ok("help", db=False)
        for command in ("config check FILE", "config defaults", "metrics", "gyms create", "gyms get ID", "gyms list",
                        "gyms import FILE", "leads add", "leads get", "leads list", "leads tag", "leads status",
                        "leads import FILE", "leads next", "leads explain", "leads after-call", "dnc add",
                        "dnc remove", "dnc check", "dnc list", "dnc import FILE"):
            self.assertIn("  " + command, out)
        self.assertEqual(self.ok("--help", db=False), out)
        usage = self.ok("leads", "list", "--help")
        self.assertTrue(usage.startswith("usage: gymdash leads list --gym G"), usage)
        self.assertIn("--page-size", usage)
        self.assertEqual(usage, self.ok("help", "leads", "list"))

    # ---- gyms and leads ----------------------------------------------------------

    def create_gym(self):
        return self.ok_json("gyms", "create", "--id", "gym-nyc", "--name", "NYC Midtown", "--timezone",
                            "America/New_York", "--state", "NY", "--call-hours", "10:00-19:30",
                            "--call-days", "mon,tue,wed,thu,fri", "--caller-ids", "(212) 736-5000")

    def test_gyms(self):
        gym = self.create_gym()
        self.assertEqual(gym["id"], "gym-nyc")
        self.assertEqual(gym["call_hours"], {"start": "10:00", "end": "19:30"})
        self.assertEqual(gym["call_days"], ["mon", "tue", "wed", "thu", "fri"])
        self.assertEqual(gym["caller_ids"], ["+12127365000"])
        self.ok("gyms", "create", "--name", "LA", "--timezone", "America/Los_Angeles")  # generated id
        gyms = self.ok_json("gyms", "list")
        self.assertEqual(len(gyms), 2)
        self.assertEqual(self.ok_json("gyms", "get", "gym-nyc"), gym)

        table = self.ok("gyms", "list").splitlines()
        self.assertEqual(table[0].split(), ["ID", "NAME", "TIMEZONE", "REGION", "CALL", "HOURS", "CALL", "DAYS"])
        self.assertTrue(any(row.startswith("gym-nyc") and "10:00-19:30" in row for row in table[1:]), table)
        fields = self.ok("gyms", "get", "gym-nyc")
        self.assertIn("timezone    America/New_York\n", fields)

        self.assertIn("gym-nyc: already exists", self.fails(1, "gyms", "create", "--id", "gym-nyc", "--name", "X",
                                                            "--timezone", "UTC"))
        self.assertIn("gym-nowhere", self.fails(1, "gyms", "get", "gym-nowhere"))
        err = self.fails(1, "gyms", "create", "--name", "X", "--timezone", "UTC", "--call-hours", "25:00-26:00")
        self.assertIn("--call-hours start:", err)
        self.assertIn("--timezone", self.fails(1, "gyms", "create", "--name", "X", "--timezone", "Mars/Base"))
        self.assertIn("--call-days [1]", self.fails(1, "gyms", "create", "--name", "X", "--timezone", "UTC",
                                                    "--call-days", "mon,funday"))

    def test_leads(self):
        self.create_gym()
        added = self.ok_json("leads", "add", "--gym", "gym-nyc", "--phone", "(212) 736-5001", "--first", "Ana",
                             "--last", "López", "--email", "ana@example.com", "--source", "web_form",
                             "--tags", "Spanish, morning", "--actor", "front-desk")
        self.assertFalse(added["merged"])
        ana = added["lead"]
        self.assertEqual(ana["phone"], "+12127365001")
        self.assertEqual(ana["tags"], ["morning", "spanish"])
        again = self.ok_json("leads", "add", "--gym", "gym-nyc", "--phone", "+1 212.736.5001")
        self.assertTrue(again["merged"])
        self.assertEqual(again["lead"]["id"], ana["id"])
        ben = self.ok_json("leads", "add", "--gym", "gym-nyc", "--phone", "646-736-1000", "--first", "Ben")["lead"]
        human = self.ok("leads", "add", "--gym", "gym-nyc", "--phone", "646-736-1000")
        self.assertTrue(human.startswith("merged into lead " + ben["id"] + "\n"), human)

        self.assertIn("--phone:", self.fails(1, "leads", "add", "--gym", "gym-nyc", "--phone", "12"))
        self.assertIn("--email:", self.fails(1, "leads", "add", "--gym", "gym-nyc", "--phone", "(212) 736-5009",
                                             "--email", "nope"))
        self.assertIn("gym-nowhere", self.fails(1, "leads", "add", "--gym", "gym-nowhere", "--phone", "(212) 736-5009"))
        self.assertIn("missing --phone", self.fails(2, "leads", "add", "--gym", "gym-nyc"))

        self.assertEqual(self.ok_json("leads", "get", "--gym", "gym-nyc", "--lead", ana["id"])["last_name"], "López")
        self.assertIn("gym-other", self.fails(1, "leads", "get", "--gym", "gym-other", "--lead", ana["id"]))
        self.assertIn("ld_nope", self.fails(1, "leads", "get", "--gym", "gym-nyc", "--lead", "ld_nope"))

        page = self.ok_json("leads", "list", "--gym", "gym-nyc")
        self.assertEqual((page["total"], page["page"], page["page_size"]), (2, 1, 50))
        self.assertEqual(self.ok_json("leads", "list", "--gym", "gym-nyc", "--tag", "spanish")["total"], 1)
        self.assertEqual(self.ok_json("leads", "list", "--gym", "gym-nyc", "--search", "lópez")["total"], 1)
        self.assertEqual(self.ok_json("leads", "list", "--gym", "gym-nyc", "--status", "new,lost")["total"], 2)
        self.assertEqual(self.ok_json("leads", "list", "--gym", "gym-nyc", "--qualification", "hot")["total"], 0)
        second = self.ok_json("leads", "list", "--gym", "gym-nyc", "--page", "2", "--page-size", "1")
        self.assertEqual((second["page"], len(second["items"])), (2, 1))
        self.assertIn("--status [1]", self.fails(1, "leads", "list", "--gym", "gym-nyc", "--status", "new,sleepy"))
        table = self.ok("leads", "list", "--gym", "gym-nyc").splitlines()
        self.assertEqual(table[0].split(), ["ID", "PHONE", "NAME", "STATUS", "QUALIFICATION", "TAGS", "CREATED"])
        self.assertTrue(any(ana["id"] in row and "Ana López" in row and "+12127365001" in row for row in table))
        self.assertEqual(table[-1], "page 1 of 1, 2 leads")

        tagged = self.ok_json("leads", "tag", "--gym", "gym-nyc", "--lead", ana["id"], "--add", "VIP,evening",
                              "--remove", "morning", "--actor", "coach")
        self.assertEqual(tagged["tags"], ["evening", "spanish", "vip"])
        self.assertIn("--add", self.fails(1, "leads", "tag", "--gym", "gym-nyc", "--lead", ana["id"],
                                          "--add", "x" * 101))

        moved = self.ok_json("leads", "status", "--gym", "gym-nyc", "--lead", ana["id"], "--to", "qualified",
                             "--actor", "ana")
        self.assertEqual(moved["status"], "qualified")
        self.assertIn("gymdash: ", self.fails(1, "leads", "status", "--gym", "gym-nyc", "--lead", ana["id"],
                                              "--to", "new"))
        back = self.ok_json("leads", "status", "--gym", "gym-nyc", "--lead", ana["id"], "--to", "new", "--force",
                            "--reason", "by mistake")
        self.assertEqual(back["status"], "new")
        self.assertIn("--to", self.fails(1, "leads", "status", "--gym", "gym-nyc", "--lead", ana["id"],
                                         "--to", "maybe"))
        fields = self.ok("leads", "get", "--gym", "gym-nyc", "--lead", ana["id"])
        self.assertIn("status         new\n", fields)
        self.assertIn("tags           evening,spanish,vip\n", fields)

    # ---- imports, who to call, do-not-call lists ---------------------------------------

    def import_fixture(self):
        """gyms.csv and leads.csv: messy phone formats, a duplicate and every reject reason."""
        gyms = self.write("gyms.csv", "gym_id,name,timezone,region,state\n"
                                      "gym-nyc,NYC Midtown,America/New_York,US,NY\n"
                                      "gym-la,LA Downtown,America/Los_Angeles,US,CA\n")
        rows = [
            "external_id,gym_id,first_name,last_name,phone,email,source,created_at,interest,timeline,consent,tags",
            "E1,gym-nyc,Ana,Lopez,(212) 736-5701,ana@example.com,web_form,2026-10-13T12:21:44Z,yoga,asap,yes,vip",
            "E2,gym-nyc,Ben,Ng,212.736.5702,,facebook_ads,2026-10-14T08:00:00+02:00,,,yes,",
            "E3,gym-nyc,Cy,Ode,+1 212 736 5703,,web_form,2026-10-15T09:00:00Z,,,no,",
            "E4,gym-nyc,Dee,Hu, 1-646-736-5704 ,,referral,2026-10-16T09:00:00Z,,,yes,",
            "E5,gym-nyc,Ana,Dup,+12127365701,,web_form,2026-10-01T00:00:00Z,,,yes,promo",  # duplicate of E1
            "E6,gym-nyc,Bad,Phone,call me maybe,,web_form,2026-10-13T12:21:44Z,,,yes,",
            "E7,gym-xx,No,Gym,(212) 736-5707,,web_form,2026-10-13T12:21:44Z,,,yes,",
            "E8,gym-nyc,Bad,Date,(212) 736-5708,,web_form,2026-02-30T10:00:00Z,,,yes,",
            "E9,gym-nyc," + "A" * 201 + ",Long,(212) 736-5709,,web_form,2026-10-13T12:21:44Z,,,yes,",
            "E10,gym-nyc,Too,Few,(212) 736-5710",
            "E11,gym-nyc,Bad\udcff,Enc,(212) 736-5711,,web_form,2026-10-13T12:21:44Z,,,yes,",
            "E12,gym-la,Lu,La,(213) 736-5712,,referral,2026-10-16T10:00:00Z,,,yes,",
        ]
        leads = os.path.join(self.dir, "leads.csv")
        with open(leads, "wb") as f:
            f.write("\n".join(rows + [""]).encode("utf-8", "surrogateescape"))
        return gyms, leads

    def test_gyms_and_leads_import(self):
        gyms, leads = self.import_fixture()
        self.assertEqual(self.ok("gyms", "import", gyms), "2 rows: 2 created, 0 updated, 0 rejected\n")
        report = self.ok_json("gyms", "import", gyms)
        self.assertEqual((report["created"], report["updated"]), (0, 2))

        report = self.ok_json("leads", "import", leads, "--batch-size", "5")
        for key in ("imported", "merged_duplicates", "rejected", "rejected_by_reason"):
            self.assertIn(key, report)
        self.assertEqual((report["rows"], report["imported"], report["merged_duplicates"], report["rejected"]),
                         (12, 5, 1, 6))
        self.assertEqual(report["rejected_by_reason"], {"bad_phone": 1, "unknown_gym": 1, "bad_created_at": 1,
                                                        "too_long": 1, "bad_format": 1, "bad_encoding": 1})
        self.assertEqual([r["line"] for r in report["rejected_rows"]], [7, 8, 9, 10, 11, 12])
        self.assertNotIn("736-57", json.dumps(report))
        leads_nyc = self.ok_json("leads", "list", "--gym", "gym-nyc")["items"]
        self.assertEqual(sorted(lead["phone"] for lead in leads_nyc),
                         ["+12127365701", "+12127365702", "+12127365703", "+16467365704"])

        human = self.ok("leads", "import", leads)
        self.assertTrue(human.startswith("12 rows in "), human)
        self.assertIn(": 0 imported, 6 merged into known leads, 6 rejected\n", human)
        self.assertIn("rejected: bad_created_at 1, bad_encoding 1, bad_format 1, bad_phone 1, too_long 1, "
                      "unknown_gym 1\n", human)
        self.assertEqual(human.splitlines()[2].split(), ["LINE", "REASON", "DETAIL"])

        err = self.fails(1, "leads", "import", os.path.join(self.dir, "nope.csv"))
        self.assertIn('FILE: cannot read "%s"' % os.path.join(self.dir, "nope.csv"), err)
        nocols = self.write("nocols.csv", "external_id,gym_id\nX,gym-nyc\n")
        err = self.fails(1, "leads", "import", nocols)
        self.assertIn(nocols + ": header: missing required column: phone", err)
        self.assertIn("--batch-size: 0 is out of range", self.fails(2, "leads", "import", leads, "--batch-size", "0"))
        self.assertIn("missing FILE", self.fails(2, "leads", "import"))
        self.assertIn("timezone", self.fails(1, "gyms", "import", self.write("g.csv", "gym_id,name\nx,y\n")))

    def test_calls(self):
        gyms, leads = self.import_fixture()
        self.ok("gyms", "import", gyms)
        self.ok("leads", "import", leads)
        event = {"event_id": "EV1", "call_id": "C1", "gym_id": "gym-nyc", "lead_external_id": "E1",
                 "to": "+12127365701", "direction": "outbound", "started_at": "2026-10-20T14:00:00Z",
                 "ended_at": "2026-10-20T14:02:00Z", "status": "completed", "answered_by": "human",
                 "duration_s": 120, "outcome": "trial_booked", "cost_usd": 0.19, "recording_url": None,
                 "summary": "booked"}
        lines = [json.dumps(event), json.dumps(event), "{oops", json.dumps(dict(event, event_id="EV2", call_id="C2",
                                                                                 lead_external_id="E404"))]
        calls = self.write("calls.jsonl", "\n".join(lines) + "\n")
        report = self.ok_json("calls", "ingest", calls)
        self.assertEqual(report, {"events": 4, "duplicates": 1, "applied": 1, "rejected": 2,
                                  "rejected_by_reason": {"bad_json": 1, "unknown_lead": 1}})
        human = self.ok("calls", "ingest", calls)
        self.assertIn("4 events in ", human)
        self.assertIn(": 0 applied, 2 duplicates, 2 rejected\n", human)
        page = self.ok_json("calls", "list", "--gym", "gym-nyc", "--outcome", "trial_booked")
        self.assertEqual(page["total"], 1)
        lead_id = page["items"][0]["lead_id"]
        self.assertEqual(self.ok_json("calls", "list", "--gym", "gym-nyc", "--lead", lead_id,
                                      "--from", "2026-10-20T00:00:00Z", "--to", "2026-10-21T00:00:00Z")["total"], 1)
        self.assertEqual(self.ok_json("calls", "list", "--gym", "gym-nyc", "--status", "busy")["total"], 0)
        self.assertIn("C1", self.ok("calls", "list", "--gym", "gym-nyc"))
        call = self.ok_json("calls", "get", "--gym", "gym-nyc", "--call", "C1")
        self.assertEqual((call["status"], call["outcome"], call["duration_s"]), ("completed", "trial_booked", 120))
        self.assertEqual(self.ok_json("leads", "get", "--gym", "gym-nyc", "--lead", lead_id)["status"], "trial_booked")
        self.assertIn("--outcome", self.fails(1, "calls", "list", "--gym", "gym-nyc", "--outcome", "meh"))
        self.fails(1, "calls", "get", "--gym", "gym-nyc", "--call", "C404")
        self.assertIn("missing FILE", self.fails(2, "calls", "ingest"))

    def test_import_progress_only_on_a_terminal(self):
        _gyms, leads = self.import_fixture()
        self.ok("gyms", "import", _gyms)
        # stderr a pipe (as in ok()): nothing but the report
        self.ok("--json", "leads", "import", leads)
        # stderr a terminal: a progress line, redrawn per batch
        master, slave = pty.openpty()
        try:
            p = subprocess.run([CLI, "--db", self.db, "--json", "leads", "import", leads, "--batch-size", "2"],
                               stdout=subprocess.PIPE, stderr=slave, cwd=self.dir, timeout=60)
            os.close(slave)
            slave = None
            chunks = []
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the other side is closed
                    break
                if not data:
                    break
                chunks.append(data)
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(json.loads(p.stdout)["rows"], 12)  # stdout stays JSON
        shown = b"".join(chunks).decode("utf-8")
        self.assertIn("100% [########################]", shown)
        self.assertIn("rows/s", shown)
        self.assertGreaterEqual(shown.count("\r"), 6)  # one redraw per batch of 2
        self.assertIn(" 12 rows ", shown)

    def test_next_explain_and_dnc(self):
        gyms, leads = self.import_fixture()
        self.ok("gyms", "import", gyms)
        self.ok("leads", "import", leads)
        at = "2026-11-02T15:00:00Z"  # Monday 10:00 in New York
        listed = self.ok_json("leads", "next", "--gym", "gym-nyc", "--count", "10", "--at", at)
        self.assertEqual(sorted(lead["phone"] for lead in listed), ["+12127365701", "+12127365702", "+16467365704"])
        for lead in listed:
            for key in ("id", "external_id", "phone", "status", "qualification", "score", "attempts", "consent"):
                self.assertIn(key, lead)
        ana = next(lead for lead in listed if lead["external_id"] == "E1")
        ben = next(lead for lead in listed if lead["external_id"] == "E2")
        table = self.ok("leads", "next", "--gym", "gym-nyc", "--count", "10", "--at", at).splitlines()
        self.assertEqual(table[0].split(), ["ID", "EXTERNAL", "ID", "PHONE", "NAME", "STATUS", "QUALIFICATION",
                                            "SCORE", "ATTEMPTS"])
        self.assertEqual(len(table), 4)
        self.assertTrue(any(row.startswith(ana["id"]) and "E1" in row and "+12127365701" in row for row in table))
        one = self.ok_json("leads", "next", "--gym", "gym-nyc", "--count", "10", "--at", at,
                           "--exclude", ana["id"] + "," + ben["id"])
        self.assertEqual([lead["external_id"] for lead in one], ["E4"])
        self.assertEqual(self.ok("leads", "next", "--gym", "gym-nyc", "--count", "3", "--at", "2026-11-02T07:00:00Z"),
                         "no lead of gym-nyc may be called at 2026-11-02T07:00:00Z\n")

        decision = self.ok_json("leads", "explain", "--gym", "gym-nyc", "--lead", ana["id"], "--at", at)
        self.assertEqual((decision["dialable"], decision["reasons"]), (True, []))
        fields = self.ok("leads", "explain", "--gym", "gym-nyc", "--lead", ana["id"], "--at", "2026-11-02T07:00:00Z")
        self.assertIn("dialable    no\n", fields)
        self.assertIn("blocked by  outside_federal_hours", fields)

        # dnc add, then explain names the list
        entry = self.ok_json("dnc", "add", "--gym", "gym-nyc", "--phone", "212 736 5701", "--reason", "asked")
        self.assertEqual((entry["scope"], entry["phone"], entry["reason"], entry["source"]),
                         ("gym-nyc", "+12127365701", "asked", "api"))
        decision = self.ok_json("leads", "explain", "--gym", "gym-nyc", "--lead", ana["id"], "--at", at)
        self.assertEqual((decision["dialable"], decision["reasons"]), (False, ["dnc_list"]))
        self.assertNotIn(ana["id"], self.ok("leads", "next", "--gym", "gym-nyc", "--count", "10", "--at", at))
        check = self.ok_json("dnc", "check", "--gym", "gym-nyc", "--phone", "(212) 736-5701")
        self.assertEqual((check["gym_listed"], check["blocked"]), (True, True))
        self.assertIn("blocked      yes\n", self.ok("dnc", "check", "--gym", "gym-nyc", "--phone", "(212) 736-5701"))
        self.assertEqual([e["phone"] for e in self.ok_json("dnc", "list", "--scope", "gym-nyc")], ["+12127365701"])
        self.assertEqual(self.ok_json("dnc", "list", "--global"), [])
        self.ok("dnc", "add", "--scope", "*", "--phone", "+1 212 736 5702")
        self.assertEqual(self.ok_json("leads", "explain", "--gym", "gym-nyc", "--lead", ben["id"], "--at", at)
                         ["reasons"], ["dnc_list"])
        self.assertEqual(self.ok("dnc", "remove", "--gym", "gym-nyc", "--phone", "212-736-5701", "--actor", "ana"),
                         "removed from the list of gym-nyc\n")
        self.assertEqual(self.ok_json("dnc", "remove", "--gym", "gym-nyc", "--phone", "212-736-5701"),
                         {"scope": "gym-nyc", "removed": False})
        self.assertTrue(self.ok_json("leads", "explain", "--gym", "gym-nyc", "--lead", ana["id"], "--at", at)
                        ["dialable"])
        # Under a campaign's rules: the campaign must be the gym's.
        self.assertIn('--campaign: campaign "cmp_nope" not found',
                      self.fails(1, "leads", "next", "--gym", "gym-nyc", "--count", "5", "--campaign", "cmp_nope"))
        self.assertIn('--campaign: campaign "cmp_nope" not found',
                      self.fails(1, "leads", "explain", "--gym", "gym-nyc", "--lead", ana["id"], "--campaign",
                                 "cmp_nope"))

        registry = self.write("registry.txt", "# registry\n\n(212) 736-5701\n646.736.5704\n12\n")
        report = self.ok_json("dnc", "import", registry, "--gym", "gym-nyc")
        self.assertEqual((report["lines"], report["added"], report["rejected"]), (3, 2, 1))
        self.assertEqual(report["rejected_lines"][0]["line"], 5)
        human = self.ok("dnc", "import", registry, "--gym", "gym-nyc")
        self.assertTrue(human.startswith("3 numbers: 0 added to the list of gym-nyc, 2 already listed, 1 rejected\n"),
                        human)
        self.assertEqual({e["source"] for e in self.ok_json("dnc", "list", "--gym", "gym-nyc")}, {"registry.txt"})

        # after a call
        result = json.dumps({"call_id": "c1", "started_at": at, "status": "completed", "answered_by": "human",
                             "outcome": "interested"})
        lead = self.ok_json("leads", "after-call", "--gym", "gym-nyc", "--lead", ben["id"], "--result", result)
        self.assertEqual(lead["attempts"], 1)
        self.assertIn("--result started_at", self.fails(1, "leads", "after-call", "--gym", "gym-nyc", "--lead",
                                                        ben["id"], "--result", '{"call_id":"c2"}'))
        self.assertIn("--result: invalid JSON", self.fails(1, "leads", "after-call", "--gym", "gym-nyc", "--lead",
                                                           ben["id"], "--result", "{"))

        # bad values exit 1 naming the option; usage errors exit 2
        err = self.fails(1, "leads", "next", "--gym", "gym-nyc", "--count", "5", "--at", "next monday")
        self.assertIn('--at: "next monday" is not an ISO 8601', err)
        self.assertIn("--at", self.fails(1, "leads", "explain", "--gym", "gym-nyc", "--lead", ana["id"],
                                         "--at", "2026-11-02 10:00"))
        self.assertIn('--gym: gym "gym-nowhere" not found',
                      self.fails(1, "leads", "next", "--gym", "gym-nowhere", "--count", "5"))
        self.assertIn('--gym: gym "gym-nowhere" not found',
                      self.fails(1, "leads", "explain", "--gym", "gym-nowhere", "--lead", ana["id"]))
        self.assertIn("--lead", self.fails(1, "leads", "explain", "--gym", "gym-la", "--lead", ana["id"]))
        self.assertIn("gym-nowhere", self.fails(1, "dnc", "add", "--gym", "gym-nowhere", "--phone", "2127365701"))
        self.assertIn("--phone", self.fails(1, "dnc", "add", "--gym", "gym-nyc", "--phone", "12"))
        self.assertIn("--qualification", self.fails(1, "leads", "next", "--gym", "gym-nyc", "--count", "5",
                                                    "--qualification", "lukewarm"))
        self.assertIn('FILE: cannot read', self.fails(1, "dnc", "import", os.path.join(self.dir, "x.txt"), "--global"))

    def test_usage_errors_of_calling_commands_exit_2(self):
        cases = [
            (["leads", "next", "--gym", "g"], "missing --count"),
            (["leads", "next", "--gym", "g", "--count", "0"], "--count: 0 is out of range"),
            (["leads", "next", "--gym", "g", "--count", "many"], '--count: "many" is not an integer'),
            (["leads", "explain", "--gym", "g"], "missing --lead"),
            (["leads", "next", "--gym", "g", "--count", "5", "--qualification", "hot", "--campaign", "c"],
             "--qualification: with --campaign the campaign's target decides"),
            (["leads", "after-call", "--gym", "g", "--lead", "l"], "missing --result"),
            (["dnc", "add", "--phone", "1"], "give the list: --gym G, --global, or --scope G|*"),
            (["dnc", "add", "--gym", "g", "--global", "--phone", "1"], "give only one of --scope, --gym and --global"),
            (["dnc", "list", "--global", "--limit", "0"], "--limit: 0 is out of range"),
            (["dnc", "import", "--global"], "missing FILE"),
            (["dnc", "frob"], 'unknown command "dnc frob" (dnc commands: add, remove, check, list, import)'),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                self.assertIn(needle, self.fails(2, *args))

    # ---- logs and metrics ----------------------------------------------------------

    def test_json_stdout_stays_clean_with_logs_on_stderr(self):
        self.create_gym()
        status, out, err = self.run_cli("--json", "--log-level", "debug", "gyms", "list")
        self.assertEqual(status, 0)
        self.assertEqual([g["id"] for g in json.loads(out)], ["gym-nyc"])
        records = [json.loads(line) for line in err.splitlines()]
        self.assertIn("gym.list", [r.get("op") for r in records])
        self.assertIn("runtime.open", [r.get("op") for r in records])
        # by default only warn and above reach stderr: a routine failure prints just the error
        err = self.fails(1, "gyms", "get", "gym-nowhere")
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_metrics(self):
        text = self.ok("metrics")
        self.assertIn("# TYPE gymdash_operation_calls_total counter\n", text)
        self.assertIn('gymdash_operation_calls_total{operation="lead.create"} 0\n', text)
        data = self.ok_json("metrics")
        self.assertIn("lead.create", [op["operation"] for op in data["operations"]])
        self.assertEqual(json.loads(self.ok("metrics", "--format", "json")), data)
        self.assertIn("gymdash_operation_latency_seconds", self.ok("--json", "metrics", "--format=prometheus"))



@unittest.skipUnless(CLI, "GYMDASH_CLI is not set")
class WebhookCliTest(unittest.TestCase):
    """gymdash webhook ingest: a saved Retell request, signed here with the current time."""

    setUp = CliTest.setUp
    tearDown = CliTest.tearDown
    run_cli = CliTest.run_cli
    ok = CliTest.ok
    fails = CliTest.fails
    write = CliTest.write

    def signed_body(self, lead_id):
        import hashlib
        import hmac
        import time
        now_ms = int(time.time() * 1000)
        body = json.dumps({"event": "call_ended", "call": {
            "call_id": "cli-retell-1", "call_status": "ended", "to_number": "+12127365801",
            "metadata": {"gym_id": "gym-nyc", "lead_id": lead_id},
            "start_timestamp": now_ms - 60000, "end_timestamp": now_ms - 5000,
            "disconnection_reason": "dial_busy"}})
        stamp = str(now_ms)
        digest = hmac.new(b"key_cli_retell", (body + stamp).encode(), hashlib.sha256).hexdigest()
        return self.write("retell.json", body), "x-retell-signature: v=%s,d=%s" % (stamp, digest)

    def test_webhook_ingest(self):
        self.ok("gyms", "create", "--id", "gym-nyc", "--name", "NYC", "--timezone", "America/New_York")
        lead = json.loads(self.ok("--json", "leads", "add", "--gym", "gym-nyc", "--phone", "(212) 736-5801"))
        lead_id = lead.get("lead", lead)["id"]
        body, header = self.signed_body(lead_id)
        env = {"GYMDASH_TEST_RETELL_KEY": "key_cli_retell"}
        args = ("webhook", "ingest", "--provider", "retell", "--header", header, "--secret-env",
                "GYMDASH_TEST_RETELL_KEY", body)
        summary = json.loads(self.ok(*args, env=env))
        self.assertEqual((summary["events"], summary["applied"], summary["duplicates"]), (1, 1, 0))
        self.assertEqual(summary["results"][0]["event_id"], "retell:cli-retell-1:call_ended")
        self.assertEqual(summary["results"][0]["status"], "busy")
        again = json.loads(self.ok("--json", *args, env=env))
        self.assertEqual((again["applied"], again["duplicates"]), (0, 1))
        self.assertEqual(again["results"][0]["call"]["status"], "busy")
        # The secret from the configuration's voice provider (Retell signs with the API key).
        config = self.write("config.json", {"storage": self.db, "logging": {"sink": "none"}, "voice_providers": {
            "main": {"kind": "retell", "api_key_env": "GYMDASH_TEST_RETELL_KEY"}}})
        status, out, err = self.run_cli("--config", config, "webhook", "ingest", "--provider", "retell",
                                        "--header", header, body, env=env, db=False)
        self.assertEqual((status, err), (0, ""), err)
        self.assertEqual(json.loads(out)["duplicates"], 1)
        # Refused: a wrong key, no signature; a usage error for a bad header or provider.
        self.assertIn("signature", self.fails(1, *args, env={"GYMDASH_TEST_RETELL_KEY": "other"}))
        self.assertIn("signature", self.fails(1, "webhook", "ingest", "--provider", "retell", "--secret-env",
                                              "GYMDASH_TEST_RETELL_KEY", body, env=env))
        self.assertIn("secret", self.fails(1, "webhook", "ingest", "--provider", "retell", "--header", header, body))
        self.assertIn("--header", self.fails(2, "webhook", "ingest", "--provider", "retell", "--header", "nocolon",
                                             body))
        self.assertIn("--provider", self.fails(2, "webhook", "ingest", "--provider", "skype", body))
        self.assertIn("missing FILE", self.fails(2, "webhook", "ingest", "--provider", "retell"))



@unittest.skipUnless(CLI, "GYMDASH_CLI is not set")
class RecordingsCliTest(unittest.TestCase):
    """gymdash calls purge-expired and leads purge-recordings."""

    setUp = CliTest.setUp
    tearDown = CliTest.tearDown
    run_cli = CliTest.run_cli
    ok = CliTest.ok
    ok_json = CliTest.ok_json
    fails = CliTest.fails
    write = CliTest.write

    def test_purges(self):
        self.ok("gyms", "create", "--id", "gym-rec", "--name", "Rec", "--timezone", "America/New_York")
        lead = self.ok_json("leads", "add", "--gym", "gym-rec", "--phone", "(212) 736-6201")["lead"]["id"]
        events = self.write("calls.jsonl", json.dumps({
            "event_id": "E1", "call_id": "C1", "gym_id": "gym-rec", "lead_id": lead,
            "started_at": "2020-01-01T10:00:00Z", "status": "completed", "answered_by": "human",
            "recording_url": "https://rec.example/C1.wav"}) + "\n")
        self.ok("calls", "ingest", events)
        report = self.ok_json("calls", "purge-expired", "--at", "2020-01-15T00:00:00Z")
        self.assertEqual((report["calls"], report["gyms"][0]["retention_days"]), (0, 90))
        self.assertIn("1 call purged", self.ok("calls", "purge-expired"))
        self.assertEqual(self.ok_json("calls", "get", "--gym", "gym-rec", "--call", "C1")["recording_url"], "")
        self.assertIn("0 calls of lead", self.ok("leads", "purge-recordings", "--gym", "gym-rec", "--lead", lead,
                                                 "--reason", "asked by phone"))
        self.assertIn("ld_nope", self.fails(1, "leads", "purge-recordings", "--gym", "gym-rec", "--lead", "ld_nope"))
        self.assertIn("--at", self.fails(1, "calls", "purge-expired", "--at", "soon"))

    def test_erase(self):
        self.ok("gyms", "create", "--id", "gym-rec", "--name", "Rec", "--timezone", "America/New_York")
        lead = self.ok_json("leads", "add", "--gym", "gym-rec", "--phone", "(212) 736-6202",
                            "--first", "Ana")["lead"]["id"]
        events = self.write("calls.jsonl", json.dumps({
            "event_id": "E1", "call_id": "C1", "gym_id": "gym-rec", "lead_id": lead,
            "started_at": "2020-01-01T10:00:00Z", "status": "completed", "answered_by": "human",
            "recording_url": "https://rec.example/C1.wav"}) + "\n")
        self.ok("calls", "ingest", events)
        self.assertIn("reason", self.fails(1, "leads", "erase", "--gym", "gym-rec", "--lead", lead,
                                           "--reason", "Ana called"))
        self.assertIn("actor", self.fails(1, "leads", "erase", "--gym", "gym-rec", "--lead", lead,
                                          "--actor", "dpo@gym.example"))
        self.assertIn("ld_nope", self.fails(1, "leads", "erase", "--gym", "gym-rec", "--lead", "ld_nope"))
        self.assertIn("erased: 1 call", self.ok("leads", "erase", "--gym", "gym-rec", "--lead", lead,
                                               "--actor", "dpo", "--reason", "request"))
        self.assertIn(lead, self.fails(1, "leads", "get", "--gym", "gym-rec", "--lead", lead))
        entries = self.ok_json("leads", "erasures", "--gym", "gym-rec")
        self.assertEqual([(e["lead_id"], e["actor"], e["removed"]["calls"]) for e in entries], [(lead, "dpo", 1)])
        self.assertNotIn("7366202", json.dumps(entries))
        self.assertIn("dpo", self.ok("leads", "erasures", "--gym", "gym-rec"))


@unittest.skipUnless(CLI, "GYMDASH_CLI is not set")
class CampaignCliTest(unittest.TestCase):
    """gymdash campaign …, dial and simulate, with a simulated voice provider from --config."""

    setUp = CliTest.setUp
    tearDown = CliTest.tearDown
    run_cli = CliTest.run_cli
    ok = CliTest.ok
    ok_json = CliTest.ok_json
    fails = CliTest.fails
    write = CliTest.write

    def config(self):
        return self.write("campaigns.json", {
            "storage": self.db, "logging": {"sink": "none"},
            "voice_providers": {"sim": {"kind": "simulated", "options": {
                "seed": 7, "time": "virtual", "answer_rate": 0.6, "voicemail_rate": 0.2}}}})

    def cli(self, *args):
        return self.ok_json("--config", self.config(), *args)

    def fixture(self):
        """A gym with a caller id and three consenting leads tagged winter; returns the campaign id."""
        cfg = self.config()
        self.ok("--config", cfg, "gyms", "create", "--id", "gym-nyc", "--name", "NYC", "--timezone",
                "America/New_York", "--caller-ids", "(212) 736-5000")
        rows = ["external_id,gym_id,first_name,last_name,phone,email,source,created_at,interest,timeline,consent,tags"]
        for i in range(1, 4):
            rows.append("W%d,gym-nyc,Ana,L%d,(212) 736-58%02d,,web_form,2026-10-13T12:21:44Z,,,yes,winter" % (i, i, i))
        self.ok("--config", cfg, "leads", "import", self.write("winter.csv", "\n".join(rows) + "\n"))
        cmp = self.cli("campaign", "create", "--gym", "gym-nyc", "--name", "Winter push", "--provider", "sim",
                       "--tags", "winter", "--days", "mon,tue,wed,thu,fri,sat,sun", "--max-concurrent", "2")
        self.assertEqual(cmp["state"], "draft")
        self.assertEqual(cmp["pacing"]["max_concurrent"], 2)
        self.assertEqual(cmp["target"]["tags"], ["winter"])
        return cmp["id"]

    def test_campaign_flow(self):
        cmp = self.fixture()
        ids = ("--gym", "gym-nyc", "--campaign", cmp)
        self.assertEqual(self.cli("campaign", "get", *ids)["name"], "Winter push")
        self.assertEqual(self.cli("campaign", "list", "--gym", "gym-nyc")["total"], 1)
        self.assertEqual(self.cli("campaign", "list", "--gym", "gym-nyc", "--state", "active")["total"], 0)
        updated = self.cli("campaign", "update", *ids, "--calls-per-day", "40")
        self.assertEqual((updated["pacing"]["calls_per_day"], updated["pacing"]["max_concurrent"]), (40, 2))
        self.assertEqual(self.cli("campaign", "enrol", *ids), {"enrolled": 3, "already_enrolled": 0})
        self.assertEqual(self.cli("campaign", "start", *ids)["state"], "active")
        self.assertEqual(self.cli("campaign", "pause", *ids)["state"], "paused")
        self.assertEqual(self.cli("campaign", "resume", *ids)["state"], "active")

        forecast = json.loads(self.ok("--config", self.config(), "simulate", *ids, "--days", "2"))
        self.assertEqual((forecast["campaign_id"], forecast["target_leads"]), (cmp, 3))
        for key in ("calls", "connected", "cost_usd", "reached_leads", "done_leads", "by_day", "from", "to"):
            self.assertIn(key, forecast)
        self.assertLessEqual(len(forecast["by_day"]), 3)

        summary = json.loads(self.ok("--config", self.config(), "dial", *ids))
        self.assertEqual((summary["mode"], summary["campaign_id"], summary["ticks"]), ("tick", cmp, 1))
        self.assertEqual(summary["placed"], len(summary["calls"]))
        self.assertEqual(summary["performance"]["enrolled"], 3)
        self.assertIsNotNone(summary["campaign"])  # the dialer saw the active campaign
        run = json.loads(self.ok("--config", self.config(), "dial", "--campaign", cmp, "--for", "300ms"))  # its gym
        self.assertEqual(run["mode"], "run")
        self.assertFalse(run["dialer"]["running"])

        status = self.cli("campaign", "status", *ids)
        self.assertEqual(status["performance"]["state"], "active")
        self.assertIsNone(status["dialer"])
        self.assertIn("never_called", self.ok("--config", self.config(), "campaign", "status", *ids))
        self.assertEqual(self.cli("campaign", "complete", *ids)["state"], "completed")
        self.assertIn("deleted", self.ok("--config", self.config(), "campaign", "delete", *ids))

    def test_bad_input_names_the_field(self):
        cmp = self.fixture()
        cfg = self.config()
        ids = ("--gym", "gym-nyc", "--campaign", cmp)
        err = self.fails(1, "--config", cfg, "campaign", "create", "--gym", "gym-nyc", "--name", "x",
                         "--provider", "sim", "--max-concurrent", "0")
        self.assertIn("--max-concurrent (pacing.max_concurrent)", err)
        err = self.fails(1, "--config", cfg, "campaign", "create", "--gym", "gym-nyc", "--name", "x",
                         "--provider", "sim", "--calls-per-second", "0")
        self.assertIn("pacing.calls_per_second", err)
        self.assertIn("voice_provider", self.fails(1, "--config", cfg, "campaign", "create", "--gym", "gym-nyc",
                                                   "--name", "x", "--provider", "nope"))
        self.assertIn("colour", self.fails(1, "--config", cfg, "campaign", "create", "--gym", "gym-nyc",
                                           "--spec", '{"name":"x","voice_provider":"sim","colour":1}'))
        err = self.fails(1, "--config", cfg, "campaign", "list", "--gym", "gym-nyc", "--state", "running")
        self.assertIn('--state: "running" is not a campaign state', err)
        self.assertIn("--statuses (target.statuses[0])",
                      self.fails(1, "--config", cfg, "campaign", "enrol", *ids, "--statuses", "bogus"))
        self.assertIn("not active", self.fails(1, "--config", cfg, "dial", *ids))
        self.assertIn("paused", self.fails(1, "--config", cfg, "campaign", "pause", *ids))  # a draft: conflict
        self.assertIn("not paused", self.fails(1, "--config", cfg, "campaign", "resume", *ids))
        self.assertIn("--days", self.fails(2, "--config", cfg, "simulate", *ids, "--days", "0"))
        self.assertIn("--for", self.fails(2, "--config", cfg, "dial", *ids, "--for", "5x"))
        self.assertIn("--max-concurrent", self.fails(2, "--config", cfg, "campaign", "create", "--gym", "gym-nyc",
                                                     "--name", "x", "--provider", "sim", "--max-concurrent", "many"))
        self.assertIn("--campaign", self.fails(2, "--config", cfg, "campaign", "get", "--gym", "gym-nyc"))
        self.assertIn("cmp_nope", self.fails(1, "--config", cfg, "simulate", "--gym", "gym-nyc",
                                             "--campaign", "cmp_nope"))
        self.assertIn("not found in any gym", self.fails(1, "--config", cfg, "simulate", "--campaign", "cmp_nope"))
        self.assertIn("campaign commands:", self.fails(2, "campaign", "frobnicate"))


if __name__ == "__main__":
    unittest.main()
