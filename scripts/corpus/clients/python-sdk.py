# Drives Debian's python3-sentry-sdk, unmodified. argv: <dsn> <recorder url>.
import sys
import urllib.request

import sentry_sdk

dsn, recorder = sys.argv[1], sys.argv[2]


def step(what):
    urllib.request.urlopen(f"{recorder}/__step/{what}").read()


sentry_sdk.init(dsn=dsn, release="corpus@1.0.0", environment="corpus", traces_sample_rate=1.0, auto_session_tracking=False, default_integrations=True)

step("exception")
try:
    1 / 0
except ZeroDivisionError:
    sentry_sdk.capture_exception()
sentry_sdk.flush()

step("message")
sentry_sdk.capture_message("corpus message from python", level="warning")
sentry_sdk.flush()

step("transaction")
with sentry_sdk.start_transaction(name="corpus transaction", op="task"):
    with sentry_sdk.start_span(op="db", description="child"):
        pass
sentry_sdk.flush()

step("attachment")
with sentry_sdk.push_scope() as scope:
    scope.add_attachment(bytes=b"attachment text\n", filename="corpus.txt", content_type="text/plain")
    sentry_sdk.capture_message("corpus message with attachment")
sentry_sdk.flush()

# Check-ins arrived in sentry-sdk 1.16; Debian 12 ships 1.9.
if hasattr(sentry_sdk, "crons"):
    step("check-in")
    sentry_sdk.crons.capture_checkin(monitor_slug="corpus-job", status="ok", duration=1.5)
    sentry_sdk.flush()

step("session")
hub = sentry_sdk.Hub.current
hub.start_session(session_mode="application")
hub.end_session()
sentry_sdk.flush()
