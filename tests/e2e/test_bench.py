"""`make bench` on the real stack, with phases of a few seconds: figures for both sides and their ratio come out.

Timings are what the bench reports, never what a test asserts; this checks that the bench measures at all.
"""
import re
import subprocess
import sys


def table(output: str, column: str) -> list[list[str]]:
    """The printed table (header first) whose header has `column`, down to the blank line that ends it;
    columns are two or more spaces apart."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("phase  ") and f"  {column}  " in line)
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def rows_of(rows: list[list[str]], phase: str) -> dict[str, list[str]]:
    """A table's rows of one phase, by side."""
    return {row[1]: row for row in rows if row[0] == phase}


def test_the_bench_measures_the_reference_and_the_suite_side_by_side_and_writes_the_docs(stack, tmp_path):
    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n\nHow to run it, written by hand.\n")
    bench = subprocess.run(
        [sys.executable, "-m", "tools.stack", "bench", "--clients", "2", "--duration", "3", "--rate", "2",
         "--open-duration", "3", "--warmup", "0", "--drain", "20", "--docs", str(docs)],
        capture_output=True, text=True, timeout=120)
    assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-3000:]

    figures = table(bench.stdout, "started")
    cpu = table(bench.stdout, "camunda")
    for phase in ("closed 2", "open 2/s"):
        rows = rows_of(figures, phase)
        assert set(rows) == {"reference", "suite", "suite / reference"}, bench.stdout
        for side in ("reference", "suite"):
            started, completed = int(rows[side][2]), int(rows[side][3])
            assert completed > 0 and started >= completed, rows[side]
        assert re.fullmatch(r"\d+ %", rows["suite / reference"][2]), rows["suite / reference"]
        assert re.fullmatch(r"\d+\.\d\d×", rows["suite / reference"][3]), rows["suite / reference"]
        suite_cpu = dict(zip(cpu[0], rows_of(cpu, phase)["suite"], strict=True))
        assert float(suite_cpu["order"]) > 0 and float(suite_cpu["camunda"]) > 0, suite_cpu

    written = docs.read_text()
    assert written.startswith("# Performance\n\nHow to run it, written by hand.\n"), written[:200]
    assert "| closed 2 | suite / reference |" in written and "Camunda 8.6.0" in written
    assert (tmp_path / "images" / "performance.svg").read_text().startswith("<svg")
