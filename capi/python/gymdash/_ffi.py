"""Loading libgymdash_c and declaring its functions for ctypes.

Everything about the C ABI lives here: where the library is found, one table
declaring every function (name, argtypes, restype, errcheck), the one errcheck
that turns error codes into exceptions, and the helpers that pass text in and
take library-owned strings out (copied, then freed with gymdash_string_free).
"""

import ctypes
import ctypes.util
import glob
import json
import os
import sysconfig

from .errors import InvalidArgumentError, error_for_code

__all__ = ["lib", "library_path", "call_json", "call_text", "call_void", "encode_text", "encode_json",
           "LOG_FN", "PROGRESS_FN", "DIALER_EVENT_FN"]

#: The C ABI's limit on one string or JSON argument, in bytes (GYMDASH_MAX_ARG_BYTES).
MAX_ARG_BYTES = 1048576

_PATTERNS = ("libgymdash_c.so", "libgymdash_c.so.*", "libgymdash_c.dylib",
             "libgymdash_c.*.dylib", "gymdash_c.dll")


def _candidates_near(directory):
    found = []
    for pattern in _PATTERNS:
        found.extend(sorted(glob.glob(os.path.join(directory, pattern))))
    return found


def _find_library():
    """The path (or name) of libgymdash_c to load.

    Order: $GYMDASH_LIBRARY (a full path); next to this package; the lib
    directories of the install prefix when the package is installed as
    PREFIX/share/gymdash/python/gymdash; then ctypes.util.find_library.
    """
    env = os.environ.get("GYMDASH_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    found = _candidates_near(here)
    if found:
        return found[0]
    prefix = os.path.normpath(os.path.join(here, os.pardir, os.pardir, os.pardir, os.pardir))
    libdirs = [os.path.join(prefix, "lib"), os.path.join(prefix, "lib64")]
    multiarch = sysconfig.get_config_var("MULTIARCH")
    if multiarch:
        libdirs.insert(0, os.path.join(prefix, "lib", multiarch))
    for libdir in libdirs:
        found = _candidates_near(libdir)
        if found:
            return found[0]
    name = ctypes.util.find_library("gymdash_c")
    if name:
        return name
    raise OSError(
        "libgymdash_c not found: set GYMDASH_LIBRARY to its full path, put it next to "
        "the gymdash package, or install it where the dynamic linker looks")


library_path = _find_library()
lib = ctypes.CDLL(library_path)


class gymdash_t(ctypes.Structure):
    """The opaque handle type; only pointers to it are used."""


HANDLE = ctypes.POINTER(gymdash_t)
OUT_STR = ctypes.POINTER(ctypes.c_void_p)  # char** out: library-owned, freed with gymdash_string_free
TEXT = ctypes.c_char_p                     # const char* in: UTF-8, copied by the library
#: gymdash_log_fn: void (*)(void* user, int level, const char* line, const char* record_json).
#: The strings are the library's, valid only during the call (c_char_p copies them to bytes).
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p)
#: gymdash_progress_fn: int (*)(void* user, const char* progress_json); non-zero cancels the import.
#: Called on the importing thread while the import runs; the string is valid only during the call.
PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
#: gymdash_dialer_event_fn: void (*)(void* user, const char* event_json). Called on the ticking
#: thread or one of the library's worker threads; the string is valid only during the call.
DIALER_EVENT_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)


def _last_error_message():
    raw = lib.gymdash_last_error_message()
    return raw.decode("utf-8", "replace") if raw else ""


def _last_error_field():
    raw = lib.gymdash_last_error_field()
    return raw.decode("utf-8", "replace") if raw else ""


def _check(result, func, args):
    """errcheck for every int-returning function: 0 is success, a negative code raises.

    The message and field are thread-local in the library; ctypes calls the
    function and its errcheck on the same OS thread, so they belong to this call.
    """
    if result != 0:
        raise error_for_code(result, _last_error_message(), _last_error_field())
    return result


# One table declares every function of gymdash.h: (name, argtypes, restype, errcheck).
_FUNCTIONS = (
    ("gymdash_version", [], ctypes.c_char_p, None),  # static storage, not owned
    ("gymdash_version_major", [], ctypes.c_int, None),
    ("gymdash_version_minor", [], ctypes.c_int, None),
    ("gymdash_version_patch", [], ctypes.c_int, None),
    ("gymdash_last_error_code", [], ctypes.c_int, None),
    ("gymdash_last_error_message", [], ctypes.c_char_p, None),  # library-owned, thread-local
    ("gymdash_last_error_field", [], ctypes.c_char_p, None),  # library-owned, thread-local
    ("gymdash_error_name", [ctypes.c_int], ctypes.c_char_p, None),  # static storage
    ("gymdash_string_free", [ctypes.c_void_p], None, None),
    ("gymdash_open", [ctypes.POINTER(HANDLE), TEXT], ctypes.c_int, _check),
    ("gymdash_open_config_file", [ctypes.POINTER(HANDLE), TEXT], ctypes.c_int, _check),
    ("gymdash_close", [HANDLE], None, None),
    ("gymdash_gym_create", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_gym_get", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_gym_list", [OUT_STR, HANDLE], ctypes.c_int, _check),
    ("gymdash_gym_update", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_create", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_get", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_update", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_delete", [HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_erase", [OUT_STR, HANDLE, TEXT, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_erasures", [OUT_STR, HANDLE, TEXT, ctypes.c_int, ctypes.c_int], ctypes.c_int, _check),
    ("gymdash_lead_list", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_add_tags", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_remove_tags", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_add_note", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_add_note_by", [OUT_STR, HANDLE, TEXT, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_change_status", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_history", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_leads_import_file", [OUT_STR, HANDLE, TEXT, TEXT, PROGRESS_FN, ctypes.c_void_p], ctypes.c_int,
     _check),
    ("gymdash_leads_import_csv", [OUT_STR, HANDLE, TEXT, TEXT, PROGRESS_FN, ctypes.c_void_p], ctypes.c_int,
     _check),
    ("gymdash_gyms_import_file", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_leads_next", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_explain", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_explain_for_campaign", [OUT_STR, HANDLE, TEXT, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_after_call", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_calls_ingest_file", [OUT_STR, HANDLE, TEXT, TEXT, PROGRESS_FN, ctypes.c_void_p], ctypes.c_int,
     _check),
    ("gymdash_call_process_event", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_call_get", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_calls_list", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_calls", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_calls_purge_expired", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_lead_purge_recordings", [OUT_STR, HANDLE, TEXT, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_route_outbound", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_route_inbound", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_analytics_report", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_analytics_rebuild", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_webhook_ingest", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_voice_place_call", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_voice_get_status", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_voice_hang_up", [HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_dnc_add", [OUT_STR, HANDLE, TEXT, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_dnc_remove", [ctypes.POINTER(ctypes.c_int), HANDLE, TEXT, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_dnc_check", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_dnc_list", [OUT_STR, HANDLE, TEXT, ctypes.c_int, ctypes.c_int], ctypes.c_int, _check),
    ("gymdash_dnc_import_file", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_config_check", [OUT_STR, TEXT], ctypes.c_int, _check),
    ("gymdash_config_defaults", [OUT_STR], ctypes.c_int, _check),
    ("gymdash_set_log_callback", [HANDLE, LOG_FN, ctypes.c_void_p, ctypes.c_int], ctypes.c_int, _check),
    ("gymdash_set_log_level", [HANDLE, ctypes.c_int], ctypes.c_int, _check),
    ("gymdash_metrics", [OUT_STR, HANDLE, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_create", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_get", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_list", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_update", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_delete", [HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_set_state", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_enrol", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_remove_leads", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_performance", [OUT_STR, HANDLE, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_simulate", [OUT_STR, HANDLE, TEXT, TEXT, TEXT], ctypes.c_int, _check),
    ("gymdash_campaign_simulate_ex", [OUT_STR, HANDLE, TEXT, TEXT, TEXT, PROGRESS_FN, ctypes.c_void_p], ctypes.c_int,
     _check),
    ("gymdash_dialer_start", [HANDLE], ctypes.c_int, _check),
    ("gymdash_dialer_stop", [HANDLE], ctypes.c_int, _check),
    ("gymdash_dialer_tick", [OUT_STR, HANDLE], ctypes.c_int, _check),
    ("gymdash_dialer_refill", [OUT_STR, HANDLE], ctypes.c_int, _check),
    ("gymdash_dialer_status", [OUT_STR, HANDLE], ctypes.c_int, _check),
    ("gymdash_dialer_set_event_callback", [HANDLE, DIALER_EVENT_FN, ctypes.c_void_p], ctypes.c_int, _check),
)

for _name, _argtypes, _restype, _errcheck in _FUNCTIONS:
    _func = getattr(lib, _name)
    _func.argtypes = _argtypes
    _func.restype = _restype
    if _errcheck is not None:
        _func.errcheck = _errcheck
del _name, _argtypes, _restype, _errcheck, _func


def _string_free(pointer):
    lib.gymdash_string_free(pointer)


def call_json(func, *args):
    """Calls a function whose first parameter is ``char** out`` and returns the decoded JSON.

    The library's string is copied with string_at and freed with
    gymdash_string_free in ``finally``, whatever happens while decoding.
    """
    out = ctypes.c_void_p()
    try:
        func(ctypes.byref(out), *args)
        return json.loads(ctypes.string_at(out.value).decode("utf-8"))
    finally:
        if out.value:
            _string_free(out.value)


def call_text(func, *args):
    """As :func:`call_json`, returning the library's text as ``str`` instead of decoding JSON."""
    out = ctypes.c_void_p()
    try:
        func(ctypes.byref(out), *args)
        return ctypes.string_at(out.value).decode("utf-8")
    finally:
        if out.value:
            _string_free(out.value)


def call_void(func, *args):
    """Calls a function without outputs; failures raise through the errcheck."""
    func(*args)


def encode_text(name, value, optional=False):
    """UTF-8 bytes for a ``const char*`` argument.

    ``str`` is encoded; ``bytes`` pass unchanged (the library validates them);
    ``None`` becomes NULL only where ``optional``. An embedded NUL would
    silently cut the text short in C, so it is refused here. The 1 MiB limit
    and UTF-8 validity of bytes are checked by the library.
    """
    if value is None:
        if optional:
            return None
        raise InvalidArgumentError(-2, "%s: must not be None" % name)
    if isinstance(value, str):
        try:
            value = value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidArgumentError(-2, "%s: not valid UTF-8 (%s)" % (name, e.reason)) from None
    elif isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    elif not isinstance(value, bytes):
        raise InvalidArgumentError(-2, "%s: must be a str, not %s" % (name, type(value).__name__))
    if b"\0" in value:
        raise InvalidArgumentError(-2, "%s: contains a NUL character" % name)
    return value


def encode_json(name, obj):
    """UTF-8 JSON bytes for a JSON argument; ``str``/``bytes`` are taken as JSON text already."""
    if isinstance(obj, (str, bytes, bytearray, memoryview)):
        return encode_text(name, obj)
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(-2, "%s: cannot be written as JSON: %s" % (name, e)) from None
    return encode_text(name, text)
