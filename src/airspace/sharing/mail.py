"""Notifications by email, through the SMTP server the instance is given
(``AIRSPACE_SMTP_URL``). A periodic job sends what was notified since it last ran to
accounts with an address; each notification is emailed at most once."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from airspace.accounts.models import User
from airspace.sharing.models import Notification

if TYPE_CHECKING:
    from airspace.wiring import Services

BATCH = 200
FRESH = timedelta(hours=1)
"""Older notifications are not emailed (a mail server configured later sends no backlog)."""


@contextmanager
def smtp_connection(url: str) -> Iterator[smtplib.SMTP]:
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port
    if parts.scheme == "smtps":
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=20)
    else:
        connection = smtplib.SMTP(host, port or 25, timeout=20)
    try:
        if parts.scheme == "smtp+starttls":
            connection.starttls()
        if parts.username:
            connection.login(unquote(parts.username), unquote(parts.password or ""))
        yield connection
    finally:
        connection.quit()


def message(services: Services, notification: Notification, address: str) -> EmailMessage:
    public = services.settings.public_url
    mail = EmailMessage()
    mail["From"] = services.settings.mail_from
    mail["To"] = address
    mail["Subject"] = notification.message[:120]
    mail.set_content(
        f"{notification.message}\n\n{public}{notification.link or '/'}\n\n"
        f"You get this because your Airspace account gives this address for notifications. "
        f"Change it in your settings: {public}/settings\n"
    )
    return mail


def send_pending(services: Services) -> int:
    """Email the notifications not yet emailed; returns how many were sent."""
    url = services.settings.smtp_url
    if url is None:
        return 0
    now = services.clock.now()
    sent = 0
    with services.sessions() as session:
        rows = session.execute(
            select(Notification, User.email)
            .join(User, User.id == Notification.user_id)
            .where(Notification.emailed_at.is_(None))
            .order_by(Notification.id)
            .limit(BATCH)
        ).all()
        due = [(n, address) for n, address in rows if address and now - n.created_at < FRESH]
        if due:
            with smtp_connection(url) as connection:
                for notification, address in due:
                    notification.emailed_at = now
                    try:
                        connection.send_message(message(services, notification, address))
                    except smtplib.SMTPRecipientsRefused:
                        continue  # the server will not take this address: not retried
                    sent += 1
        for notification, _ in rows:  # no address, or too old: never to be emailed
            notification.emailed_at = notification.emailed_at or now
        session.commit()
    return sent
