#!/usr/bin/env python3
"""quickstart.py — gymdash from Python, through the ctypes package.

    PYTHONPATH=capi/python GYMDASH_LIBRARY=build/capi/libgymdash_c.so \\
        python3 examples/quickstart.py [DB_PATH]

Opens (or creates) an SQLite database, creates a gym, adds leads typed the way
people type phone numbers, lists them, tags one, moves its status and prints
what the library returns. Without DB_PATH it uses a temporary file. Running it
twice on the same file works: the gym is found and the leads merge.
"""

import json
import os
import sys
import tempfile

import gymdash


def show(title, value):
    """Prints a result as indented JSON."""
    print("%s:\n%s" % (title, json.dumps(value, indent=2, ensure_ascii=False)))


def main(argv):
    """Runs the story; returns the process exit status."""
    tmpdir = None
    if len(argv) > 1:
        path = argv[1]
    else:
        tmpdir = tempfile.TemporaryDirectory(prefix="gymdash-quickstart-")
        path = os.path.join(tmpdir.name, "gym.db")
    print("gymdash %s (%s), database %s" % (gymdash.version(), gymdash.library_path, path))

    with gymdash.Gymdash("sqlite:" + path, worker_threads=1) as db:
        try:
            gym = db.create_gym(id="gym-nyc-01", name="Iron Temple Midtown", timezone="America/New_York",
                                region="US", state="NY", call_hours={"start": "09:00", "end": "20:00"},
                                caller_ids=["(212) 736-5001"])
        except gymdash.AlreadyExistsError:
            gym = db.get_gym("gym-nyc-01")
        show("gym", gym)

        # Leads as they arrive from web forms and ads; phones are read in the gym's region.
        ana = db.create_lead(gym["id"], {"phone": "(212) 736-5000", "first_name": "Ana", "last_name": "Lopez",
                                         "source": "web_form", "timeline": "asap",
                                         "consent": {"given": True, "method": "web_form"}})["lead"]
        db.create_lead(gym["id"], phone="646.736.1000", first_name="Ben", source="facebook_ads",
                       timeline="this month", consent=True)
        db.create_lead(gym["id"], phone="+1 718 555 0199", first_name="Chloe", source="instagram",
                       consent=True, tags=["Spanish"])
        # Ana again, typed differently: merged into her lead.
        again = db.create_lead(gym["id"], phone="1-212-736-5000", email="ana@example.com", interest="boxing classes")
        assert again["merged"] and again["lead"]["id"] == ana["id"]
        print("merged %s into %s (%s)" % ("1-212-736-5000", again["lead"]["id"], again["lead"]["phone"]))

        try:
            db.create_lead(gym["id"], phone="555-12")
        except gymdash.InvalidArgumentError as e:
            print("invalid phone refused: %s" % e)

        page = db.list_leads(gym["id"])
        print("%d leads, newest first:" % page["total"])
        for lead in page["items"]:
            print("  %-6s %-13s %-13s %s" % (lead["first_name"], lead["phone"], lead["source"], lead["status"]))
        show("facebook_ads only", db.list_leads(gym["id"], source="facebook_ads", page_size=10)["items"])

        db.add_tags(gym["id"], ana["id"], ["VIP", "morning"])
        db.add_note(gym["id"], ana["id"], "Wants a trial on Saturday morning.")
        lead = db.change_status(gym["id"], ana["id"], "trial_booked", actor="front-desk", reason="booked by phone")
        print("Ana: status %s, tags %s" % (lead["status"], ", ".join(lead["tags"])))
        show("history", db.history(gym["id"], ana["id"]))

    if tmpdir is not None:
        tmpdir.cleanup()
    print("quickstart.py: done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
