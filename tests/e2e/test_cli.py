"""The `fulfil` command line against the running stack, as a person would use it."""
import subprocess
import sys
import uuid


def fulfil(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shared.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_place_and_watch_an_order_until_it_completes(stack):
    sku = f"CLI-{uuid.uuid4().hex[:6]}"
    assert fulfil("stock", "set", sku, "3", "--name", "CLI test item").returncode == 0
    placed = fulfil("order", "place", "--item", f"{sku}:2")
    assert placed.returncode == 0, placed.stderr
    order_id = placed.stdout.strip()
    watched = fulfil("order", "watch", order_id, "--timeout", "60")
    assert watched.returncode == 0, watched.stdout + watched.stderr
    lines = watched.stdout.splitlines()
    assert "PLACED" in lines[0] and lines[-1] == f"order {order_id} is COMPLETED"
    assert f"{sku}" in fulfil("stock", "list").stdout


def test_errors_are_one_readable_line_with_a_non_zero_exit(stack):
    missing = fulfil("order", "show", "no-such-order")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: 404: no order with id no-such-order"
    bad_item = fulfil("order", "place", "--item", "KB-101")
    assert bad_item.returncode == 2 and "expected SKU:QUANTITY" in bad_item.stderr
