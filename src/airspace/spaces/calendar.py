"""A scheduled Space as an iCalendar event (RFC 5545), for listeners' reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from airspace.spaces.models import Space

DEFAULT_LENGTH = timedelta(hours=1)
REMIND_BEFORE = "-PT10M"
LINE_OCTETS = 75


def _text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """Lines longer than 75 octets continue on lines that start with a space."""
    folded: list[str] = []
    current = ""
    for char in line:
        limit = LINE_OCTETS if not folded else LINE_OCTETS - 1
        if len((current + char).encode()) > limit:
            folded.append(current)
            current = ""
        current += char
    folded.append(current)
    return [folded[0], *(" " + rest for rest in folded[1:])]


def reminder(space: Space, url: str, host_name: str, domain: str, now: datetime) -> str:
    """The calendar file of ``space``, which must have a scheduled start."""
    assert space.scheduled_start is not None
    start = space.scheduled_start
    summary = f"{space.title} (Airspace)"
    description = f"A Space hosted by {host_name}. {space.description}".strip() + f"\n{url}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Airspace//Spaces//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:space-{space.id}@{domain}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(start + DEFAULT_LENGTH)}",
        f"SUMMARY:{_text(summary)}",
        f"DESCRIPTION:{_text(description)}",
        f"URL:{url}",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{_text(summary)} starts in 10 minutes",
        f"TRIGGER:{REMIND_BEFORE}",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
