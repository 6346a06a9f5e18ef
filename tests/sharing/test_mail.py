"""Notifications by email through a real SMTP server on loopback (aiosmtpd), once each,
to accounts that gave an address; nothing when the instance has no mail server."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.clock import SettableClock
from airspace.sharing.mail import send_pending
from airspace.wiring import build_services
from tests.conftest import make_settings, register
from tests.e2e.processes import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def test_notifications_are_emailed_once_to_those_with_an_address(
    tmp_path: Path, database_url: str, clock: SettableClock, inbox: tuple[Inbox, int]
) -> None:
    box, port = inbox
    settings = make_settings(tmp_path, database_url, smtp_url=f"smtp://127.0.0.1:{port}")
    services = build_services(settings, clock=clock)
    try:
        with TestClient(create_app(services)) as client:
            host = register(client, "ana")
            fan = register(client, "bob")
            quiet = register(client, "cyd")
            bad = client.patch("/api/v1/me", json={"email": "not an address"}, headers=fan)
            assert bad.status_code == 422
            saved = client.patch("/api/v1/me", json={"email": "bob@example.org"}, headers=fan)
            assert saved.json()["email"] == "bob@example.org"
            for follower in (fan, quiet):
                client.put("/api/v1/users/ana/follow", headers=follower)
            space = client.post("/api/v1/spaces", json={"title": "Morning"}, headers=host).json()
            client.post(f"/api/v1/spaces/{space['id']}/start", headers=host)
        assert send_pending(services) == 1
        [mail] = box.messages
        assert mail["To"] == "bob@example.org"
        assert mail["Subject"] == "ana is live: Morning"
        assert f"/i/spaces/{space['id']}" in mail.get_payload()  # type: ignore[operator]
        assert send_pending(services) == 0  # once each
        assert len(box.messages) == 1
    finally:
        services.close()


def test_without_a_mail_server_nothing_is_sent(client: TestClient) -> None:
    from airspace.wiring import Services

    services: Services = client.app.state.services  # type: ignore[attr-defined]
    assert services.settings.smtp_url is None
    assert send_pending(services) == 0
