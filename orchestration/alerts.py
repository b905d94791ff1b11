"""Telling people a night went wrong: a Slack message (incoming webhook) and an e-mail (SMTP), from the environment
(settings.alert_channels). Sent by the nightly job itself (orchestration/dagster/hooks.py and the publish step), so a
run from the command line, the schedule or a backfill alerts the same. An alert that cannot be sent is logged by the
caller and never fails the run: the run's own outcome is in Dagster either way.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

from orchestration import settings

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Alert:
    subject: str  # one line: what happened to which night
    lines: list[str]  # what failed, one item a line
    run_id: str

    def text(self, channels: settings.AlertChannels) -> str:
        links = [f"Quality report: {channels.report_url}"]
        if channels.dagster_url:
            links.append(f"Run in Dagster: {channels.dagster_url}/runs/{self.run_id}")
        return "\n".join([self.subject, "", *(f"- {line}" for line in self.lines), "", *links, f"Run id: {self.run_id}"])


def channels() -> settings.AlertChannels:
    from orchestration.quality.report import REPORT_FILE

    return settings.alert_channels(REPORT_FILE)


def send(alert: Alert) -> list[str]:
    """Send the alert on every configured channel; returns the channels it went to. Raises on the first channel
    that fails, naming it (the others are still tried first)."""
    configured = channels()
    text, sent, errors = alert.text(configured), [], []
    if configured.slack_webhook:
        try:
            _post_to_slack(configured.slack_webhook, text)
            sent.append("slack")
        except OSError as error:
            errors.append(f"Slack webhook: {error}")
    if configured.smtp_host:
        try:
            _email(configured, alert.subject, text)
            sent.append("email")
        except (OSError, smtplib.SMTPException) as error:
            errors.append(f"e-mail through {configured.smtp_host}:{configured.smtp_port}: {error}")
    if errors:
        raise RuntimeError(f"alert not sent by {'; '.join(errors)}")
    return sent


def _post_to_slack(webhook: str, text: str) -> None:
    request = urllib.request.Request(webhook, data=json.dumps({"text": text}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read()


def _email(configured: settings.AlertChannels, subject: str, text: str) -> None:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, configured.email_from, ", ".join(configured.email_to)
    message.set_content(text)
    with smtplib.SMTP(configured.smtp_host, configured.smtp_port, timeout=TIMEOUT_SECONDS) as server:
        server.ehlo()
        if server.has_extn("starttls"):
            server.starttls()
            server.ehlo()
        if configured.smtp_user:
            server.login(configured.smtp_user, configured.smtp_password)
        server.send_message(message)
