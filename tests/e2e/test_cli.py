"""The `fulfil` command line against the running stack, as a person would use it."""
import json
import re
import subprocess
import sys
import uuid

from confluent_kafka import Producer

from shared.runtime.inbox import PUT_BACK
from tests.conftest import INJECTED_BY_TEST, eventually
from tests.e2e.conftest import read_events
from tools import dead_letters
from tools.orders import wait_until_orderable


def fulfil(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_place_and_watch_an_order_until_it_completes(stack, order_api):
    sku = f"CLI-{uuid.uuid4().hex[:6]}"
    assert fulfil("stock", "set", sku, "3", "--name", "CLI test item").returncode == 0
    wait_until_orderable(order_api, [sku])
    placed = fulfil("order", "place", "--item", f"{sku}:2")
    assert placed.returncode == 0, placed.stderr
    order_id = placed.stdout.strip()
    watched = fulfil("order", "watch", order_id, "--timeout", "60")
    assert watched.returncode == 0, watched.stdout + watched.stderr
    lines = watched.stdout.splitlines()
    assert "PLACED" in lines[0] and lines[-1] == f"order {order_id} is COMPLETED"
    assert f"{sku}" in fulfil("stock", "list").stdout


def test_an_operator_counts_against_the_version_shown_and_adjusts_relative_to_what_is_there(stack):
    sku = f"CLI-{uuid.uuid4().hex[:6]}"
    assert fulfil("stock", "set", sku, "3", "--name", "CLI count item").returncode == 0
    version = re.search(r"version +(\d+)", fulfil("stock", "show", sku).stdout).group(1)

    blind = fulfil("stock", "set", sku, "5")
    assert blind.returncode == 2 and f"{sku} exists: give --if-match VERSION" in blind.stderr
    counted = fulfil("stock", "set", sku, "5", "--if-match", version)
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout)["on_hand"] == 5
    stale = fulfil("stock", "set", sku, "7", "--if-match", version)
    assert stale.returncode == 2 and f"error: 412: {sku} changed since it was counted" in stale.stderr

    adjusted = fulfil("stock", "adjust", sku, "-2", "--reason", "damaged in transit")
    assert adjusted.returncode == 0, adjusted.stderr
    assert json.loads(adjusted.stdout)["stock"]["on_hand"] == 3
    too_many = fulfil("stock", "adjust", sku, "-4", "--reason", "lost")
    assert too_many.returncode == 2 and "only 3 are free" in too_many.stderr


def test_errors_are_one_readable_line_with_a_non_zero_exit(stack):
    missing = fulfil("order", "show", "no-such-order")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: 404: no order with id no-such-order"
    bad_item = fulfil("order", "place", "--item", "KB-101")
    assert bad_item.returncode == 2 and "expected SKU:QUANTITY" in bad_item.stderr


def test_an_operator_lists_a_dead_letter_with_its_reason_and_puts_it_back_on_its_topic(stack):
    key = f"bad-{uuid.uuid4()}"
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    original_headers = [("ce_type", b"x"), (INJECTED_BY_TEST, b"malformed on purpose")]
    producer.produce("delivery.events", key=key, value=b"{not json", headers=original_headers)
    assert producer.flush(10) == 0

    def letters_of_order_consumer():
        return [d for d in dead_letters.read(stack.kafka_bootstrap, ("order",)) if d.key == key.encode()]

    [letter] = eventually(letters_of_order_consumer, what=f"the order consumer to dead-letter {key}")
    listed = fulfil("dead-letters", "list", "--consumer", "order")
    assert listed.returncode == 0, listed.stderr
    assert f"{letter.id} " in listed.stdout and f"key {key}" in listed.stdout
    assert "not a CloudEvents 1.0 binary-mode record" in listed.stdout

    put_back = fulfil("dead-letters", "put-back", letter.id)
    assert put_back.returncode == 0, put_back.stderr
    assert put_back.stdout.strip() == f"{letter.id} is back on delivery.events; its consumers will see it again"
    # Back on its topic as it first arrived, without the dead-letter headers but marked as put back...
    copies = read_events(stack, "delivery.events", key, expected=2)
    assert [(c.value(), c.headers()) for c in copies] == [
        (b"{not json", original_headers), (b"{not json", [*original_headers, (PUT_BACK, letter.id.encode())])]
    # ...and, its cause not being fixed, refused again by the consumer with the same reason.
    again = eventually(lambda: len(found := letters_of_order_consumer()) == 2 and found,
                       what="a second dead letter")
    assert {d.reason for d in again} == {letter.reason}

    unknown = fulfil("dead-letters", "put-back", "order:0:999999999")
    assert unknown.returncode == 2 and "no dead letter order:0:999999999" in unknown.stderr
