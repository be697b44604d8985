"""Words for audit actions, for the pages that show the log to people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


def audit_labels() -> dict[str, object]:
    """Action code -> a short description in the reader's language."""
    return {
        "case.created": _l("created the case"),
        "case.closed": _l("closed the case"),
        "case.reopened": _l("reopened the case"),
        "case.erased": _l("erased the case"),
        "note.viewed": _l("opened a session note"),
        "note.saved": _l("saved a note draft"),
        "note.signed": _l("signed a note"),
        "note.amended": _l("amended a signed note"),
        "reflection.viewed": _l("opened a reflection"),
        "reflection.shared": _l("shared a reflection"),
        "invitation.created": _l("created an invitation link"),
        "invitation.readmit_created": _l("created a link to re-admit the client"),
        "invitation.revoked": _l("revoked an invitation link"),
        "invitation.accepted": _l("joined by invitation"),
        "export.created": _l("exported a case summary"),
        "export.anonymised": _l("exported an anonymised case summary"),
        "export.identifiable": _l("exported the client's own copy of the case"),
    }
