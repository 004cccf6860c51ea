"""`fulfil`: one command line for the suite — orders, stock, and the local stack.

    fulfil order place --item KB-101:2 --item MS-202:1      place an order, print its id
    fulfil order watch <id>                                  follow its timeline live until it ends
    fulfil order show <id> | list | cancel <id>              (show: with the link to its trace in Zipkin)
    fulfil order stuck                                       orders that stalled, and what is known about why
    fulfil order abort <id> --reason TEXT                    end an order its process cannot finish, undoing its work
    fulfil order abort|cancel --status S [--placed-before T] [--reason TEXT]   many orders as one operation
    fulfil stock list | show <sku>                           free and reserved units, and each SKU's version
    fulfil stock set <sku> <on-hand> --if-match VERSION      a count, made against the version shown
    fulfil stock set <sku> <on-hand> --name NAME             add a new SKU
    fulfil stock adjust <sku> <+/-units> --reason TEXT       add or remove units, whatever else changes
    fulfil dead-letters list [--consumer NAME]               events a consumer set aside, and why
    fulfil dead-letters put-back <id>                        publish one on its topic again
    fulfil incident list | retry <key> [--retries N]         open incidents (process monitor); retry after a fix
    fulfil incident retry --job-type X [--message TEXT] [--since T] [--until T]   all that match, as one operation
    fulfil operation show <id> [--order]                     a batch operation's progress and each item's result
    fulfil task list | claim <key> | release <key>           open user tasks (yours: --as USER); claim, let go
    fulfil task complete <key> <choice> [--note TEXT]        complete one with its form's choice (and note)
    fulfil process deploy [--dry-run] | versions            lint, check and deploy bpmn/; versions and running counts
    fulfil process migrate PROCESS --from V --to V [--dry-run]   move running orders to another version
    fulfil stack up | down | status | logs | incidents | tasks
    fulfil token [--as USER]                                 an access token, for curl -H "Authorization: Bearer ..."

Every command logs in to the local stack's realm by itself, as demo-operator, or for `order place` as the customer
demo-alice; `--as USER` picks another demo user (demo-alice, demo-bob, demo-operator, demo-teammate,
demo-reviewer).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import httpx
from confluent_kafka import KafkaException

from shared.runtime import problems
from shared.runtime.auth import TokenUnavailable
from tools import dead_letters, monitor
from tools.orders import FINAL, SAMPLE_ADDRESS
from tools.stack import keycloak
from tools.stack.config import StackSettings
from tools.stack.errors import StackError


class CliError(RuntimeError):
    """Printed as one line, with a non-zero exit."""


def _user(args, default: str = keycloak.OPERATOR_USER) -> str:
    return args.as_user or default


def _client(settings: StackSettings, port: int, user: str) -> httpx.Client:
    """A client of one service that logs in as `user` (a demo user of the local realm) when it first calls."""
    try:
        auth = keycloak.login(settings, user)
    except StackError as exc:
        raise CliError(str(exc)) from exc
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, auth=auth)


def _call(client: httpx.Client, method: str, path: str, **kwargs) -> httpx.Response:
    try:
        response = client.request(method, path, **kwargs)
    except TokenUnavailable as exc:
        raise CliError(f"no token: {exc}; is the stack up? (`fulfil stack up`)") from exc
    except httpx.HTTPError as exc:
        raise CliError(f"{client.base_url} is not answering ({exc}); is the stack up? (`fulfil stack up`)") from exc
    if response.status_code >= 400:
        raise CliError(problems.summary(response))
    return response


def _item(text: str) -> dict:
    sku, _, quantity = text.partition(":")
    if not sku or not quantity.isdigit():
        raise argparse.ArgumentTypeError(f"expected SKU:QUANTITY, got {text!r}")
    return {"sku": sku, "quantity": int(quantity)}


def _print_timeline_entry(entry: dict) -> None:
    print(f"  {entry['at'][11:23]}  {entry['status']:<17} {entry['what']}", flush=True)


def order_place(settings: StackSettings, args) -> int:
    body = {"items": args.item, "accept_partial_shipments": not args.no_partial,
            "shipping_address": {**SAMPLE_ADDRESS, **({"postal_code": args.postal_code} if args.postal_code else {})}}
    headers = {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else {}
    with _client(settings, settings.order_port, _user(args, keycloak.CUSTOMER_USERS[0])) as client:
        order = _call(client, "POST", "/orders", json=body, headers=headers).json()
    print(order["id"])
    return 0


def order_watch(settings: StackSettings, args) -> int:
    """Follow an order's timeline as it grows; ends when the order is final (or on timeout)."""
    shown = 0
    deadline = time.monotonic() + args.timeout
    with _client(settings, settings.order_port, _user(args)) as client:
        while True:
            order = _call(client, "GET", f"/orders/{args.order_id}").json()
            for entry in order["timeline"][shown:]:
                _print_timeline_entry(entry)
            shown = len(order["timeline"])
            if order["status"] in FINAL:
                print(f"order {args.order_id} is {order['status']}")
                return 0
            if time.monotonic() > deadline:
                print(f"order {args.order_id} is still {order['status']} after {args.timeout:.0f}s")
                return 3
            time.sleep(0.5)


def order_show(settings: StackSettings, args) -> int:
    with _client(settings, settings.order_port, _user(args)) as client:
        order = _call(client, "GET", f"/orders/{args.order_id}").json()
    print(f"order {order['id']}  {order['status']}  customer {order['customer_id']}")
    print("  items: " + ", ".join(f"{i['quantity']}x {i['sku']}" for i in order["items"]))
    for entry in order["timeline"]:
        _print_timeline_entry(entry)
    if order.get("trace_id"):
        print(f"  trace: {settings.zipkin_url}/zipkin/traces/{order['trace_id']}")
    return 0


def order_list(settings: StackSettings, args) -> int:
    params = {"status": args.status} if args.status else {}
    with _client(settings, settings.order_port, _user(args)) as client:
        for order in _call(client, "GET", "/orders", params=params).json():
            items = ", ".join(f"{i['quantity']}x {i['sku']}" for i in order["items"])
            print(f"{order['id']}  {order['status']:<17} {order['created_at'][:19]}  {items}")
    return 0


def order_stuck(settings: StackSettings, args) -> int:
    with _client(settings, settings.order_port, _user(args)) as client:
        stalls = _call(client, "GET", "/stuck-orders").json()
    for stall in stalls:
        idle = f"idle {stall['idle_seconds'] // 60} min"
        print(f"{stall['order_id']}  {stall['status']:<17} {idle}  {stall['diagnosis']}")
    if not stalls:
        print("no stalled orders")
    return 0


def follow_operation(fetch, operation: dict, poll_seconds: float = 1) -> int:
    """Prints a batch operation's progress until every item is done, then each item's result; 1 if any failed."""
    shown = None
    while True:
        progress = (operation["total"] - operation["pending"], operation["ok"], operation["failed"])
        if progress != shown:
            print(f"operation {operation['id']} ({operation['kind']} by {operation['actor']}): {progress[0]} of "
                  f"{operation['total']} done, {progress[1]} ok, {progress[2]} failed", flush=True)
            shown = progress
        if operation["state"] == "DONE":
            break
        time.sleep(poll_seconds)
        operation = fetch(operation["id"])
    for item in operation["items"] or []:
        print(f"  {item['target']:<36} {item['state']:<6} {item['result']}")
    return 1 if operation["failed"] else 0


def _order_batch(settings: StackSettings, args, action: str) -> int:
    if not args.status:
        raise CliError(f"name the order, or the orders with --status STATUS (fulfil order {action} --help)")
    body = {"action": action, "status": args.status, "placed_before": args.placed_before,
            "placed_after": args.placed_after, "reason": getattr(args, "reason", None)}
    with _client(settings, settings.order_port, _user(args)) as client:
        operation = _call(client, "POST", "/order-operations",
                          json={k: v for k, v in body.items() if v is not None}).json()
        return follow_operation(lambda operation_id: _call(client, "GET", f"/order-operations/{operation_id}").json(),
                                operation)


def operation_show(settings: StackSettings, args) -> int:
    if args.order:
        with _client(settings, settings.order_port, _user(args)) as client:
            fetch = lambda operation_id: _call(client, "GET", f"/order-operations/{operation_id}").json()  # noqa: E731
            return follow_operation(fetch, fetch(args.operation_id))
    return follow_operation(lambda operation_id: monitor.operation(settings, operation_id),
                            monitor.operation(settings, args.operation_id))


def order_cancel(settings: StackSettings, args) -> int:
    if args.order_id is None:
        return _order_batch(settings, args, "cancel")
    with _client(settings, settings.order_port, _user(args)) as client:
        result = _call(client, "POST", f"/orders/{args.order_id}/cancel").json()
    print(f"order {args.order_id}: {result['result']}")
    return 0


def order_abort(settings: StackSettings, args) -> int:
    if args.order_id is None:
        return _order_batch(settings, args, "abort")
    if not args.reason:
        raise CliError("an abort needs --reason, for the order's timeline")
    with _client(settings, settings.order_port, _user(args)) as client:
        result = _call(client, "POST", f"/orders/{args.order_id}/abort", json={"reason": args.reason}).json()
    print(f"order {args.order_id}: {result['result']}; `fulfil order watch {args.order_id}` follows it to CANCELLED")
    return 0


def _print_stock_item(row: dict) -> None:
    print(f"{row['sku']:<12} on hand {row['on_hand']:>6}  reserved {row['reserved']:>5}  "
          f"version {row['version']:>4}  {row['name']}")


def stock_list(settings: StackSettings, args) -> int:
    with _client(settings, settings.warehouse_port, _user(args)) as client:
        offset = 0
        while page := _call(client, "GET", "/stock", params={"limit": 500, "offset": offset}).json():
            for row in page:
                _print_stock_item(row)
            offset += len(page)
    return 0


def stock_show(settings: StackSettings, args) -> int:
    with _client(settings, settings.warehouse_port, _user(args)) as client:
        _print_stock_item(_call(client, "GET", f"/stock/{args.sku}").json())
    return 0


def stock_set(settings: StackSettings, args) -> int:
    """A count is checked against the version it was made on (If-Match), so nothing that happened since is lost."""
    body = {"on_hand": args.on_hand, **({"name": args.name} if args.name else {})}
    headers = {"If-Match": f'"{args.if_match}"'} if args.if_match is not None else {}
    with _client(settings, settings.warehouse_port, _user(args)) as client:
        try:
            row = _call(client, "PUT", f"/stock/{args.sku}", json=body, headers=headers).json()
        except CliError as exc:
            if str(exc).startswith("428"):
                raise CliError(f"{args.sku} exists: give --if-match VERSION (the version `fulfil stock show "
                               f"{args.sku}` printed when you counted), or use `fulfil stock adjust`") from exc
            raise
    print(json.dumps(row))
    return 0


def stock_adjust(settings: StackSettings, args) -> int:
    headers = {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else {}
    with _client(settings, settings.warehouse_port, _user(args)) as client:
        adjustment = _call(client, "POST", f"/stock/{args.sku}/adjustments", headers=headers,
                           json={"quantity": args.quantity, "reason": args.reason}).json()
    print(json.dumps(adjustment))
    return 0


def token(settings: StackSettings, args) -> int:
    """Print an access token of a demo user, for curl and the like (valid for the realm's token lifespan)."""
    try:
        print(keycloak.login(settings, _user(args)).access_token())
    except (StackError, TokenUnavailable) as exc:
        raise CliError(f"{exc}; is the stack up? (`fulfil stack up`)") from exc
    return 0


def dead_letters_list(settings: StackSettings, args) -> int:
    letters = _kafka_call(lambda: dead_letters.read(settings.kafka_bootstrap,
                                                    (args.consumer,) if args.consumer else dead_letters.CONSUMER_NAMES))
    for letter in letters:
        print(f"{letter.id:<18} {letter.at:%Y-%m-%d %H:%M:%S}  from {letter.source_topic}@{letter.source_position}"
              f"  {letter.event_type}  key {(letter.key or b'').decode(errors='replace')}")
        print(f"{'':<18} {letter.reason}")
    print(f"{len(letters)} dead letter(s)")
    return 0


def dead_letters_put_back(settings: StackSettings, args) -> int:
    letter = _kafka_call(lambda: dead_letters.put_back(settings.kafka_bootstrap, args.id))
    print(f"{letter.id} is back on {letter.source_topic}; its consumers will see it again")
    return 0


def _kafka_call(call):
    try:
        return call()
    except dead_letters.UnknownDeadLetter as exc:
        raise CliError(str(exc)) from exc
    except (KafkaException, RuntimeError) as exc:
        raise CliError(f"Kafka: {exc}; is the stack up? (`fulfil stack up`)") from exc


def incident_retry(settings: StackSettings, args) -> int:
    if args.key is not None:
        print(monitor.retry_incident(settings, args.key, args.retries))
        return 0
    body = {"job_type": args.job_type, "message_contains": args.message, "since": args.since, "until": args.until,
            "retries": args.retries}
    if not any(body[k] for k in ("job_type", "message_contains", "since", "until")):
        raise CliError("name the incident, or the incidents with --job-type, --message, --since or --until")
    operation = monitor.retry_incidents(settings, {k: v for k, v in body.items() if v is not None})
    return follow_operation(lambda operation_id: monitor.operation(settings, operation_id), operation)


def task_complete(settings: StackSettings, args) -> int:
    print(monitor.complete_user_task(settings, args.key, args.choice, args.note, _user(args)))
    return 0


def _process_deployment():
    from tools import process_deployment

    return process_deployment


def _process_migration():
    from tools import process_migration

    return process_migration


def _order_filter(command: argparse.ArgumentParser) -> None:
    command.add_argument("--status", help="every order with this status, as one operation (e.g. PLACED)")
    command.add_argument("--placed-before", help="and placed before (ISO 8601)")
    command.add_argument("--placed-after", help="and placed at or after (ISO 8601)")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="fulfil", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    root.add_argument("--as", dest="as_user", metavar="USER",
                      help="the demo user to act as: demo-alice or demo-bob (customers), demo-operator, "
                           "demo-teammate (fulfilment-team), demo-reviewer (fulfilment-reviewers)")
    areas = root.add_subparsers(dest="area", required=True)

    def area(name: str, help: str) -> argparse._SubParsersAction:
        return areas.add_parser(name, help=help).add_subparsers(dest="command", required=True)

    order = area("order", "place, follow and cancel orders")
    place = order.add_parser("place", help="place an order and print its id")
    place.add_argument("--item", type=_item, action="append", required=True, metavar="SKU:QTY")
    place.add_argument("--no-partial", action="store_true", help="wait until everything is in stock")
    place.add_argument("--postal-code", help="00000 makes the couriers refuse the parcel")
    place.add_argument("--idempotency-key")
    place.set_defaults(run=order_place)
    watch = order.add_parser("watch", help="follow an order's timeline live")
    watch.add_argument("order_id")
    watch.add_argument("--timeout", type=float, default=300)
    watch.set_defaults(run=order_watch)
    show = order.add_parser("show", help="an order and its timeline")
    show.add_argument("order_id")
    show.set_defaults(run=order_show)
    listing = order.add_parser("list", help="recent orders")
    listing.add_argument("--status")
    listing.set_defaults(run=order_list)
    order.add_parser("stuck", help="orders that stopped moving, and what is known about why").set_defaults(
        run=order_stuck)
    cancel = order.add_parser("cancel", help="cancel an order that is not delivered yet (or, with --status, "
                                             "every order that matches, as one operation)")
    cancel.add_argument("order_id", nargs="?")
    _order_filter(cancel)
    cancel.set_defaults(run=order_cancel)
    abort = order.add_parser("abort", help="end an order its process cannot finish (an incident nobody can fix, an "
                                           "instance cancelled in the engine): its work is undone, it ends CANCELLED")
    abort.add_argument("order_id", nargs="?")
    abort.add_argument("--reason", help="why, for the order's timeline (needed)")
    _order_filter(abort)
    abort.set_defaults(run=order_abort)
    operation = area("operation", "batch operations: progress and each item's result")
    show_operation = operation.add_parser("show", help="follow a batch operation until it is done")
    show_operation.add_argument("operation_id")
    show_operation.add_argument("--order", action="store_true", help="an operation on orders (the Order service's)")
    show_operation.set_defaults(run=operation_show)

    stock = area("stock", "read, count and adjust stock")
    stock.add_parser("list", help="stock per SKU").set_defaults(run=stock_list)
    show = stock.add_parser("show", help="one SKU, with the version a count is made against")
    show.add_argument("sku")
    show.set_defaults(run=stock_show)
    setting = stock.add_parser("set", help="set a SKU's free on-hand quantity to what you counted "
                                           "(a name adds a new SKU)")
    setting.add_argument("sku")
    setting.add_argument("on_hand", type=int)
    setting.add_argument("--if-match", type=int, metavar="VERSION",
                         help="the version `stock show` printed when you counted; refused if the stock changed since")
    setting.add_argument("--name")
    setting.set_defaults(run=stock_set)
    adjust = stock.add_parser("adjust", help="add (+N) or remove (-N) units relative to what is there now")
    adjust.add_argument("sku")
    adjust.add_argument("quantity", type=int, metavar="+/-UNITS")
    adjust.add_argument("--reason", required=True)
    adjust.add_argument("--idempotency-key", help="repeating the command with the same key adjusts only once")
    adjust.set_defaults(run=stock_adjust)

    dead = area("dead-letters", "events the consumers could not accept")
    listing = dead.add_parser("list", help="every dead letter with its reason and origin")
    listing.add_argument("--consumer", choices=dead_letters.CONSUMER_NAMES)
    listing.set_defaults(run=dead_letters_list)
    put_back = dead.add_parser("put-back", help="publish a dead letter's record on its source topic again "
                                                 "(after fixing what made the consumer refuse it)")
    put_back.add_argument("id", help="CONSUMER:PARTITION:OFFSET, as `list` shows it")
    put_back.set_defaults(run=dead_letters_put_back)

    incident = area("incident", "incidents, from the process monitor")
    incident.add_parser("list", help="open incidents and their messages").set_defaults(
        run=lambda settings, _: monitor.print_incidents(settings))
    retry = incident.add_parser("retry", help="after fixing its cause: give the job retries, resolve the incident")
    retry.add_argument("key", type=int, nargs="?", help="one incident; leave out to retry all that match the filter")
    retry.add_argument("--retries", type=int, default=1)
    retry.add_argument("--job-type", help="incidents of jobs of this type, e.g. warehouse.reserve-stock")
    retry.add_argument("--message", help="incidents whose error message contains this")
    retry.add_argument("--since", help="raised at or after (ISO 8601)")
    retry.add_argument("--until", help="raised before (ISO 8601)")
    retry.set_defaults(run=incident_retry)

    task = area("task", "user tasks, from the process monitor")
    task.add_parser("list", help="open user tasks (all for an operator, else your groups'), who may do them, "
                                 "who claimed them, their forms' choices").set_defaults(
        run=lambda settings, args: monitor.print_user_tasks(settings, _user(args)))
    claim = task.add_parser("claim", help="assign an open task to yourself (a member of its candidate groups)")
    claim.add_argument("key", type=int)
    claim.set_defaults(run=lambda settings, args: print(monitor.claim_user_task(settings, args.key, _user(args))))
    release = task.add_parser("release", help="let go of a task you claimed")
    release.add_argument("key", type=int)
    release.set_defaults(run=lambda settings, args: print(monitor.release_user_task(settings, args.key, _user(args))))
    complete = task.add_parser("complete", help="complete an open user task with one of its form's choices")
    complete.add_argument("key", type=int)
    complete.add_argument("choice")
    complete.add_argument("--note", help="text for the form's text field, e.g. a review's note")
    complete.set_defaults(run=task_complete)

    process = area("process", "deploy the BPMN, list its versions, move running orders to a new version")
    deploy = process.add_parser("deploy", help="lint bpmn/, check it against the contracts and the running "
                                               "versions, and deploy it as one deployment")
    deploy.add_argument("--dry-run", action="store_true", help="check only; deploy nothing")
    deploy.set_defaults(run=lambda settings, args: _process_deployment().deploy(settings, args))
    process.add_parser("versions", help="every deployed version with its tag and its running instances").set_defaults(
        run=lambda settings, args: _process_deployment().versions(settings, args))
    migrate = process.add_parser("migrate", help="move the running instances of one version to another, "
                                                 "by the plan in bpmn/migrations/")
    migrate.add_argument("process_id", metavar="PROCESS", help="order-fulfillment (its called shipments move too)")
    migrate.add_argument("--from", dest="from_version", type=int, required=True, metavar="VERSION")
    migrate.add_argument("--to", dest="to_version", type=int, required=True, metavar="VERSION")
    migrate.add_argument("--dry-run", action="store_true", help="report what would move and what would be refused")
    migrate.add_argument("--batch", type=int, default=50, help="instances per request to the monitor")
    migrate.add_argument("--plans", metavar="DIR", help="the plans' directory (bpmn/migrations by default)")
    migrate.set_defaults(run=lambda settings, args: _process_migration().migrate(settings, args))

    printing = areas.add_parser("token", help="print an access token for curl (demo-operator's, or --as USER's)")
    printing.add_argument("--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS,
                          help="demo-alice or demo-bob (customers), demo-operator, demo-teammate, demo-reviewer")
    printing.set_defaults(run=token)

    stack = areas.add_parser("stack", help="the local stack (same as the make targets)")
    stack.add_argument("command", choices=["up", "down", "status", "logs", "incidents", "tasks"])
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.area == "stack":
        from tools.stack.cli import main as stack_main

        stack_main([args.command])
        return
    try:
        sys.exit(args.run(StackSettings(), args))
    except (CliError, monitor.MonitorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.exit(0)


if __name__ == "__main__":
    # `python -m tools.cli` runs this file as __main__; the command modules raise tools.cli's CliError, so run that.
    from tools.cli import main as run

    run()
