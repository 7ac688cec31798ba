"""Tenant isolation through the Python package (docs/hardening.md, "Tenant isolation").

A property test: gyms A and B, B's leads sharing numbers and external ids with
A's, B with calls, recordings, campaigns, enrolments, its own do-not-call list
and an erased lead; then a few hundred random calls of the package with gym
A's id, among them calls that pass B's lead, call and campaign ids, numbers,
external ids and event ids. Checked after each: a call naming one of B's ids
under A raises NotFoundError; whatever is returned for A names gym A only
(every ``gym_id`` and ``scope`` in it) and holds none of B's ids or texts
(each of B's texts carries a marker); and every 25 calls and at the end, a
snapshot of everything B holds, read through the package, is identical to the
one taken before. Memory and SQLite.

The seed is printed; GYMDASH_PROPERTY_SEED=N replays one:

    GYMDASH_PROPERTY_SEED=N python3 -m unittest -v test_tenant_isolation
"""

import datetime
import io
import json
import os
import random
import tempfile
import unittest

import gymdash

A = "gym-a"
B = "gym-b"
MARKER = "bsecret"
OPERATIONS = 300
SNAPSHOT_EVERY = 25
PHONES = 12
ALLOWED = (gymdash.InvalidArgumentError, gymdash.ConflictError, gymdash.AlreadyExistsError)


def pool_phone(i):
    return "+1212736%04d" % (4000 + i)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def gym_values(value, out):
    """Every value of a ``gym_id`` or ``scope`` member anywhere in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("gym_id", "scope") and isinstance(v, str):
                out.append(v)
            gym_values(v, out)
    elif isinstance(value, list):
        for v in value:
            gym_values(v, out)
    return out


class World:
    def __init__(self, test, storage, seed):
        self.t = test
        self.rng = random.Random(seed)
        self.db = gymdash.Gymdash({"storage": storage, "worker_threads": 1,
                                   "voice_providers": {"sim": {"kind": "simulated"}}},
                                  log_to_python=False, log_level="error")
        self.now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.at = iso(self.now + datetime.timedelta(hours=1))
        self.from_day = (self.now - datetime.timedelta(days=40)).date().isoformat()
        self.to_day = (self.now + datetime.timedelta(days=2)).date().isoformat()
        for gym in (A, B):
            self.db.create_gym(id=gym, name=gym, timezone="America/New_York", region="US")
        self.b_leads, self.b_calls, self.b_campaigns, self.b_events, self.b_ext_only = [], [], [], [], []
        self.a_used_b_events = set()  # B's event ids A has applied events under
        self.a_campaigns = []
        self.a_dnc = set()
        self.counter = 0
        self.seed_b()
        self.seed_a()

    def close(self):
        self.db.close()

    # ---- setup ---------------------------------------------------------------

    def event(self, gym, lead_key, lead, event_id, call_id, started, outcome, text, campaign=None):
        e = {"event_id": event_id, "call_id": call_id, "gym_id": gym, lead_key: lead, "to": "+12127364000",
             "started_at": iso(started), "ended_at": iso(started + datetime.timedelta(minutes=2)),
             "status": "completed", "cost_usd": 0.25, "recording_consent": True,
             "recording_url": "https://recordings.example.test/%s/%s.wav" % (text, call_id),
             "transcript": "agent: hello " + text, "summary": "summary " + text}
        if outcome == "voicemail":
            e["answered_by"] = "machine"
        else:
            e.update(answered_by="human", duration_s=120, outcome=outcome)
            if outcome == "callback_requested":
                e["callback_at"] = iso(started + datetime.timedelta(days=1))
        if campaign:
            e["campaign_id"] = campaign
        return e

    def seed_b(self):
        db = self.db
        for i in range(8):
            ext = "ext-%d" % i if i < 4 else "ext-bsecret-%d" % i
            lead = db.create_lead(B, phone=pool_phone(i), external_id=ext, first_name="Bsecret",
                                  last_name="Bsecret%d" % i, email="b%d@bsecret.example" % i,
                                  source="bsecret_source", notes="bsecret notes", tags=["bsecret-vip"],
                                  custom_fields={"bsecret_key": "bsecret"},
                                  consent={"given": True, "method": "web_form", "source": "bsecret form"},
                                  created_at=iso(self.now - datetime.timedelta(days=i + 1)),
                                  actor="bsecret-actor")["lead"]
            self.b_leads.append(lead["id"])
            if i >= 4:
                self.b_ext_only.append(ext)
        db.add_note(B, self.b_leads[0], "bsecret note", actor="bsecret-actor")
        db.add_tags(B, self.b_leads[1], ["bsecret-gold"])
        db.change_status(B, self.b_leads[2], "contacted", actor="bsecret-actor")
        outcomes = ["interested", "voicemail", "trial_booked", "do_not_call", "callback_requested", "interested"]
        for i, outcome in enumerate(outcomes):
            r = db.process_call_event(self.event(B, "lead_id", self.b_leads[i], "ev-b-%d" % i, "pc-%d" % i,
                                                 self.now - datetime.timedelta(hours=2 + i), outcome, MARKER))
            self.b_events.append("ev-b-%d" % i)
            self.b_calls.append(r["call"]["id"])
        for c in range(2):
            cmp = db.campaign_create(B, name="bsecret campaign %d" % c, description="bsecret", voice_provider="sim")
            self.b_campaigns.append(cmp["id"])
            db.campaign_enrol(B, cmp["id"], lead_ids=[self.b_leads[0], self.b_leads[1], self.b_leads[5]])
        db.campaign_set_state(B, self.b_campaigns[0], "active")
        db.campaign_set_state(B, self.b_campaigns[0], "paused")
        r = db.process_call_event(self.event(B, "lead_id", self.b_leads[5], "ev-b-cmp", "pc-cmp",
                                             self.now - datetime.timedelta(minutes=30), "interested", MARKER,
                                             self.b_campaigns[0]))
        self.b_events.append("ev-b-cmp")
        self.b_calls.append(r["call"]["id"])
        for i in (1, 9):
            db.dnc_add(B, pool_phone(i), reason="bsecret reason", source="bsecret source")
        gone = db.create_lead(B, phone="+12127364999", first_name="Bsecret")["lead"]["id"]
        db.erase_lead(B, gone, actor="dpo-7", reason="request 4411")
        self.b_leads.append(gone)
        self.forbidden = {B, MARKER, *self.b_leads, *self.b_calls, *self.b_campaigns, *self.b_ext_only}

    def seed_a(self):
        for i in (0, 1, 2, 3, 8, 9, 10, 11):
            fields = dict(phone=pool_phone(i), first_name="Ann", email="a%d@a.example" % i,
                          consent={"given": True, "method": "web_form"})
            if i < 4:
                fields["external_id"] = "ext-%d" % i
            self.db.create_lead(A, **fields)
        self.a_campaigns.append(self.db.campaign_create(A, name="A spring", voice_provider="sim")["id"])

    # ---- B's data --------------------------------------------------------------

    def snapshot_b(self):
        db = self.db
        s = {"gym": db.get_gym(B)}
        leads = db.list_leads(B, page_size=1000)
        s["leads"] = leads
        s["per_lead"] = [{"lead": db.get_lead(B, l["id"]), "history": db.history(B, l["id"]),
                          "calls": db.lead_calls(B, l["id"]), "explain": db.explain(B, l["id"], at=self.at)}
                         for l in leads["items"]]
        calls = db.list_calls(B, page_size=1000)
        s["calls"] = calls
        s["calls_by_id"] = [[db.get_call(B, c["id"]), db.get_call(B, c["provider_call_id"])] for c in calls["items"]]
        s["campaigns"] = db.campaign_list(B, page_size=1000)
        s["campaign_figures"] = [[db.campaign_get(B, c), db.campaign_performance(B, c),
                                  db.report(B, campaign_id=c, from_date=self.from_day, to_date=self.to_day)]
                                 for c in self.b_campaigns]
        s["dnc"] = db.dnc_list(B, limit=1000)
        s["dnc_checks"] = [db.dnc_check(B, pool_phone(i)) for i in range(PHONES)]
        s["erasures"] = db.lead_erasures(B, limit=1000)
        s["next"] = db.next_leads(B, 100, at=self.at)
        s["report"] = db.report(B, from_date=self.from_day, to_date=self.to_day)
        s["report_csv"] = db.report_csv(B, from_date=self.from_day, to_date=self.to_day)
        return json.dumps(s, sort_keys=True)

    # ---- checks ----------------------------------------------------------------

    def mine(self, what, value):
        """A result for gym A: gym A's alone, nothing of B's."""
        for gym in gym_values(value, []):
            self.t.assertEqual(gym, A, "%s: a result for gym A names %s" % (what, gym))
        text = value if isinstance(value, str) else json.dumps(value)
        for token in self.forbidden:
            self.t.assertNotIn(token, text, "%s: a result for gym A holds gym B's %s" % (what, token))
        return value

    def not_found(self, what, fn, *args, **kwargs):
        with self.t.assertRaises(gymdash.NotFoundError, msg=what):
            fn(*args, **kwargs)

    def allowed(self, what, fn, *args, **kwargs):
        try:
            return self.mine(what, fn(*args, **kwargs))
        except ALLOWED:
            return None

    def a_leads(self):
        return [l["id"] for l in self.db.list_leads(A, page_size=1000)["items"]]

    def a_lead(self):
        return self.rng.choice(self.a_leads())

    # ---- one random call with gym A's scope ---------------------------------------

    def step(self):
        db, rng = self.db, self.rng
        op = rng.randrange(24)
        b_lead = rng.choice(self.b_leads)
        b_call = rng.choice(self.b_calls)
        b_campaign = rng.choice(self.b_campaigns)
        self.counter += 1
        n = self.counter
        if op == 0:
            fields = dict(phone=pool_phone(rng.randrange(PHONES)), first_name="Ann", email="n%d@a.example" % n)
            if rng.random() < 0.5:
                fields["external_id"] = "ext-%d" % rng.randrange(4)
            self.allowed("create_lead", db.create_lead, A, **fields)
        elif op == 1:
            self.mine("get_lead", db.get_lead(A, self.a_lead()))
            self.not_found("get_lead", db.get_lead, A, b_lead)
        elif op == 2:
            patch = {"phone": pool_phone(rng.randrange(PHONES)), "notes": "a"}
            self.not_found("update_lead", db.update_lead, A, b_lead, patch)
            self.allowed("update_lead", db.update_lead, A, self.a_lead(), patch)
        elif op == 3:
            which = rng.randrange(5)
            if which == 0:
                self.not_found("add_tags", db.add_tags, A, b_lead, ["x"])
            elif which == 1:
                self.not_found("remove_tags", db.remove_tags, A, b_lead, ["bsecret-vip"])
            elif which == 2:
                self.not_found("add_note", db.add_note, A, b_lead, "x")
            elif which == 3:
                self.not_found("change_status", db.change_status, A, b_lead, "lost", reason="x", force=True)
            else:
                self.not_found("history", db.history, A, b_lead)
        elif op == 4:
            lead = self.a_lead()
            self.allowed("add_tags", db.add_tags, A, lead, ["spring"])
            self.allowed("add_note", db.add_note, A, lead, "a note")
            self.allowed("change_status", db.change_status, A, lead,
                         rng.choice(["new", "contacted", "qualified", "trial_booked", "converted", "lost"]),
                         reason="r", force=rng.random() < 0.5)
            self.mine("history", db.history(A, lead))
        elif op == 5:
            which = rng.randrange(5)
            criteria = [{"search": "Bsecret"}, {"search": "bsecret.example"}, {"tags": ["bsecret-vip"]},
                        {"source": "bsecret_source"},
                        {"search": pool_phone(rng.randrange(8))[2:]}][which]
            page = self.mine("list_leads", db.list_leads(A, page_size=1000, **criteria))
            if which < 4:
                self.t.assertEqual(page["total"], 0)
        elif op == 6:
            self.mine("next_leads", db.next_leads(A, 50, exclude=[b_lead], at=self.at))
            self.not_found("explain", db.explain, A, b_lead, at=self.at)
            self.mine("explain", db.explain(A, self.a_lead(), at=self.at))
        elif op == 7:
            rows = "".join("%s,%s,Imported,%s\n" % (A, pool_phone(rng.randrange(PHONES)),
                                                     "ext-%d" % rng.randrange(4) if rng.random() < 0.5 else "")
                           for _ in range(3))
            report = self.mine("import", db.import_leads(io.StringIO("gym_id,phone,first_name,external_id\n" + rows)))
            self.t.assertEqual(report["rejected"], 0)
        elif op == 8:
            if rng.random() < 0.5:
                self.not_found("erase_lead", db.erase_lead, A, b_lead, actor="a-dpo", reason="request")
            else:
                self.not_found("delete_lead", db.delete_lead, A, b_lead)
            self.not_found("after_call", db.after_call, A, b_lead, call_id="x-%d" % n,
                           started_at=iso(self.now - datetime.timedelta(minutes=10)), status="completed",
                           answered_by="human", outcome="not_interested")
        elif op == 9:
            ids = self.a_leads()
            if len(ids) >= 6 and rng.random() < 0.3:
                self.allowed("erase A's lead", db.erase_lead, A, rng.choice(ids), actor="a-dpo", reason="request")
                self.mine("erasures", db.lead_erasures(A, limit=1000))
        elif op == 10:
            phone = pool_phone(rng.randrange(PHONES))
            if rng.random() < 0.6:
                self.mine("dnc_add", db.dnc_add(A, phone, reason="asked", source="api"))
                self.a_dnc.add(phone)
            else:
                self.t.assertEqual(db.dnc_remove(A, phone, actor="a-user", reason="mistake"), phone in self.a_dnc)
                self.a_dnc.discard(phone)
            listed = self.mine("dnc_list", db.dnc_list(A, limit=1000))
            self.t.assertEqual({e["phone"] for e in listed}, self.a_dnc)
        elif op == 11:
            phone = pool_phone(rng.randrange(PHONES))
            check = self.mine("dnc_check", db.dnc_check(A, phone))
            self.t.assertEqual(check["gym_listed"], phone in self.a_dnc)
            self.t.assertFalse(check["global_listed"])
            a_dnc_lead = any(l["phone"] == phone and l["do_not_call"]
                             for l in db.list_leads(A, page_size=1000)["items"])
            self.t.assertEqual(check["lead_do_not_call"], a_dnc_lead)
        elif op in (12, 13, 14):
            reuse = rng.random() < 0.1
            event_id = rng.choice(self.b_events) if reuse else "ev-a-%d" % n
            call_id = "pc-%d" % rng.randrange(6) if rng.random() < 0.5 else "pa-%d" % rng.randrange(20)
            campaign = None
            if rng.random() < 0.2:
                campaign = b_campaign if rng.random() < 0.5 else rng.choice(self.a_campaigns)
                # A campaign id in an event is the host's label of the call: once A's
                # call carries B's campaign id, that text is A's data too.
                self.forbidden.discard(campaign)
            lead = self.a_lead()
            by_external = rng.random() < 0.3
            if by_external:
                external = db.get_lead(A, lead)["external_id"]
                by_external = bool(external)
            ev = self.event(A, "lead_external_id" if by_external else "lead_id", external if by_external else lead,
                            event_id, call_id, self.now - datetime.timedelta(minutes=5 + rng.randrange(600)),
                            rng.choice(["interested", "voicemail", "do_not_call", "callback_requested",
                                        "not_interested"]), "gym a", campaign)
            # Event ids are unique per gym (docs/calls.md): one of B's is A's own under A,
            # applied the first time A uses it.
            reuse_b = reuse
            reuse = reuse and event_id in self.a_used_b_events
            if reuse:
                # After that it is a duplicate, applies nothing, and answers with A's call of
                # that call id or an empty call (gym_id ""), never B's.
                r = db.process_call_event(ev)
                self.t.assertEqual(r["result"], "duplicate")
                self.t.assertIn(r["call"]["gym_id"], (A, ""))
                self.mine("duplicate", json.dumps(r).replace('"gym_id": ""', ""))
                return
            r = self.allowed("process_event", db.process_call_event, ev)
            if r is not None:
                self.t.assertEqual(r["result"], "duplicate" if reuse else "applied")
                if reuse_b:
                    self.a_used_b_events.add(event_id)
                if not reuse and by_external:
                    # Several of A's leads may share an external id: the call is one of them.
                    self.t.assertEqual(db.get_lead(A, r["call"]["lead_id"])["external_id"], external)
                elif not reuse:
                    self.t.assertEqual(r["call"]["lead_id"], lead)
        elif op == 15:
            by_id = rng.random() < 0.5
            ev = self.event(A, "lead_id" if by_id else "lead_external_id",
                            b_lead if by_id else rng.choice(self.b_ext_only), "ev-a-%d" % n,
                            "pc-%d" % rng.randrange(6) if rng.random() < 0.5 else "pa-x",
                            self.now - datetime.timedelta(minutes=5), "interested", "gym a")
            self.not_found("process_event with B's lead", db.process_call_event, ev)
        elif op == 16:
            self.not_found("get_call", db.get_call, A, b_call)
            self.not_found("get_call by B's provider id", db.get_call, A, "pc-cmp")
            self.not_found("lead_calls", db.lead_calls, A, b_lead)
            self.t.assertEqual(db.list_calls(A, lead_id=b_lead)["total"], 0)
            page = self.mine("list_calls", db.list_calls(A, page_size=1000))
            for c in page["items"]:
                self.mine("get_call", db.get_call(A, c["id"]))
        elif op == 17:
            self.not_found("purge_lead_recordings", db.purge_lead_recordings, A, b_lead, actor="a-user")
            self.allowed("purge A's", db.purge_lead_recordings, A, self.a_lead(), actor="a-user")
        elif op == 18:
            cmp = self.mine("campaign_create", db.campaign_create(A, name="A campaign %d" % n, voice_provider="sim"))
            self.a_campaigns.append(cmp["id"])
            page = self.mine("campaign_list", db.campaign_list(A, page_size=1000))
            self.t.assertEqual(page["total"], len(self.a_campaigns))
        elif op == 19:
            which = rng.randrange(8)
            if which == 0:
                self.not_found("campaign_get", db.campaign_get, A, b_campaign)
            elif which == 1:
                self.not_found("set_state", db.campaign_set_state, A, b_campaign, "active")
            elif which == 2:
                self.not_found("enrol", db.campaign_enrol, A, b_campaign, lead_ids=[self.a_lead()])
            elif which == 3:
                self.not_found("enrol by filter", db.campaign_enrol, A, b_campaign)
            elif which == 4:
                self.not_found("performance", db.campaign_performance, A, b_campaign)
            elif which == 5:
                self.not_found("update", db.campaign_update, A, b_campaign, name="taken")
            elif which == 6:
                self.not_found("delete", db.campaign_delete, A, b_campaign)
            else:
                self.not_found("remove_leads", db.campaign_remove_leads, A, b_campaign, [b_lead])
        elif op == 20:
            cmp = rng.choice(self.a_campaigns)
            before = db.campaign_performance(A, cmp)
            ids = [self.a_lead(), b_lead]
            rng.shuffle(ids)
            self.not_found("enrol B's lead", db.campaign_enrol, A, cmp, lead_ids=ids)
            self.t.assertEqual(db.campaign_performance(A, cmp), before)
            self.t.assertEqual(db.campaign_remove_leads(A, cmp, [b_lead]), 0)
        elif op == 21:
            cmp = rng.choice(self.a_campaigns)
            which = rng.randrange(3)
            if which == 0:
                self.allowed("enrol filter", db.campaign_enrol, A, cmp)
            elif which == 1:
                self.allowed("set_state", db.campaign_set_state, A, cmp, "active" if rng.random() < 0.6 else "paused")
            else:
                self.allowed("enrol", db.campaign_enrol, A, cmp, lead_ids=[self.a_lead()])
            self.mine("campaign_get", db.campaign_get(A, cmp))
            self.mine("performance", db.campaign_performance(A, cmp))
        elif op == 22:
            self.mine("report", db.report(A, from_date=self.from_day, to_date=self.to_day))
            self.mine("report_csv", db.report_csv(A, from_date=self.from_day, to_date=self.to_day))
            if rng.random() < 0.3:  # rebuilding A's rollups leaves B's alone
                self.t.assertEqual(db.rebuild_analytics(A)["gyms"], 1)
        else:
            self.not_found("route_outbound", db.route_outbound, A, b_lead)
            self.mine("route_inbound", db.route_inbound(A, pool_phone(4 + rng.randrange(4)), at=self.at))


def property_seed():
    text = os.environ.get("GYMDASH_PROPERTY_SEED", "")
    return int(text) if text else random.SystemRandom().randrange(2 ** 63)


class TenantIsolationTest(unittest.TestCase):
    def run_on(self, name, storage, seed):
        w = World(self, storage, seed)
        try:
            before = w.snapshot_b()
            self.assertIn(MARKER, before)
            self.assertIn(w.b_calls[0], before)
            for i in range(1, OPERATIONS + 1):
                with self.subTest(backend=name, operation=i, seed=seed):
                    w.step()
                if i % SNAPSHOT_EVERY == 0 or i == OPERATIONS:
                    now = w.snapshot_b()
                    if now != before:
                        at = next((k for k in range(min(len(now), len(before))) if now[k] != before[k]), 0)
                        self.fail("gym B's data changed after operation %d (seed %d); before: ...%s\nnow: ...%s"
                                  % (i, seed, before[max(0, at - 300):at + 400], now[max(0, at - 300):at + 400]))
        finally:
            w.close()

    def test_random_operations_of_gym_a_never_touch_gym_b(self):
        seed = property_seed()
        print("test_tenant_isolation: GYMDASH_PROPERTY_SEED=%d" % seed, flush=True)
        self.run_on("memory", "memory:", seed)
        with tempfile.TemporaryDirectory(dir=os.environ.get("GYMDASH_TEST_TMP")) as tmp:
            self.run_on("sqlite", "sqlite:" + os.path.join(tmp, "tenant.db"), seed)


if __name__ == "__main__":
    unittest.main()
