"""Email over SMTP, with the standard library's client run off the event loop."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from registry.settings import SmtpSettings


def _send(smtp: SmtpSettings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username and smtp.password:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


async def send(smtp: SmtpSettings, to: str, subject: str, body: str) -> None:
    """Deliver one message; raises OSError or smtplib.SMTPException when the server refuses."""
    await asyncio.to_thread(_send, smtp, to, subject, body)
