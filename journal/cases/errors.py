"""Domain errors of the counsellor side; routes turn them into pages."""


class NotFound(LookupError):
    """No such object among this counsellor's cases (routes answer 404, never 403)."""


class Conflict(Exception):
    """Someone saved this note since you opened it; nothing was overwritten."""


class Locked(Exception):
    """A signed note cannot be edited, only amended with a reason."""


class InvalidChange(ValueError):
    """A change that does not make sense (for example a state a question cannot move to)."""
