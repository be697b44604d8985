"""SQLAlchemy 2 typed models, split by area."""

from .accounts import (
    CLIENT,
    COUNSELLOR,
    BackupCode,
    CounsellorInvitation,
    Practice,
    SessionKey,
    SetupCode,
    SignedInUser,
    User,
    WebSession,
)
from .audit import AuditEvent, AuditHead
from .casework import (
    ANSWERED,
    ATTENDANCE,
    ATTENDED,
    CANCELLED,
    DID_NOT_ATTEND,
    DRAFT,
    OPEN,
    PARKED,
    PRIVATE,
    QUESTION_STATES,
    RESOLVED,
    SCHEDULED,
    SHARED,
    SIGNED,
    Case,
    CaseKey,
    CounsellingSession,
    DirectoryEntry,
    Note,
    NoteRevision,
    OpenQuestion,
    Person,
    QuestionEvent,
)
from .common import is_id, new_id, utcnow
from .portal import CLIENT_ONLY, SHARED_SCOPE, ClientInvitation, Reflection, ReflectionVersion
from .throttle import ThrottleCounter

__all__ = [
    "ThrottleCounter",
    "AuditEvent", "AuditHead",
    "CLIENT_ONLY", "SHARED_SCOPE", "ClientInvitation", "Reflection", "ReflectionVersion",
    "BackupCode",
    "ANSWERED", "ATTENDANCE", "ATTENDED", "CANCELLED", "CLIENT", "COUNSELLOR", "DID_NOT_ATTEND",
    "DRAFT", "OPEN", "PARKED", "PRIVATE", "QUESTION_STATES", "RESOLVED", "SCHEDULED", "SHARED",
    "SIGNED", "Case", "CaseKey", "CounsellingSession", "CounsellorInvitation", "DirectoryEntry",
    "Note", "NoteRevision", "OpenQuestion", "Person", "Practice", "QuestionEvent",
    "SessionKey", "SetupCode", "SignedInUser", "User", "WebSession", "is_id", "new_id", "utcnow",
]
