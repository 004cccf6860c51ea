"""Without Prometheus and no way to install it the stack starts anyway and says how to get it; `make test` stops."""
import pytest

from tools.stack import prometheus
from tools.stack.config import StackSettings
from tools.stack.errors import StackError


@pytest.fixture
def nothing_on_the_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither prometheus, promtool nor apt-get on it


def test_without_prometheus_or_apt_the_stack_starts_without_it_and_says_how_to_install_it(
        nothing_on_the_path, tmp_path, capsys):
    settings = StackSettings(state_dir=tmp_path / "stack")
    assert prometheus.ensure_installed(required=False) is False
    prometheus.start(settings)  # no failure: the rest of the stack starts
    assert "apt-get install prometheus" in capsys.readouterr().out
    assert prometheus.status(settings).startswith("not installed")
    assert prometheus.summary(settings).startswith("not installed")


def test_a_run_that_needs_promtool_stops_with_how_to_install_it(nothing_on_the_path):
    with pytest.raises(StackError, match=r"install Debian's package \(sudo apt-get install prometheus\)"):
        prometheus.promtool()
