"""Run notifications: one mail to the run's creator per run state change, through a real SMTP server.

Jobs run on real workers; the mail goes through Django's SMTP backend to an
aiosmtpd server this test starts. Ticks are ``notifications.deliver()``
called here as the scheduler's loop calls it, or real ``rodan scheduler``
processes where processes matter (two at once, one killed, a server down).
"""

import asyncio
import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import threading

import pytest
from aiosmtpd.controller import Controller
from builders import chain_document, make_project, step_settings, upload, valid_workflow, wait_for, wait_run
from django.conf import settings
from django.test import override_settings
from rodan_fixtures import free_port

from rodan import notifications
from rodan.engine import lifecycle
from rodan.engine.expansion import create_run
from rodan.models import InputPort, RunJob, RunNotification, UserPreference
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

PUBLIC_URL = "https://rodan.example.org"
HELLO = "Hello World - Interactive"


class Inbox:
    """An SMTP server on a local port that keeps every message it accepts.

    A message is kept as soon as its data has arrived. ``hold_for``: the
    reply to a message for that address waits until ``release`` is set (a
    sender that dies meanwhile never hears that its mail went out).
    ``delay``: seconds before each reply.
    """

    def __init__(self, port=None, hold_for=None, delay=0.0):
        self.port = port or free_port()
        self.hold_for, self.delay = hold_for, delay
        self.entered, self.release = threading.Event(), threading.Event()
        self.received = []  # (envelope recipients, parsed message)
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        if self.hold_for in envelope.rcpt_tos:
            self.entered.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address):
        return [message for recipients, message in list(self.received) if address in recipients]


@pytest.fixture
def inbox():
    server = Inbox().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(inbox):
    """This process sends through the inbox's server, as a scheduler configured with EMAIL_HOST does."""
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=inbox.port,
        RODAN_PUBLIC_URL=PUBLIC_URL,
    ):
        yield inbox


def scheduler_env(monkeypatch, port):
    """What a deployment sets: the scheduler processes started after this send to ``port``."""
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(port))
    monkeypatch.setenv("RODAN_PUBLIC_URL", PUBLIC_URL)


def start_run(workflow, pages, name="Book of hours"):
    """A run started by the project's creator, as the API starts one."""
    port = InputPort.objects.get(workflow_job__workflow=workflow, extern=True)
    return create_run(workflow, {port: list(pages)}, creator=workflow.project.creator, name=name)


def text_run(pages=1, steps=("a",), name="Book of hours"):
    """A run of text steps over ``pages`` pages, by a new user in a new project."""
    project = make_project("Liber usualis")
    workflow = valid_workflow(project, chain_document([step_settings(tag) for tag in steps]))
    return start_run(workflow, [upload(project, f"page{i}", name=f"page{i}") for i in range(pages)], name)


def deliver_until(inbox, address, count=1):
    """Tick until ``address`` has ``count`` mails (a tick may wait for events still being committed)."""
    return wait_for(lambda: notifications.deliver() is not None and len(inbox.to(address)) >= count and inbox.to(address),
                    what=f"{count} mail(s) to {address}")


def test_a_five_page_run_that_finishes_sends_its_creator_one_mail(start_worker, smtp):
    start_worker()
    run = text_run(pages=5, steps=("a", "b"))
    address = run.creator.email

    def finished():
        notifications.deliver()  # the scheduler ticks all along the run
        run.refresh_from_db()
        return run.status == RunStatus.FINISHED

    wait_for(finished, 90, "the run to finish")
    [message] = deliver_until(smtp, address)
    for _ in range(3):
        notifications.deliver()
    assert len(smtp.to(address)) == 1

    body = message.get_content().replace("\r\n", "\n")
    assert message["Subject"] == 'Rodan: run "Book of hours" has finished'
    assert message["From"] == settings.DEFAULT_FROM_EMAIL and message["To"] == address
    assert f'Your run "Book of hours" of the workflow "{run.workflow.name}" in the project "Liber usualis" has finished.' in body
    assert "Pages: 5\nJobs: 10 (10 finished)\n" in body
    assert f"Open the run: {PUBLIC_URL}/runs/{run.uuid}\n" in body


def test_a_failing_run_sends_the_error_and_its_retry_sends_the_finish(start_worker, smtp, tmp_path):
    marker = tmp_path / "marker"
    project = make_project("Antiphonal")
    workflow = valid_workflow(
        project, chain_document([step_settings("a"), step_settings("b", **{"Fail unless exists": str(marker)})])
    )
    start_worker()
    run = start_run(workflow, [upload(project, "x", name="folio 1r"), upload(project, "y", name="folio 1v")], "Vespers")
    address = run.creator.email
    wait_run(run, {RunStatus.FAILED})
    failed = RunJob.objects.filter(workflow_run=run, status=RunJobStatus.FAILED)
    wait_for(lambda: failed.count() == 2, what="both chains to fail")

    [message] = deliver_until(smtp, address)
    body = message.get_content().replace("\r\n", "\n")
    assert message["Subject"] == 'Rodan: run "Vespers" has failed'
    assert "Pages: 2\nJobs: 4 (2 failed, 2 finished)\n" in body
    error = failed.order_by("finished_at").first()
    first_sentence = notifications.first_sentences(error.error_summary, count=1)
    assert "marker" in first_sentence and "Traceback" not in body
    assert f'What failed:\n- "{error.job_name}" on page "' in body and first_sentence in body
    assert body.count(f'"{error.job_name}" on page "folio 1') == 2  # each failed page, once

    marker.write_text("")
    lifecycle.retry_run(run)
    wait_run(run, {RunStatus.FINISHED})
    mails = deliver_until(smtp, address, 2)
    notifications.deliver()
    assert [m["Subject"] for m in smtp.to(address)] == ['Rodan: run "Vespers" has failed', 'Rodan: run "Vespers" has finished']
    assert "What failed" not in mails[1].get_content().replace("\r\n", "\n")


def test_a_run_waiting_for_input_on_every_page_sends_one_mail(start_worker, smtp):
    project = make_project("Gradual")
    workflow = valid_workflow(project, chain_document([{}], job_name=HELLO))
    start_worker()
    run = start_run(workflow, [upload(project, f"text {i}", name=f"page {i}") for i in range(3)], "Pixel pass")
    address = run.creator.email
    waiting = RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT)

    def all_waiting():
        notifications.deliver()  # ticks while the pages come to wait one by one
        return waiting.count() == 3

    wait_for(all_waiting, 60, "every page to wait for input")
    [message] = deliver_until(smtp, address)
    for _ in range(3):
        notifications.deliver()
    assert len(smtp.to(address)) == 1
    body = message.get_content().replace("\r\n", "\n")
    assert message["Subject"] == 'Rodan: run "Pixel pass" is waiting for input'
    # Sent as the first page came to wait: it names the pages waiting then, and counts them.
    listed = re.findall(rf'^- "{HELLO}" on page "page \d"$', body, flags=re.MULTILINE)
    assert "Jobs that need you in the browser:\n" in body and listed
    assert re.search(rf"^Pages: 3\nJobs: 3 \(.*\b{len(listed)} waiting for input\b.*\)$", body, flags=re.MULTILINE), body
    assert f"{PUBLIC_URL}/runs/{run.uuid}" in body


def test_no_mail_when_the_creator_turned_send_email_off(start_worker, smtp):
    start_worker()
    quiet = text_run(name="Quiet run")
    UserPreference.objects.create(user=quiet.creator, send_email=False)
    wait_run(quiet, {RunStatus.FINISHED})
    # A second creator who keeps mail on: once their mail is here, the quiet run's turn has passed.
    loud = text_run(name="Loud run")
    wait_run(loud, {RunStatus.FINISHED})
    deliver_until(smtp, loud.creator.email)
    notifications.deliver()
    assert smtp.to(quiet.creator.email) == []
    assert RunNotification.objects.get(workflow_run=quiet).delivery == RunNotification.Delivery.SKIPPED


TICK = """
import os, sys, time, django
django.setup()
from rodan import notifications
open(sys.argv[1], "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
print(notifications.deliver())
"""


def test_two_schedulers_ticking_at_once_send_each_mail_once(start_worker, inbox, monkeypatch, tmp_path):
    start_worker()
    runs = [text_run(name=f"Run {i}") for i in range(4)]
    for run in runs:
        wait_run(run, {RunStatus.FINISHED})
    inbox.delay = 0.3  # each mail takes a while, so the two ticks overlap
    scheduler_env(monkeypatch, inbox.port)
    go = tmp_path / "go"
    ticks = [
        subprocess.Popen([sys.executable, "-c", TICK, str(tmp_path / f"ready{i}"), str(go)], stdout=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    wait_for(lambda: all((tmp_path / f"ready{i}").exists() for i in range(2)), what="both ticks to be ready")
    go.touch()
    sent = [int(tick.communicate(timeout=120)[0].split()[-1]) for tick in ticks]

    for run in runs:
        assert len(inbox.to(run.creator.email)) == 1, run.name
    assert sum(sent) == len(inbox.received) >= len(runs)
    assert min(sent) >= 1  # both took part: each sent some, neither sent one the other had


def test_mail_server_down_keeps_the_notification_until_it_returns(start_worker, start_scheduler, monkeypatch):
    port = free_port()  # nothing listens there yet
    scheduler_env(monkeypatch, port)
    scheduler = start_scheduler()
    start_worker()
    run = text_run(name="While the server is down")
    wait_run(run, {RunStatus.FINISHED})
    log = scheduler.log_path
    refused = "The mail server cannot be reached"
    notification = wait_for(lambda: RunNotification.objects.filter(workflow_run=run).first(), 30, "the notification")
    tries = log.read_text().count(refused)
    wait_for(lambda: log.read_text().count(refused) >= tries + 2, 90, "two more tries while the server is down")
    notification.refresh_from_db()
    assert notification.delivery == RunNotification.Delivery.PENDING and notification.tries == 0

    inbox = Inbox(port).start()
    try:
        wait_for(lambda: inbox.to(run.creator.email), 120, "the mail once the server is back")
        # The loop went on throughout: the scheduler is alive and says so.
        assert scheduler.poll() is None
        wait_for(lambda: "The mail server answers again" in log.read_text(), 30, "the recovery line")
        assert len(inbox.to(run.creator.email)) == 1
    finally:
        inbox.stop()


def test_a_scheduler_killed_while_sending_does_not_send_again(start_worker, start_scheduler, monkeypatch):
    start_worker()
    run = text_run(name="Interrupted")
    address = run.creator.email
    inbox = Inbox(hold_for=address).start()
    try:
        scheduler_env(monkeypatch, inbox.port)
        wait_run(run, {RunStatus.FINISHED})
        first = start_scheduler()
        assert inbox.entered.wait(60), "the scheduler did not start sending"
        os.killpg(first.pid, signal.SIGKILL)  # dead before it hears the server's reply
        first.wait()
        inbox.release.set()
        assert len(inbox.to(address)) == 1  # the server has it; the scheduler never learnt so

        start_scheduler()  # another scheduler takes over; a later run's mail shows it has ticked
        later = text_run(name="Later")
        wait_run(later, {RunStatus.FINISHED})
        wait_for(lambda: inbox.to(later.creator.email), 60, "the later run's mail")
        assert len(inbox.to(address)) == 1
        assert RunNotification.objects.get(workflow_run=run).delivery == RunNotification.Delivery.SENDING
    finally:
        inbox.stop()


def test_without_a_mail_server_the_scheduler_writes_the_mail_to_its_log(start_worker, start_scheduler, monkeypatch):
    for name in ("EMAIL_HOST", "EMAIL_BACKEND"):  # the embedded defaults: nothing configured
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RODAN_PUBLIC_URL", PUBLIC_URL)
    scheduler = start_scheduler()
    start_worker()
    run = text_run(name="Printed")
    wait_run(run, {RunStatus.FINISHED})
    sent = RunNotification.objects.filter(workflow_run=run, delivery=RunNotification.Delivery.SENT)
    wait_for(sent.exists, 60, "the notification to be sent")
    log = scheduler.log_path.read_text()
    assert 'Subject: Rodan: run "Printed" has finished' in log and f"To: {run.creator.email}" in log
    assert f"Open the run: {PUBLIC_URL}/runs/{run.uuid}" in log
