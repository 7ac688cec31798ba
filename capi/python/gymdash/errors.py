"""gymdash's exception hierarchy, mirroring the C++ one (include/gymdash/error.hpp).

Every failing call raises a subclass of :class:`GymdashError`; its ``code`` is
the stable negative error code of the C ABI (``GYMDASH_E_*`` in gymdash.h), its
``message`` names the offending argument, field or id, and its ``field`` is
that name alone (``"phone"``, ``"gyms.gym-nyc.call_hours.start"``) or ``""``.
"""

__all__ = [
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


class GymdashError(Exception):
    """Base of every gymdash error.

    Attributes:
        code: the stable negative error code (``-1`` … ``-10``).
        message: the library's message, naming the argument, field or id.
        field: the argument name or key path the error is about (the first
            one's, when a configuration has several errors), or ``""``.
    """

    #: The code this class stands for (overridden by each subclass).
    CODE = None
    #: The code's short stable name ("not_found" …), as gymdash_error_name().
    NAME = "unknown"

    def __init__(self, code, message, field=""):
        """Makes an error from a C ABI code, its message and the field it names."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self):
        """The message, as the library wrote it."""
        return self.message

    def __repr__(self):
        """``NotFoundError(-1, 'gym_id: no gym "x"')``."""
        return "%s(%d, %r)" % (type(self).__name__, self.code, self.message)


def _define(name, code, short, doc):
    cls = type(name, (GymdashError,), {"__doc__": doc, "CODE": code, "NAME": short,
                                        "__module__": __name__})
    return cls


NotFoundError = _define("NotFoundError", -1, "not_found",
                        "The id does not exist, or belongs to another gym.")
InvalidArgumentError = _define("InvalidArgumentError", -2, "invalid_argument",
                               "An argument or field is missing, malformed or out of range.")
AlreadyExistsError = _define("AlreadyExistsError", -3, "already_exists",
                             "An object with that id (or a lead with that number) already exists.")
ConflictError = _define("ConflictError", -4, "conflict",
                        "An illegal state transition or a concurrent modification.")
ComplianceBlockedError = _define("ComplianceBlockedError", -5, "compliance_blocked",
                                 "A calling rule (consent, do-not-call, hours) forbids it.")
RateLimitedError = _define("RateLimitedError", -6, "rate_limited",
                           "A pacing or provider rate limit was hit.")
ProviderError = _define("ProviderError", -7, "provider_error",
                        "The voice provider answered with an error.")
StorageError = _define("StorageError", -8, "storage_error",
                       "The storage backend failed (I/O, corruption, schema).")
UnavailableError = _define("UnavailableError", -9, "unavailable",
                           "A dependency is temporarily unreachable; retrying may succeed.")
InternalError = _define("InternalError", -10, "internal",
                        "A bug in gymdash (or out of memory); the message says where.")

_BY_CODE = {cls.CODE: cls for cls in (
    NotFoundError, InvalidArgumentError, AlreadyExistsError, ConflictError,
    ComplianceBlockedError, RateLimitedError, ProviderError, StorageError,
    UnavailableError, InternalError)}


def error_for_code(code, message, field=""):
    """Returns the exception instance for a C ABI error code.

    A code this package does not know (one appended by a newer library) is an
    :class:`InternalError` carrying that code, as gymdash.h asks.
    """
    return _BY_CODE.get(code, InternalError)(code, message, field)
