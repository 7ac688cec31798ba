"""gymdash for Python: gyms, leads, statuses and history over the C ABI.

A thin ctypes layer over libgymdash_c (see docs/c-api.md). Requests and
results are plain dicts and lists, in the JSON shapes of the C++ model; every
failure raises a :class:`GymdashError` subclass whose message names the
offending argument, field or id.

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
import json
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


class Gymdash:
    """One opened gymdash instance: a store, its services and worker threads.

    ``storage`` is ``"memory:"`` (the default; nothing persists) or
    ``"sqlite:PATH"``; ``None`` means ``"memory:"``. ``worker_threads``, when
    given, sets the size of the library's thread pool.

    Use it as a context manager, or call :meth:`close`; an instance that is
    garbage-collected while open is closed then (also at interpreter exit).
    Every method raises a :class:`GymdashError` subclass on failure.

    Thread safety: the methods may be called from several threads at once.
    :meth:`close` must not race with other calls on the same instance.
    """

    def __init__(self, storage="memory:", worker_threads=None):
        """Opens the store; raises InvalidArgumentError or StorageError."""
        # Bound now, so that __del__ still works while the interpreter shuts
        # down and module globals are being cleared.
        self._close_fn = _lib.gymdash_close
        self._handle = None
        self._lock = threading.Lock()
        arg = storage
        if worker_threads is not None:
            arg = json.dumps({"storage": "memory:" if storage is None else storage,
                              "worker_threads": worker_threads})
        handle = _ffi.HANDLE()
        _lib.gymdash_open(ctypes.byref(handle), _ffi.encode_text("storage", arg, optional=True))
        self._handle = handle
        self.storage = "memory:" if storage is None else storage

    # ---- lifetime ---------------------------------------------------------

    def close(self):
        """Closes the instance and frees its resources. Closing twice does nothing."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            handle, self._handle = self._handle, None
        if handle:
            self._close_fn(handle)

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
            self.close()
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

    # ---- gyms -------------------------------------------------------------

    def create_gym(self, gym=None, **fields):
        """Creates a gym and returns it as stored.

        Pass a Gym dict and/or its fields as keywords: ``id`` (optional; one is
        generated), ``name``, ``timezone`` (IANA), ``region`` (default "US"),
        ``state``, ``call_hours`` ({"start":"09:00","end":"20:00"}),
        ``call_days`` (["mon", …]), ``caller_ids``.
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

    def add_tags(self, gym_id, lead_id, tags):
        """Adds tags (a list of strings, or one string); they are trimmed,
        lower-cased and deduplicated. Returns the lead."""
        return _ffi.call_json(_lib.gymdash_lead_add_tags, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id),
                              _ffi.encode_json("tags_json", _tag_list(tags)))

    def remove_tags(self, gym_id, lead_id, tags):
        """Removes tags (a list of strings, or one string); absent ones are ignored. Returns the lead."""
        return _ffi.call_json(_lib.gymdash_lead_remove_tags, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id),
                              _ffi.encode_json("tags_json", _tag_list(tags)))

    def add_note(self, gym_id, lead_id, text):
        """Appends a note (1–10000 characters of plain text) to the lead's
        history and returns the history event."""
        return _ffi.call_json(_lib.gymdash_lead_add_note, self._h(), _ffi.encode_text("gym_id", gym_id),
                              _ffi.encode_text("lead_id", lead_id), _ffi.encode_text("text", text))

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
