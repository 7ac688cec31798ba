"""gymdash for Python: gyms, leads, statuses and history, CSV imports, who to
call and the do-not-call lists, over the C ABI.

A thin ctypes layer over libgymdash_c (see docs/c-api.md). Requests and
results are plain dicts and lists, in the JSON shapes of the C++ model; every
failure raises a :class:`GymdashError` subclass whose message names the
offending argument, field or id.

Operations (docs/operations.md): a :class:`Gymdash` is opened from a storage
URI, a configuration dict or a configuration file; its log records go to the
standard :mod:`logging` module (logger ``"gymdash"``, the structured record in
``extra={"gymdash": {...}}``); :meth:`Gymdash.metrics` exports its metrics;
:func:`config_check` and :func:`config_defaults` read configurations without
opening anything.

    >>> import gymdash
    >>> with gymdash.Gymdash("memory:") as db:
    ...     gym = db.create_gym(id="gym-nyc", name="NYC", timezone="America/New_York")
    ...     lead = db.create_lead("gym-nyc", {"phone": "(212) 736-5000"})["lead"]
    ...     lead["phone"]
    '+12127365000'

The library is found through $GYMDASH_LIBRARY (a full path), then next to this
package, then in the install prefix's lib directory, then by the system's
dynamic linker.

Thread safety: one :class:`Gymdash` may be used from several threads at once;
close it only after the other threads are done with it.
"""

import ctypes
import datetime
import json
import logging
import os
import threading

from . import _ffi
from .errors import (
    AlreadyExistsError,
    ComplianceBlockedError,
    ConflictError,
    GymdashError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    StorageError,
    UnavailableError,
    error_for_code,
)

__all__ = [
    "Gymdash",
    "config_check",
    "config_defaults",
    "LOG_LEVELS",
    "TRACE",
    "version",
    "version_info",
    "error_name",
    "library_path",
    "GymdashError",
    "NotFoundError",
    "InvalidArgumentError",
    "AlreadyExistsError",
    "ConflictError",
    "ComplianceBlockedError",
    "RateLimitedError",
    "ProviderError",
    "StorageError",
    "UnavailableError",
    "InternalError",
    "error_for_code",
]

_lib = _ffi.lib

#: Path (or name) of the libgymdash_c that was loaded.
library_path = _ffi.library_path


def version():
    """The version of the loaded library, ``"MAJOR.MINOR.PATCH"``."""
    return _lib.gymdash_version().decode("ascii")


def version_info():
    """The version of the loaded library as a tuple of ints ``(major, minor, patch)``."""
    return (_lib.gymdash_version_major(), _lib.gymdash_version_minor(), _lib.gymdash_version_patch())


def error_name(code):
    """The short stable name of an error code (``-1`` → ``"not_found"``; unknown → ``"unknown"``)."""
    return _lib.gymdash_error_name(int(code)).decode("ascii")


#: The library's log levels by name, as the C ABI numbers them (GYMDASH_LOG_*).
LOG_LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4, "off": 5}

#: The :mod:`logging` level that gymdash's ``trace`` records are logged at (below DEBUG).
TRACE = 5

# The library's level → the logging module's.
_PY_LEVELS = {0: TRACE, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}


def _level_arg(name, level):
    """The C ABI's level int for a name ("debug"), a C level (0–5) or None (unchanged, -1)."""
    if level is None:
        return -1
    if isinstance(level, str):
        key = level.lower()
        if key == "warning":
            key = "warn"
        if key not in LOG_LEVELS:
            raise InvalidArgumentError(-2, "%s: %r is not a log level (trace, debug, info, warn, error, off)"
                                       % (name, level), name)
        return LOG_LEVELS[key]
    if isinstance(level, bool) or not isinstance(level, int):
        raise InvalidArgumentError(-2, "%s: must be a level name or 0–5, not %s" % (name, type(level).__name__), name)
    return level  # the library checks the range


def config_check(doc):
    """Reads a configuration (a dict, or JSON text) without opening anything.

    Returns it as the library understood it, as a dict with every default
    filled in. Raises :class:`InvalidArgumentError` whose message lists every
    error, one per line, each starting with its key path; ``field`` is the
    first path. Environment variables, files and storage are checked only
    when a :class:`Gymdash` opens.
    """
    return _ffi.call_json(_lib.gymdash_config_check, _ffi.encode_json("config_json", doc))


def config_defaults():
    """The default configuration, as a dict (every key; see docs/operations.md)."""
    return _ffi.call_json(_lib.gymdash_config_defaults)


def _record_message(record):
    """A one-line message for a log record: ``lead.get gym=gym-nyc lead=ld_…: ok``."""
    parts = [record.get("op") or "gymdash"]
    for key in ("gym", "lead", "call"):
        if record.get(key):
            parts.append("%s=%s" % (key, record[key]))
    text = "%s: %s" % (" ".join(parts), record.get("msg", ""))
    if record.get("error"):
        text += " [%s]" % record["error"]
    return text


def _log_bridge(logger):
    """A gymdash_log_fn that hands each record to `logger`; it never raises into the library."""

    def on_record(_user, level, _line, record_json):
        try:
            py_level = _PY_LEVELS.get(level, logging.ERROR)
            if not logger.isEnabledFor(py_level):
                return
            record = json.loads(record_json.decode("utf-8", "replace"))
            logger.log(py_level, "%s", _record_message(record), extra={"gymdash": record})
        except Exception:  # pragma: no cover - a broken handler must not break the library's caller
            pass

    return _ffi.LOG_FN(on_record)


def _merge(name, obj, fields):
    """A request dict from a positional dict and/or keyword fields (keywords win)."""
    if obj is None:
        return dict(fields)
    if not fields:
        return obj
    if not isinstance(obj, dict):
        raise InvalidArgumentError(-2, "%s: keyword fields need a dict, not %s" % (name, type(obj).__name__))
    merged = dict(obj)
    merged.update(fields)
    return merged


def _tag_list(tags):
    """A list of tags from a list/tuple/set of strings, or one string."""
    if isinstance(tags, str):
        return [tags]
    return list(tags)


def _tags_body(tags, actor):
    """The tags argument: a list, or {"tags": [...], "actor": ...} when an actor is given."""
    if actor is None:
        return _tag_list(tags)
    return {"tags": _tag_list(tags), "actor": actor}


def _time_arg(name, value):
    """ISO 8601 text for a moment: a str as given, an aware datetime in ISO form, None as None."""
    if value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidArgumentError(-2, "%s: a datetime needs a time zone (tzinfo)" % name, name)
        return value.isoformat()
    raise InvalidArgumentError(-2, "%s: must be an ISO 8601 str or an aware datetime, not %s"
                               % (name, type(value).__name__), name)


def _int_arg(name, value):
    """An int for a C ``int`` parameter (the library checks the range it allows)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(-2, "%s: must be an int, not %s" % (name, type(value).__name__), name)
    if not -2 ** 31 <= value < 2 ** 31:
        raise InvalidArgumentError(-2, "%s: %d is out of range" % (name, value), name)
    return value


def _path_arg(name, path):
    """UTF-8 bytes for a file path (str, bytes or os.PathLike)."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise InvalidArgumentError(-2, "%s: must be a path, not %s" % (name, type(path).__name__), name) from None
    return _ffi.encode_text(name, path)


class _Progress:
    """An import's progress callback: calls ``fn(dict)`` after each committed batch.

    Whatever ``fn`` raises cancels the import and is kept, to be raised again
    once the C call has returned (an exception cannot cross the C frames).
    Returning ``False`` cancels without an exception of its own. The ctypes
    function object lives as long as this object, which the caller keeps
    until the import returns.
    """

    def __init__(self, fn):
        if fn is not None and not callable(fn):
            raise InvalidArgumentError(-2, "progress: must be callable, not %s" % type(fn).__name__, "progress")
        self.fn = fn
        self.error = None
        self.c_fn = _ffi.PROGRESS_FN(self._call) if fn is not None else _ffi.PROGRESS_FN()  # NULL without fn

    def _call(self, _user, progress_json):
        try:
            answer = self.fn(json.loads(progress_json.decode("utf-8")))
            return 1 if answer is False else 0
        except BaseException as e:  # KeyboardInterrupt too: stop the import, raise it afterwards
            self.error = e
            return 1

    def run(self, func, *args):
        """Calls an import function with this callback; re-raises what the callback raised."""
        try:
            result = _ffi.call_json(func, *args, self.c_fn, None)
        except GymdashError as e:
            error, self.error = self.error, None
            if error is None:
                raise
            if hasattr(error, "add_note"):  # Python 3.11+
                error.add_note("gymdash: %s" % e.message)
            raise error from None
        if self.error is not None:  # cannot happen: a raising callback always cancels
            error, self.error = self.error, None
            raise error
        return result


def _open_argument(storage_or_config, worker_threads, quiet):
    """The text for gymdash_open, and the storage it names (for repr).

    A URI stays a URI unless options must be added; a dict (or JSON text of an
    object) is a configuration document. `quiet` sets logging.sink to "none"
    when the configuration names no sink, so that nothing reaches stderr
    before the logging bridge is installed.
    """
    doc = storage_or_config
    if isinstance(doc, str) and doc.lstrip().startswith("{"):
        try:
            doc = json.loads(doc)
        except ValueError:
            return doc, None  # the library names the argument and the byte
    if isinstance(doc, (bytes, bytearray, memoryview)):
        return doc, None  # passed through unchanged; the library validates it
    if doc is None:
        doc = "memory:"
    if isinstance(doc, str):
        if worker_threads is None and not quiet:
            return doc, doc
        doc = {"storage": doc}
    if not isinstance(doc, dict):
        raise InvalidArgumentError(-2, "storage: must be a URI, a configuration dict or None, not %s"
                                   % type(doc).__name__, "storage")
    doc = dict(doc)
    if worker_threads is not None:
        doc["worker_threads"] = worker_threads
    if quiet:
        section = doc.get("logging", {})
        if isinstance(section, dict) and "sink" not in section:
            doc["logging"] = dict(section, sink="none")
    storage = doc.get("storage", "sqlite:gymdash.db")
    return _ffi.encode_json("storage", doc), storage


class Gymdash:
    """One opened gymdash instance: a store, its services and worker threads.

    ``storage_or_config`` is a storage URI, ``"memory:"`` (the default;
    nothing persists) or ``"sqlite:PATH"``, or a configuration dict (or its
    JSON text; every key is in docs/operations.md; keys left out take their
    defaults, storage ``"sqlite:gymdash.db"``); ``None`` means ``"memory:"``.
    ``config_file`` opens from a configuration file instead.
    ``worker_threads``, when given, sets the size of the library's thread pool.

    Logging: with ``log_to_python`` (the default) the library's records go to
    ``logger`` (default ``logging.getLogger("gymdash")``) instead of the
    configured sink, from right after opening; see :meth:`bridge_logging`.
    ``log_level`` (``"debug"`` …) sets the library's level; None keeps the
    configured one (``info`` by default).

    Use it as a context manager, or call :meth:`close`; an instance that is
    garbage-collected while open is closed then (also at interpreter exit).
    Every method raises a :class:`GymdashError` subclass on failure.

    Thread safety: the methods may be called from several threads at once.
    :meth:`close` must not race with other calls on the same instance.
    """

    def __init__(self, storage_or_config=None, worker_threads=None, *, config_file=None, log_to_python=True,
                 logger=None, log_level=None):
        """Opens the store; raises InvalidArgumentError (naming the argument or
        configuration key) or StorageError. On error nothing is left open."""
        # Bound now, so that __del__ still works while the interpreter shuts
        # down and module globals are being cleared.
        self._close_fn = _lib.gymdash_close
        self._silence_fn = _lib.gymdash_set_log_level
        self._handle = None
        self._lock = threading.Lock()
        # Every log callback ever installed: the library may still be inside
        # one while it is being replaced, so none is released before close().
        self._log_callbacks = []
        # Every dialer event callback ever installed, for the same reason.
        self._dialer_callbacks = []
        self._clear_dialer_fn = _lib.gymdash_dialer_set_event_callback
        level = _level_arg("log_level", log_level)
        handle = _ffi.HANDLE()
        if config_file is not None:
            if storage_or_config is not None or worker_threads is not None:
                raise InvalidArgumentError(-2, "config_file: give a configuration file or storage_or_config/"
                                           "worker_threads, not both", "config_file")
            _lib.gymdash_open_config_file(ctypes.byref(handle), _ffi.encode_text("config_file", config_file))
            self.storage = config_file
        else:
            arg, self.storage = _open_argument(storage_or_config, worker_threads, log_to_python)
            _lib.gymdash_open(ctypes.byref(handle), _ffi.encode_text("storage", arg))
        self._handle = handle
        try:
            if log_to_python:
                self.bridge_logging(logger, level=log_level)
            elif level != -1:
                self.set_log_level(level)
        except BaseException:
            self.close()
            raise

    # ---- lifetime ---------------------------------------------------------

    def close(self):
        """Closes the instance and frees its resources. Closing twice does nothing.

        The logging bridge, if any, receives the ``runtime.close`` record and is
        released once the library has closed.
        """
        self._close(finalizing=False)

    def _close(self, finalizing):
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            handle, self._handle = self._handle, None
        if handle:
            if self._dialer_callbacks:
                # No dialer event may reach Python while (or after) the library closes.
                try:
                    self._clear_dialer_fn(handle, _ffi.DIALER_EVENT_FN(), None)
                except Exception:  # pragma: no cover - closing goes on regardless
                    pass
            if finalizing and self._log_callbacks:
                # No calls into Python logging from a finalizer: it may run at
                # interpreter exit, with the logging module half torn down.
                self._silence_fn(handle, LOG_LEVELS["off"])
            self._close_fn(handle)
        self._log_callbacks = []
        self._dialer_callbacks = []

    @property
    def closed(self):
        """True once :meth:`close` has run."""
        return self._handle is None

    def __enter__(self):
        """Returns self; the instance is closed when the block ends."""
        return self

    def __exit__(self, exc_type, exc, tb):
        """Closes the instance; exceptions propagate."""
        self.close()
        return False

    def __del__(self):
        """Closes a forgotten instance; never raises, even during interpreter shutdown."""
        try:
            self._close(finalizing=True)
        except Exception:  # pragma: no cover - nothing useful to do in a finalizer
            pass

    def __repr__(self):
        """``<Gymdash 'memory:' open>``."""
        return "<Gymdash %r %s>" % (getattr(self, "storage", None), "closed" if self.closed else "open")

    def _h(self):
        handle = self._handle
        if handle is None:
            raise ValueError("operation on a closed Gymdash")
        return handle

    # ---- logging and metrics ----------------------------------------------

    def bridge_logging(self, logger=None, level=None):
        """Sends the library's log records to a :mod:`logging` logger.

        ``logger`` defaults to ``logging.getLogger("gymdash")``. Each record is
        logged at the matching level (trace → :data:`TRACE` (5), debug, info,
        warn → WARNING, error) with a one-line message
        (``lead.create gym=gym-nyc: phone: "***5003" is not … [invalid_argument]``)
        and the structured record in ``extra={"gymdash": {...}}`` (keys
        ``time level op gym lead error ms msg``, empty ones left out), so a
        handler or formatter can use ``record.gymdash``. Phone numbers appear
        only as their last four digits, emails not at all.

        ``level`` (a name or 0–5) sets the library's level, which decides which
        records are produced at all; None keeps the current one (the
        configuration's, ``info`` by default). The logger's own level filters
        further. Records may come from any thread. Replaces any previous
        callback; :meth:`close` removes it.
        """
        if logger is None:
            logger = logging.getLogger("gymdash")
        callback = _log_bridge(logger)
        self._log_callbacks.append(callback)  # alive while the library may call it
        _lib.gymdash_set_log_callback(self._h(), callback, None, _level_arg("level", level))

    def unbridge_logging(self):
        """Gives the records back to the configured sink (none, when the bridge was set up at open)."""
        _lib.gymdash_set_log_callback(self._h(), _ffi.LOG_FN(), None, -1)  # LOG_FN() is NULL

    def set_log_level(self, level):
        """Sets the lowest level the library logs: ``"trace"`` … ``"error"``, ``"off"``, or 0–5."""
        _lib.gymdash_set_log_level(self._h(), _level_arg("level", level))

    def metrics(self, format="prometheus"):
        """The instance's metrics: Prometheus text (a str), or with ``format="json"`` a dict
        ``{"operations": [{"operation", "calls", "errors": {code: n}, "p50_ms", "p90_ms",
        "p99_ms", "sum_ms"}, ...], "gauges": {...}}``. Names are in docs/operations.md."""
        if format == "json":
            return _ffi.call_json(_lib.gymdash_metrics, self._h(), b"json")
        return _ffi.call_text(_lib.gymdash_metrics, self._h(), _ffi.encode_text("format", format))

    # ---- gyms -------------------------------------------------------------

    def create_gym(self, gym=None, **fields):
        """Creates a gym and returns it as stored.

        Pass a Gym dict and/or its fields as keywords: ``id`` (optional; one is
        generated), ``name``, ``timezone`` (IANA), ``region`` (default "US"),
        ``state``, ``call_hours`` ({"start":"09:00","end":"20:00"}),
        ``call_days`` (["mon", …]), ``caller_ids``. Hours and days left out
        are the configuration's (``defaults``, or ``gyms.<id>``).
        Raises InvalidArgumentError naming the field, AlreadyExistsError.
        """
        body = _ffi.encode_json("gym_json", _merge("gym_json", gym, fields))
        return _ffi.call_json(_lib.gymdash_gym_create, self._h(), body)

    def get_gym(self, gym_id):
        """Returns the gym with that id; raises NotFoundError."""
        return _ffi.call_json(_lib.gymdash_gym_get, self._h(), _ffi.encode_text("gym_id", gym_id))

    def list_gyms(self):
        """Returns every gym, ordered by id, as a list of dicts."""
        return _ffi.call_json(_lib.gymdash_gym_list, self._h())

    def update_gym(self, gym=None, **fields):
        """Replaces the settings of the gym named by ``id`` (created_at is kept).

        Takes a full Gym dict (as returned by :meth:`get_gym`) and/or keyword
        fields. Returns the stored gym; raises NotFoundError, InvalidArgumentError.
        """
        body = _ffi.encode_json("gym_json", _merge("gym_json", gym, fields))
        return _ffi.call_json(_lib.gymdash_gym_update, self._h(), body)

    # ---- leads ------------------------------------------------------------

    def create_lead(self, gym_id, lead=None, **fields):
        """Creates a lead in a gym; returns ``{"lead": {...}, "merged": bool}``.

        Only ``phone`` is required; it is read in the gym's region and stored
        E.164. A lead of the gym with the same number is merged instead
        (``merged`` is then True). Raises NotFoundError (gym),
        InvalidArgumentError naming the field.
        """
        body = _ffi.encode_json("lead_json", _merge("lead_json", lead, fields))
        return _ffi.call_json(_lib.gymdash_lead_create, self._h(),
                              _ffi.encode_text("gym_id", gym_id), body)

    def get_lead(self, gym_id, lead_id):
        """Returns the lead; raises NotFoundError (also for another gym's lead)."""
        return _ffi.call_json(_lib.gymdash_lead_get, self._h(),
                              _ffi.encode_text("gym_id", gym_id), _ffi.encode_text("lead_id", lead_id))

    def update_lead(self, gym_id, lead_id, patch=None, **fields):
        """Changes the given fields of a lead and returns it.

        Patchable: external_id, phone, first_name, last_name, email, source,
        interest, timeline, notes, consent, qualification, timezone,
        custom_fields (replaces all), actor. Raises NotFoundError,
        InvalidArgumentError, AlreadyExistsError (the phone belongs to another
        lead), ConflictError.
        """
        body = _ffi.encode_json("patch_json", _merge("patch_json", patch, fields))
        return _ffi.call_json(_lib.gymdash_lead_update, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id), body)

    def delete_lead(self, gym_id, lead_id):
        """Deletes a lead and its history; raises NotFoundError. Returns None."""
        _ffi.call_void(_lib.gymdash_lead_delete, self._h(), _ffi.encode_text("gym_id", gym_id),
                       _ffi.encode_text("lead_id", lead_id))

    def erase_lead(self, gym_id, lead_id, actor=None, reason=None):
        """Erases a lead completely, in one transaction: the lead, its tags, history, call
        results, campaign enrolments, and its calls with their transcripts, summaries and
        recording metadata (docs/hardening.md, "Erasing a lead"). ``actor`` (default "api")
        and ``reason`` must not hold a phone number, an email address or the lead's name.
        Returns the audit entry left behind: ``{"seq", "gym_id", "lead_id", "at", "actor",
        "reason", "removed": {"history_entries", "calls", "recordings", "transcripts",
        "call_results", "enrolments"}}``. Raises NotFoundError, InvalidArgumentError,
        ConflictError (a call to the lead is in progress); on any error nothing changes."""
        return _ffi.call_json(_lib.gymdash_lead_erase, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id), _ffi.encode_text("actor", actor, optional=True),
                              _ffi.encode_text("reason", reason, optional=True))

    def lead_erasures(self, gym_id, limit=100, offset=0):
        """The gym's erasure audit entries (as erase_lead returns them), newest first."""
        return _ffi.call_json(_lib.gymdash_lead_erasures, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _int_arg("limit", limit), _int_arg("offset", offset))

    def list_leads(self, gym_id, filter=None, **criteria):
        """Returns one page of a gym's leads, newest first.

        Criteria (a dict and/or keywords): statuses, qualifications, tags (all
        must match), source, created_from, created_to, search, page (1-based),
        page_size (1–1000, default 50). Returns
        ``{"items": [...], "page": n, "page_size": n, "total": n}``.
        """
        body = _merge("filter_json", filter, criteria)
        encoded = _ffi.encode_json("filter_json", body) if body else None
        return _ffi.call_json(_lib.gymdash_lead_list, self._h(), _ffi.encode_text("gym_id", gym_id), encoded)

    def add_tags(self, gym_id, lead_id, tags, actor=None):
        """Adds tags (a list of strings, or one string); they are trimmed,
        lower-cased and deduplicated. ``actor`` (default "api") is recorded in
        the history. Returns the lead."""
        return _ffi.call_json(_lib.gymdash_lead_add_tags, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id),
                              _ffi.encode_json("tags_json", _tags_body(tags, actor)))

    def remove_tags(self, gym_id, lead_id, tags, actor=None):
        """Removes tags (a list of strings, or one string); absent ones are
        ignored. ``actor`` as for :meth:`add_tags`. Returns the lead."""
        return _ffi.call_json(_lib.gymdash_lead_remove_tags, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id),
                              _ffi.encode_json("tags_json", _tags_body(tags, actor)))

    def add_note(self, gym_id, lead_id, text, actor=None):
        """Appends a note (1–10000 characters of plain text) to the lead's
        history, written by ``actor`` (default "api"), and returns the history
        event."""
        return _ffi.call_json(_lib.gymdash_lead_add_note_by, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id), _ffi.encode_text("text", text),
                              _ffi.encode_text("actor", actor, optional=True))

    def change_status(self, gym_id, lead_id, to, reason=None, actor=None, force=False):
        """Moves a lead's status and returns the lead.

        ``to`` is one of new, contacted, qualified, trial_booked, converted,
        lost. Forward moves may skip steps; a move back (or out of converted)
        needs ``force=True`` and a ``reason``, else ConflictError.
        """
        change = {"to": to, "force": bool(force)}
        if reason is not None:
            change["reason"] = reason
        if actor is not None:
            change["actor"] = actor
        return _ffi.call_json(_lib.gymdash_lead_change_status, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id), _ffi.encode_json("change_json", change))

    def history(self, gym_id, lead_id):
        """Returns the lead's history events, oldest first, as a list of dicts."""
        return _ffi.call_json(_lib.gymdash_lead_history, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id))

    # ---- imports ----------------------------------------------------------

    def import_leads(self, path_or_file, batch_size=None, progress=None, source=None, max_rejected_rows=None):
        """Imports leads from CSV in the data contract's format (docs/import.md).

        ``path_or_file`` is a path (str, bytes or os.PathLike; the library
        opens it in binary mode and reads it in constant memory) or a file
        object, which is read whole (text or bytes, at most 256 MiB) and
        passed as text. ``batch_size`` (1–1000000, default 50000) rows are
        committed at a time. ``source`` is recorded as the consent source
        (default: the file's name, or "import"). ``max_rejected_rows`` limits
        the rejected rows listed (all are counted).

        ``progress``, if given, is called after each committed batch, on this
        thread, with ``{"bytes_read", "bytes_total", "rows", "imported",
        "merged_duplicates", "rejected"}``. Returning ``False`` cancels the
        import (ConflictError); an exception it raises cancels the import and
        is raised again here. Either way the batches already committed stay.

        Returns the report: ``{"rows", "imported", "merged_duplicates",
        "rejected", "rejected_by_reason", "rejected_rows": [{"line", "reason",
        "detail"}], "rejected_rows_truncated", "seconds"}``. Raises
        InvalidArgumentError naming ``path`` (unreadable), ``header`` (missing
        columns; nothing imported) or the option.
        """
        options = {}
        if batch_size is not None:
            options["batch_size"] = batch_size
        if max_rejected_rows is not None:
            options["max_rejected_rows"] = max_rejected_rows
        if hasattr(path_or_file, "read"):
            name = getattr(path_or_file, "name", None)
            if source is None and isinstance(name, str) and name:
                source = os.path.basename(name)
            if source is not None:
                options["source"] = source
            text = _ffi.encode_text("csv_text", path_or_file.read())
            encoded = _ffi.encode_json("options_json", options) if options else None
            return _Progress(progress).run(_lib.gymdash_leads_import_csv, self._h(), text, encoded)
        if source is not None:
            options["source"] = source
        path = _path_arg("path", path_or_file)
        encoded = _ffi.encode_json("options_json", options) if options else None
        return _Progress(progress).run(_lib.gymdash_leads_import_file, self._h(), path, encoded)

    def import_gyms(self, path):
        """Creates or updates gyms from a gyms.csv file (``gym_id,name,timezone``,
        optional ``region``, ``state``). Returns ``{"rows", "created", "updated",
        "rejected", "rejected_rows": [{"line", "error"}]}``."""
        return _ffi.call_json(_lib.gymdash_gyms_import_file, self._h(), _path_arg("path", path))

    # ---- who to call ------------------------------------------------------

    def next_leads(self, gym_id, count, qualification=None, exclude=None, at=None, campaign_id=None):
        """The gym's leads that may be dialed at ``at`` (default now), best first.

        ``count`` is 1–1000; ``qualification`` ("hot", "neutral", "cold") keeps
        only those; ``campaign_id`` asks whom that campaign's dialer would call,
        under its rules (then leave ``qualification`` out: the campaign's target
        decides); ``exclude`` is a list of lead ids to skip; ``at`` is ISO 8601
        text or an aware datetime. Returns a list of lead dicts.
        """
        request = {"count": count}
        if qualification is not None:
            request["qualification"] = qualification
        if campaign_id is not None:
            request["campaign_id"] = campaign_id
        if exclude is not None:
            request["exclude"] = [exclude] if isinstance(exclude, str) else list(exclude)
        if at is not None:
            request["at"] = _time_arg("at", at)
        return _ffi.call_json(_lib.gymdash_leads_next, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_json("request_json", request))

    def explain(self, gym_id, lead_id, at=None, campaign_id=None):
        """Whether a lead may be dialed at ``at`` (default now) and every rule that says no:
        ``{"lead_id", "at", "dialable", "reasons": [...], "local_zone", "local_state", "local_time"}``.
        With ``campaign_id``, under that campaign's rules, as its dialer checks a lead
        (reasons such as ``not_enrolled``, ``campaign_attempts``, ``campaign_retry_gap``)."""
        if campaign_id is not None:
            return _ffi.call_json(_lib.gymdash_lead_explain_for_campaign, self._h(),
                                  _ffi.encode_text("gym_id", gym_id), _ffi.encode_text("lead_id", lead_id),
                                  _ffi.encode_text("campaign_id", campaign_id),
                                  _ffi.encode_text("at", _time_arg("at", at), optional=True))
        return _ffi.call_json(_lib.gymdash_lead_explain, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id),
                              _ffi.encode_text("at", _time_arg("at", at), optional=True))

    def after_call(self, gym_id, lead_id, result=None, **fields):
        """Applies a call's result (``call_id``, ``started_at`` (required), ``ended_at``,
        ``status``, ``answered_by``, ``outcome``, ``callback_at``, ``sentiment``) to the
        lead and returns the lead."""
        body = _ffi.encode_json("call_result_json", _merge("call_result_json", result, fields))
        return _ffi.call_json(_lib.gymdash_lead_after_call, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id), body)

    # ---- calls (docs/calls.md) --------------------------------------------

    def ingest_calls(self, path, batch_size=None, progress=None, max_rejected_lines=None):
        """Applies the call events of a calls.jsonl file (each event_id once).

        ``progress``, if given, is called after each committed batch with
        ``{"events", "duplicates", "applied", "rejected"}``; returning ``False``
        cancels (ConflictError). Returns ``{"events", "duplicates", "applied",
        "rejected", "rejected_by_reason", "rejected_lines": [{"line", "reason",
        "detail"}], "rejected_lines_truncated", "seconds"}``.
        """
        options = {}
        if batch_size is not None:
            options["batch_size"] = batch_size
        if max_rejected_lines is not None:
            options["max_rejected_lines"] = max_rejected_lines
        encoded = _ffi.encode_json("options_json", options) if options else None
        return _Progress(progress).run(_lib.gymdash_calls_ingest_file, self._h(), _path_arg("path", path), encoded)

    def process_call_event(self, event=None, **fields):
        """Applies one call event (a calls.jsonl object). Returns
        ``{"result": "applied" | "duplicate", "call": {...}}``."""
        body = _ffi.encode_json("event_json", _merge("event_json", event, fields))
        return _ffi.call_json(_lib.gymdash_call_process_event, self._h(), body)

    def get_call(self, gym_id, call_id):
        """The call, by its id or the provider's call id."""
        return _ffi.call_json(_lib.gymdash_call_get, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("call_id", call_id))

    def list_calls(self, gym_id, filter=None, **fields):
        """One page of the gym's calls, newest first: ``{"items", "page", "page_size", "total"}``.
        Filter members: ``lead_id``, ``campaign_id``, ``status``, ``outcome``, ``direction``,
        ``started_from``, ``started_to``, ``page``, ``page_size``."""
        merged = _merge("filter_json", filter, fields)
        body = _ffi.encode_json("filter_json", merged) if merged else None
        return _ffi.call_json(_lib.gymdash_calls_list, self._h(), _ffi.encode_text("gym_id", gym_id), body)

    def lead_calls(self, gym_id, lead_id):
        """The lead's calls, oldest first."""
        return _ffi.call_json(_lib.gymdash_lead_calls, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id))

    def purge_expired_recordings(self, now=None):
        """Retention for every gym (docs/calls.md, "Recordings and retention"): calls older than
        the gym's ``recording_retention_days`` lose their recording_url, transcript and summary.
        ``now``: None (the library's clock), an ISO 8601 string or an aware ``datetime``.
        Returns ``{"at", "calls", "gyms": [{"gym_id", "calls", "retention_days", "cutoff"}]}``."""
        return _ffi.call_json(_lib.gymdash_calls_purge_expired, self._h(),
                              _ffi.encode_text("now", _time_arg("now", now), optional=True))

    def purge_lead_recordings(self, gym_id, lead_id, actor=None, reason=None):
        """Purges the recordings, transcripts and summaries of every call of a lead, on request;
        the lead's history gets a ``recordings_purged`` entry. Returns the purge report
        (``calls`` is how many calls were purged)."""
        return _ffi.call_json(_lib.gymdash_lead_purge_recordings, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id), _ffi.encode_text("actor", actor, optional=True),
                              _ffi.encode_text("reason", reason, optional=True))

    # ---- call routing (docs/routing.md) -------------------------------------

    def route_outbound(self, gym_id, lead_id, campaign_id=None, assistants=None, at=None):
        """How to call a lead: ``{"from", "local_presence", "to", "assistant_id", "assistant_rule",
        "dynamic_variables", …}``. ``assistants`` is ``{"gym_default": …, "campaigns": {campaign_id:
        {"default", "hot", "neutral", "cold"}}}``; ``at`` (ISO 8601 or an aware datetime) sets the
        greeting's time of day (default now). Writes nothing."""
        request = {"gym_id": gym_id, "lead_id": lead_id}
        if campaign_id is not None:
            request["campaign_id"] = campaign_id
        if assistants is not None:
            request["assistants"] = assistants
        if at is not None:
            request["at"] = _time_arg("at", at)
        return _ffi.call_json(_lib.gymdash_route_outbound, self._h(), _ffi.encode_json("request", request))

    def route_inbound(self, gym_id, from_number, at=None):
        """The lead behind an inbound call from ``from_number``, created (``created`` True,
        source ``inbound_call``) when the number is unknown. ``do_not_call`` True: the number
        must not be called back; the inbound call itself is routed."""
        return _ffi.call_json(_lib.gymdash_route_inbound, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("from_number", from_number),
                              _ffi.encode_text("at", _time_arg("at", at), optional=True))

    def report(self, gym_id=None, campaign_id=None, from_date=None, to_date=None, timezone=None):
        """A dashboard of calls and leads over a period (docs/analytics.md), as a dict.
        ``gym_id`` None: every gym. Dates are ``"YYYY-MM-DD"`` in the gym's own zone, both
        inclusive (default: the 90 days ending today). The top level carries the data
        contract's per-gym names (``calls``, ``connected``, ``voicemail``, ``connect_rate``,
        ``talk_s``, ``avg_talk_s``, ``cost_usd``, ``outcomes``, ``by_local_date``), then
        ``leads``, ``funnel``, ``cost_per_lead`` …, ``speed_to_lead``, ``best_times``,
        ``daily`` and ``trends``."""
        return _ffi.call_json(_lib.gymdash_analytics_report, self._h(),
                              _report_query(gym_id, campaign_id, from_date, to_date, timezone), b"json")

    def report_csv(self, gym_id=None, campaign_id=None, from_date=None, to_date=None, timezone=None):
        """The same dashboard as one RFC 4180 CSV table (``section,key,metric,value``), a str."""
        return _ffi.call_text(_lib.gymdash_analytics_report, self._h(),
                              _report_query(gym_id, campaign_id, from_date, to_date, timezone), b"csv")

    def rebuild_analytics(self, gym_id=None):
        """Recomputes the analytics rollups of a gym (None: every gym) from its calls and
        leads: ``{"gyms", "leads", "calls", "seconds"}``."""
        return _ffi.call_json(_lib.gymdash_analytics_rebuild, self._h(),
                              _ffi.encode_text("gym_id", gym_id, optional=True))

    def ingest_webhook(self, provider, body, headers=None, url="", secret=None, tolerance_s=None):
        """Verifies one webhook of ``provider`` (``"retell"``, ``"vapi"``, ``"twilio"``) and
        applies its call events (docs/webhooks.md). ``body`` is the request body exactly as
        received (``str``, or UTF-8 ``bytes``); ``headers`` a mapping (names in any case) or
        ``(name, value)`` pairs; ``url`` the full URL the provider called (Twilio signs it).
        Without ``secret`` (a string or a list during a rotation), the configuration's
        voice providers supply it. Returns ``{"provider", "kind", "events", "applied",
        "duplicates", "ignored", "warnings", "results": [{"event_id", "result", "call"}]}``.
        A bad or missing signature raises InvalidArgumentError with ``field == "signature"``
        and writes nothing."""
        if isinstance(body, (bytes, bytearray)):
            try:
                body = bytes(body).decode("utf-8")
            except UnicodeDecodeError as e:
                raise InvalidArgumentError(-2, "body: not UTF-8 text", "body") from e
        if headers is None:
            pairs = []
        elif hasattr(headers, "items"):
            pairs = [[str(k), str(v)] for k, v in headers.items()]
        else:
            pairs = [[str(k), str(v)] for k, v in headers]
        request = {"provider": provider, "url": url or "", "headers": pairs, "body": body}
        options = {}
        if isinstance(secret, str):
            options["secret"] = secret
        elif secret is not None:
            options["secrets"] = list(secret)
        if tolerance_s is not None:
            options["tolerance_s"] = tolerance_s
        return _ffi.call_json(_lib.gymdash_webhook_ingest, self._h(), _ffi.encode_json("request_json", request),
                              _ffi.encode_json("options_json", options) if options else None)

    # ---- voice providers -------------------------------------------------

    def place_call(self, provider, request=None, **fields):
        """Places an outbound call through the configured voice provider ``provider``
        and waits for the provider's answer (docs/voice.md). Request members: ``from``,
        ``to`` (E.164), ``assistant_id``, ``dynamic_variables`` and ``metadata``
        (``gym_id``, ``lead_id``, ``campaign_id``) as dicts of strings; ``from`` may be
        passed as ``from_`` among the keyword arguments. Returns
        ``{"provider_call_id", "status"}``."""
        if "from_" in fields:
            fields["from"] = fields.pop("from_")
        body = _ffi.encode_json("request_json", _merge("request_json", request, fields))
        return _ffi.call_json(_lib.gymdash_voice_place_call, self._h(), _ffi.encode_text("provider", provider), body)

    def call_status(self, provider, provider_call_id):
        """A call's state as the provider reports it now: ``{"provider_call_id", "status",
        "answered_by", "started_at", "ended_at", "duration_s", "cost_usd", "end_reason",
        "summary"}``."""
        return _ffi.call_json(_lib.gymdash_voice_get_status, self._h(), _ffi.encode_text("provider", provider),
                              _ffi.encode_text("provider_call_id", provider_call_id))

    def hang_up(self, provider, provider_call_id):
        """Ends a ringing or live call."""
        _ffi.call_void(_lib.gymdash_voice_hang_up, self._h(), _ffi.encode_text("provider", provider),
                       _ffi.encode_text("provider_call_id", provider_call_id))

    # ---- do-not-call lists ------------------------------------------------

    def dnc_add(self, scope, phone, reason=None, source=None):
        """Puts a number on a list (``scope``: a gym id, or ``"*"`` for the global list).
        Returns the entry ``{"scope", "phone", "reason", "source", "added_at"}`` (the
        existing one if already listed)."""
        return _ffi.call_json(_lib.gymdash_dnc_add, self._h(), _ffi.encode_text("scope", scope),
                              _ffi.encode_text("phone", phone), _ffi.encode_text("reason", reason, optional=True),
                              _ffi.encode_text("source", source, optional=True))

    def dnc_remove(self, scope, phone, actor=None, reason=None):
        """Takes a number off a list; returns True if it was listed, False if not."""
        removed = ctypes.c_int(0)
        _lib.gymdash_dnc_remove(ctypes.byref(removed), self._h(), _ffi.encode_text("scope", scope),
                                _ffi.encode_text("phone", phone), _ffi.encode_text("actor", actor, optional=True),
                                _ffi.encode_text("reason", reason, optional=True))
        return bool(removed.value)

    def dnc_check(self, gym_id, phone):
        """Whether a number may not be called for a gym:
        ``{"phone", "gym_listed", "global_listed", "lead_do_not_call", "blocked"}``."""
        return _ffi.call_json(_lib.gymdash_dnc_check, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("phone", phone))

    def dnc_list(self, scope, limit=100, offset=0):
        """A list's entries ordered by number; ``limit`` 1–1000."""
        return _ffi.call_json(_lib.gymdash_dnc_list, self._h(), _ffi.encode_text("scope", scope),
                              _int_arg("limit", limit), _int_arg("offset", offset))

    def dnc_import(self, scope, path):
        """Adds the numbers of a file to a list, the file's name as source: one number
        per line (blank lines and ``#`` lines skipped), or CSV with a ``phone`` column.
        Returns ``{"lines", "added", "already_listed", "rejected", "rejected_lines":
        [{"line", "error"}], "rejected_lines_truncated"}``."""
        return _ffi.call_json(_lib.gymdash_dnc_import_file, self._h(), _ffi.encode_text("scope", scope),
                              _path_arg("path", path))

    # ---- calling campaigns (docs/campaigns.md) --------------------------------

    def campaign_create(self, gym_id, campaign=None, **fields):
        """Creates a campaign of the gym in state ``"draft"`` and returns it.

        Pass a CampaignInput dict and/or its members as keywords: ``name`` and
        ``voice_provider`` (a name under the configuration's ``voice_providers``)
        are required; ``description``, ``target`` ({"qualifications", "statuses",
        "tags", "source", "created_from", "created_to"}), ``schedule``
        ({"start_date", "end_date", "days", "hours": {"start", "end"}}), ``pacing``
        ({"max_concurrent", "calls_per_day", "calls_per_second", "max_attempts",
        "retry_gap_minutes"}), ``budget`` ({"daily_usd", "total_usd",
        "reserve_per_call_usd"}), ``assistant_id``, ``weight``.
        Raises InvalidArgumentError naming the field (``e.field ==
        "pacing.max_concurrent"``), NotFoundError (gym)."""
        body = _ffi.encode_json("input_json", _merge("input_json", campaign, fields))
        return _ffi.call_json(_lib.gymdash_campaign_create, self._h(), _ffi.encode_text("gym_id", gym_id), body)

    def campaign_get(self, gym_id, campaign_id):
        """The campaign as a dict."""
        return _ffi.call_json(_lib.gymdash_campaign_get, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("campaign_id", campaign_id))

    def campaign_list(self, gym_id, states=None, page=None, page_size=None):
        """One page of the gym's campaigns, newest first: ``{"items", "page", "page_size", "total"}``.
        ``states`` keeps only campaigns in any of these states (a str or a list)."""
        query = {}
        if states is not None:
            query["states"] = [states] if isinstance(states, str) else list(states)
        if page is not None:
            query["page"] = page
        if page_size is not None:
            query["page_size"] = page_size
        body = _ffi.encode_json("filter_json", query) if query else None
        return _ffi.call_json(_lib.gymdash_campaign_list, self._h(), _ffi.encode_text("gym_id", gym_id), body)

    def campaign_update(self, gym_id, campaign_id, patch=None, **fields):
        """Changes the members given (a draft or paused campaign only; a section such as
        ``pacing`` is replaced whole) and returns the campaign. Raises ConflictError for an
        active or ended campaign."""
        body = _ffi.encode_json("patch_json", _merge("patch_json", patch, fields))
        return _ffi.call_json(_lib.gymdash_campaign_update, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("campaign_id", campaign_id), body)

    def campaign_delete(self, gym_id, campaign_id):
        """Deletes a draft, completed or cancelled campaign and its enrolments."""
        _ffi.call_void(_lib.gymdash_campaign_delete, self._h(), _ffi.encode_text("gym_id", gym_id),
                       _ffi.encode_text("campaign_id", campaign_id))

    def campaign_set_state(self, gym_id, campaign_id, state):
        """Moves a campaign: ``"active"`` (start or resume), ``"paused"``, ``"completed"`` or
        ``"cancelled"``. Returns the campaign. An unknown name is InvalidArgumentError
        (``field == "state"``); an illegal move ConflictError naming both states."""
        return _ffi.call_json(_lib.gymdash_campaign_set_state, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("campaign_id", campaign_id), _ffi.encode_text("state", state))

    def campaign_enrol(self, gym_id, campaign_id, lead_ids=None, filter=None):
        """Enrols leads: by id (``lead_ids``, all or none), the gym's leads matching a target
        dict (``filter``), or, with neither, the campaign's own target. Returns
        ``{"enrolled", "already_enrolled"}``."""
        request = {}
        if lead_ids is not None:
            request["lead_ids"] = [lead_ids] if isinstance(lead_ids, str) else list(lead_ids)
        if filter is not None:
            request["filter"] = filter
        return _ffi.call_json(_lib.gymdash_campaign_enrol, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("campaign_id", campaign_id), _ffi.encode_json("request_json", request))

    def campaign_remove_leads(self, gym_id, campaign_id, lead_ids):
        """Takes leads out of a campaign; returns how many of them were enrolled."""
        ids = [lead_ids] if isinstance(lead_ids, str) else list(lead_ids)
        result = _ffi.call_json(_lib.gymdash_campaign_remove_leads, self._h(), _ffi.encode_text("gym_id", gym_id),
                                _ffi.encode_text("campaign_id", campaign_id), _ffi.encode_json("lead_ids_json", ids))
        return result["removed"]

    def campaign_performance(self, gym_id, campaign_id):
        """A campaign's figures: ``{"campaign_id", "state", "enrolled", "never_called", "exhausted",
        "attempts", "calls_today", "cost_today_usd", "cost_total_usd", "connected",
        "trials_booked", "memberships_sold"}``."""
        return _ffi.call_json(_lib.gymdash_campaign_performance, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("campaign_id", campaign_id))

    def campaign_simulate(self, gym_id, campaign_id, days=None, provider_options=None, step_seconds=None,
                          progress=None):
        """Forecasts a campaign from now with the simulated provider on a virtual clock, over a
        copy of the gym's data (nothing is written, no call placed). ``days`` 1–90 (default 14),
        ``step_seconds`` 1–600 (default 30), ``provider_options`` the simulated provider's
        settings (docs/voice.md). Returns ``{"target_leads", "calls", "connected", "cost_usd",
        "reached_leads", "done_leads", "hours_until_all_done", "by_day": [...], ...}``.
        Blocks until the run is done. ``progress``, if given, is called with
        ``{"day", "days", "calls", "done_leads", "target_leads"}`` after each simulated day;
        returning ``False`` or raising cancels the forecast (as for imports)."""
        options = {}
        if days is not None:
            options["days"] = days
        if step_seconds is not None:
            options["step_seconds"] = step_seconds
        if provider_options is not None:
            options["provider_options"] = provider_options
        body = _ffi.encode_json("options_json", options) if options else None
        return _Progress(progress).run(_lib.gymdash_campaign_simulate_ex, self._h(),
                                       _ffi.encode_text("gym_id", gym_id),
                                       _ffi.encode_text("campaign_id", campaign_id), body)

    # ---- the dialer ----------------------------------------------------------

    def dialer_start(self):
        """Starts the dialer: it places the calls of every active campaign on the library's
        worker threads, every tick, until :meth:`dialer_stop` or :meth:`close`."""
        _ffi.call_void(_lib.gymdash_dialer_start, self._h())

    def dialer_stop(self):
        """Stops the dialer (calls in flight go on). Safe to call twice."""
        _ffi.call_void(_lib.gymdash_dialer_stop, self._h())

    def dialer_tick(self):
        """One round of dialing decisions now, on this thread:
        ``{"at", "campaigns", "asked", "placed", "lines_in_use", "seconds"}``."""
        return _ffi.call_json(_lib.gymdash_dialer_tick, self._h())

    def dialer_refill(self):
        """Fills the candidate queues that are due now, on this thread (between hand
        ticks, so that the ticks ask no questions): ``{"at", "refilled", "leads", "seconds"}``."""
        return _ffi.call_json(_lib.gymdash_dialer_refill, self._h())

    def dialer_status(self):
        """The dialer's state: ``{"running", "ticks", "placed", "refused", "lines_in_use",
        "campaigns": [{"gym_id", "campaign_id", "lines_in_use", "calls_today", "reserved_usd",
        "waiting"}]}``."""
        return _ffi.call_json(_lib.gymdash_dialer_status, self._h())

    def set_dialer_callback(self, fn):
        """Calls ``fn(event)`` with every dialer event, a dict ``{"kind": "placed" | "refused" |
        "ended" | "completed" | "error", "at", "gym_id", "campaign_id", "lead_id", "call_id",
        "message"}``; ``None`` removes it.

        ``fn`` runs on the thread calling :meth:`dialer_tick` or on one of the library's worker
        threads, while the dialer holds its lock: it must be quick and must not call the
        ``dialer_*`` methods. What it raises is caught and dropped (it cannot cross the C
        frames)."""
        if fn is None:
            _lib.gymdash_dialer_set_event_callback(self._h(), _ffi.DIALER_EVENT_FN(), None)
            return
        if not callable(fn):
            raise InvalidArgumentError(-2, "fn: must be callable, not %s" % type(fn).__name__, "fn")

        def on_event(_user, event_json):
            try:
                fn(json.loads(event_json.decode("utf-8", "replace")))
            except Exception:  # an exception cannot cross the C frames; the dialer goes on
                pass

        callback = _ffi.DIALER_EVENT_FN(on_event)
        self._dialer_callbacks.append(callback)  # alive while the library may call it
        _lib.gymdash_dialer_set_event_callback(self._h(), callback, None)


def _report_query(gym_id, campaign_id, from_date, to_date, timezone):
    """The query_json of gymdash_analytics_report (members left out when None)."""
    query = {k: v for k, v in (("gym_id", gym_id), ("campaign_id", campaign_id), ("from", from_date),
                                ("to", to_date), ("timezone", timezone)) if v is not None}
    return _ffi.encode_json("query_json", query)
