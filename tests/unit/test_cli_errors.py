"""The `fulfil` command line shows a service's error answer in one line, whatever the body, and never a traceback."""
import httpx
import pytest

from shared.runtime.http import PROBLEM_MEDIA_TYPE
from tools import cli, monitor
from tools.stack.config import StackSettings


def answering(status: int, body: bytes = b"", content_type: str = "") -> httpx.MockTransport:
    headers = {"content-type": content_type} if content_type else {}
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body, headers=headers))


def refused_with(transport: httpx.BaseTransport) -> str:
    with httpx.Client(base_url="http://127.0.0.1:1", transport=transport) as client:
        with pytest.raises(cli.CliError) as refusal:
            cli._call(client, "GET", "/orders/1")
    return str(refusal.value)


def test_a_problem_shows_its_status_and_detail():
    problem = (b'{"type": "tag:fulfilment.example,2026:problems/conflict", "title": "Conflict", "status": 409, '
               b'"detail": "order 1 cannot be cancelled: delivered"}')
    assert refused_with(answering(409, problem, PROBLEM_MEDIA_TYPE)) == "409: order 1 cannot be cancelled: delivered"


def test_a_problems_fields_at_fault_are_shown_unless_its_detail_names_them():
    problem = (b'{"title": "Unprocessable Content", "status": 422, "detail": "invalid order", '
               b'"errors": [{"field": "items.0.sku", "problem": "not in the catalog"}]}')
    shown = refused_with(answering(422, problem, PROBLEM_MEDIA_TYPE))
    assert shown == "422: invalid order; items.0.sku: not in the catalog"


def test_a_body_that_is_not_json_is_shown_as_its_first_words_or_the_status_phrase():
    assert refused_with(answering(500, b"Internal Server Error\n", "text/plain")) == "500: Internal Server Error"
    assert refused_with(answering(502, b"<html><h1>Bad gateway</h1></html>", "text/html")) == "502: Bad Gateway"
    assert refused_with(answering(502)) == "502: Bad Gateway"


def test_a_service_that_is_not_listening_is_named_with_a_hint():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    assert "is not answering" in refused_with(httpx.MockTransport(refuse))


def test_the_command_line_prints_an_error_in_one_line_and_exits_with_2(monkeypatch, capsys):
    def unreadable_answer(settings, args) -> int:
        plain_500 = answering(500, b"Internal Server Error", "text/plain")
        with httpx.Client(base_url="http://order", transport=plain_500) as client:
            cli._call(client, "GET", "/orders")
        return 0

    monkeypatch.setattr(cli, "order_list", unreadable_answer)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["order", "list"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "error: 500: Internal Server Error\n"


def test_the_monitor_commands_read_a_problem_the_same_way(monkeypatch):
    problem = b'{"title": "Conflict", "status": 409, "detail": "incident 5 is already resolved"}'
    monkeypatch.setattr(monitor, "_login", lambda settings, user: None)
    monkeypatch.setattr(httpx, "request", lambda *args, **kwargs: httpx.Response(
        409, content=problem, headers={"content-type": PROBLEM_MEDIA_TYPE}, request=httpx.Request("POST", "http://m")))
    with pytest.raises(monitor.MonitorError, match="^409: incident 5 is already resolved$"):
        monitor.retry_incident(StackSettings(), 5)
