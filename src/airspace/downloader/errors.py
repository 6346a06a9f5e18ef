"""Why a download cannot happen, each with its own exit code for the CLI."""

from __future__ import annotations


class DownloadError(Exception):
    """A download that cannot be done; ``exit_code`` is what ``airspace download`` exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedURL(DownloadError):
    exit_code = 3


class SpaceNotFound(DownloadError):
    exit_code = 4


class SpaceIsLive(DownloadError):
    exit_code = 5

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message or "This Space is live; use --live to record it from now until it ends"
        )


class NotRecorded(DownloadError):
    exit_code = 6


class RecordingDeleted(DownloadError):
    exit_code = 7


class RecordingExpired(DownloadError):
    exit_code = 8


class SpacePrivate(DownloadError):
    """Needs a ticket, a log-in or cookies the caller did not give."""

    exit_code = 9


class FetchError(DownloadError):
    """The network or the server failed and retries did not help."""

    exit_code = 10


class PlaylistError(DownloadError):
    """The HLS playlist cannot be used."""

    exit_code = 11


class PlaylistMissing(PlaylistError):
    """The playlist is not there (404 or 410): X's replay, just after a Space ends, say."""

    exit_code = 15


class TooLarge(DownloadError):
    """Over the size or duration cap of this instance."""

    exit_code = 12


class BlockedAddress(DownloadError):
    """The URL points at a private, loopback or otherwise internal address."""

    exit_code = 13


class NoSpaceInTweet(DownloadError):
    """A tweet link whose tweet carries no Space."""

    exit_code = 14


# The download finished, but some segments were replaced by silence (named in warnings).
EXIT_COMPLETED_WITH_GAPS = 20

EXIT_CODES = {
    0: "the file is complete",
    1: "unexpected failure",
    2: "bad command-line usage, or a setting that cannot be used",
    UnsupportedURL.exit_code: "not a URL this command understands",
    SpaceNotFound.exit_code: "no such Space",
    SpaceIsLive.exit_code: "the Space is live (use --live)",
    NotRecorded.exit_code: "the Space was not recorded",
    RecordingDeleted.exit_code: "the recording was deleted",
    RecordingExpired.exit_code: "the recording's replay window has closed",
    SpacePrivate.exit_code: "the Space is private: a ticket, log-in or cookies are needed",
    FetchError.exit_code: "the network or server failed after retries",
    PlaylistError.exit_code: "the playlist cannot be used",
    TooLarge.exit_code: "over the size or duration cap",
    BlockedAddress.exit_code: "the URL points at an internal address",
    NoSpaceInTweet.exit_code: "the tweet has no Space in it",
    PlaylistMissing.exit_code: "the playlist is not there (404), even after --replay-wait",
    EXIT_COMPLETED_WITH_GAPS: "written, but damaged segments were replaced by silence",
}
