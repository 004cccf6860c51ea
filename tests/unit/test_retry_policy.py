import logging

from shared.runtime.backoff import FailureBackoff
from shared.runtime.db import CONNECT_TIMEOUT_SECONDS, POOL_TIMEOUT_SECONDS, STATEMENT_TIMEOUT_MS
from shared.runtime.zeebe import JOB_RETRIES, JOB_TIMEOUT_MS, MAX_BACKOFF_MS, retry_backoff_ms, retry_budget_seconds


def test_backoff_starts_at_200_ms_and_doubles_per_failed_attempt():
    # retries left after the 1st, 2nd, ... failure of a job that started with JOB_RETRIES
    delays = [retry_backoff_ms(JOB_RETRIES - failures) for failures in range(1, JOB_RETRIES)]
    assert delays[:8] == [200, 400, 800, 1600, 3200, 6400, 12800, 20_000]
    assert set(delays[7:]) == {MAX_BACKOFF_MS}


def test_a_job_is_retried_for_several_minutes_before_it_becomes_an_incident():
    # Long enough to wait out a database or service restart; docs/architecture.md states the figure.
    assert 5 * 60 < retry_budget_seconds() < 10 * 60


def test_the_job_timeout_outlasts_the_longest_wait_before_a_retry_plus_the_longest_database_wait():
    longest_database_wait_ms = (POOL_TIMEOUT_SECONDS + CONNECT_TIMEOUT_SECONDS) * 1000 + STATEMENT_TIMEOUT_MS
    assert JOB_TIMEOUT_MS > MAX_BACKOFF_MS + longest_database_wait_ms


def test_backoff_is_capped_at_20_seconds():
    assert retry_backoff_ms(0, total=20) == MAX_BACKOFF_MS == 20_000


def test_a_loop_waits_longer_after_each_failure_in_a_row_up_to_its_cap():
    backoff = FailureBackoff("relay", logging.getLogger("test"), first_seconds=0.2, max_seconds=1.0)
    delays = []
    for _ in range(5):
        try:
            raise ConnectionError("database down")
        except ConnectionError:
            delays.append(backoff.failed())
    assert delays == [0.2, 0.4, 0.8, 1.0, 1.0]


def test_a_loop_logs_one_traceback_per_outage_then_one_line_per_round(caplog):
    backoff = FailureBackoff("relay", logging.getLogger("test"))
    caplog.set_level(logging.INFO, logger="test")
    for _outage in range(2):
        for _ in range(3):
            try:
                raise ConnectionError("connection refused\nsecond line of detail")
            except ConnectionError:
                backoff.failed(where="orders@7")
        backoff.succeeded()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 2  # the first failure of each outage
    repeats = [r.getMessage() for r in caplog.records if not r.exc_info and r.levelno == logging.WARNING]
    assert repeats[0] == ("relay failed again on orders@7 (2 in a row); retrying in 0.4s: "
                          "ConnectionError: connection refused")
    recoveries = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert recoveries == ["relay works again after 3 failed rounds"] * 2
    assert backoff.failures == 0
