"""The service's exceptions: one root, so views map them to HTTP in one place."""

from __future__ import annotations

import click

# What a 503 asks clients to wait before trying again.
RETRY_AFTER_SECONDS = 30


class PodcastServiceError(Exception):
    """Root of every error the service raises on purpose; its message is for the user."""

    http_status = 400
    # Extra response headers (Retry-After, WWW-Authenticate...) for the view that reports it.
    headers: dict[str, str] = {}

    @property
    def for_client(self) -> str:
        """What an HTTP client is told; the log has the message itself."""
        return str(self)


class SettingsError(PodcastServiceError, click.ClickException):
    """Configuration that cannot be used.

    Being a ClickException too, it reaches a `flask ...` user as one
    "Error: ..." line instead of a traceback.
    """

    def __init__(self, message: str) -> None:
        PodcastServiceError.__init__(self, message)
        click.ClickException.__init__(self, message)


class ValidationError(PodcastServiceError):
    """Input that breaks a rule of the domain (a missing title, a bad date...)."""

    http_status = 422


class MediaError(ValidationError):
    """A file that is not audio we support, or is damaged."""


class TooLarge(ValidationError):
    """A file or a field past the size the service accepts for it."""

    http_status = 413


class StorageError(PodcastServiceError):
    """The media store failed or cannot be reached. The message names the bucket, key or folder, for the
    operator; a client is told only that the store is unavailable."""

    http_status = 503

    @property
    def for_client(self) -> str:
        return "The media store is not available right now; try again shortly."


class Conflict(ValidationError):
    """The thing to create exists already (a slug, a guid, an e-mail address)."""

    http_status = 409


class NotFound(PodcastServiceError):
    http_status = 404


class Unauthorized(PodcastServiceError):
    """No valid credentials: the API asks for a bearer token."""

    http_status = 401

    def __init__(self, message: str, error: str = "invalid_token") -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": f'Bearer realm="api", error="{error}"'}


class Forbidden(PodcastServiceError):
    """Valid credentials without the right to do this."""

    http_status = 403
