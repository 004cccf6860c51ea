from shared.zeebe import JOB_RETRIES, MAX_BACKOFF_MS, retry_backoff_ms


def test_backoff_starts_at_200_ms_and_doubles_per_failed_attempt():
    # retries left after the 1st, 2nd, ... failure of a job that started with JOB_RETRIES
    delays = [retry_backoff_ms(JOB_RETRIES - failures) for failures in range(1, JOB_RETRIES)]
    assert delays == [200, 400, 800, 1600, 3200, 6400]


def test_backoff_is_capped_at_30_seconds():
    assert retry_backoff_ms(0, total=20) == MAX_BACKOFF_MS == 30_000
