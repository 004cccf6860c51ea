"""The bench's pure parts: the renamed reference BPMN, a phase's figures, and the docs' generated section."""
import xml.etree.ElementTree as ET

from tools.bench.loops import Finish, Load, Sample
from tools.bench.reference import PREFIX, PROCESS_FILES, renamed
from tools.bench.report import BEGIN, END, Machine, write_docs
from tools.bench.results import Phase, Shape, ratios
from tools.bootstrap import BPMN_DIR

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"


def names_in(root: ET.Element) -> list[str]:
    """Every name a deployed process is known by: process ids, called processes, messages, job types, planes."""
    return ([p.get("id") for p in root.iter(BPMN + "process")]
            + [c.get("processId") for c in root.iter(ZEEBE + "calledElement")]
            + [m.get("name") for m in root.iter(BPMN + "message")]
            + [t.get("type") for t in root.iter(ZEEBE + "taskDefinition")]
            + [p.get("bpmnElement") for p in root.iter(BPMNDI + "BPMNPlane")])


def test_the_reference_bpmn_shares_no_process_message_or_job_type_with_the_real_one():
    for name in PROCESS_FILES:
        original = ET.parse(BPMN_DIR / name).getroot()
        reference = ET.fromstring(renamed(BPMN_DIR / name))
        assert names_in(reference) == [PREFIX + n for n in names_in(original)]
        # The rest is untouched: the same elements, conditions and timers, in the same order.
        assert [e.tag for e in reference.iter()] == [e.tag for e in original.iter()]
        conditions = [c.text for c in reference.iter(BPMN + "conditionExpression")]
        assert conditions == [c.text for c in original.iter(BPMN + "conditionExpression")]
        assert b'xsi:type="bpmn:tFormalExpression"' in renamed(BPMN_DIR / name)


def sample(due: float, took: float | None, ok: bool = True) -> Sample:
    finish = None if took is None else Finish(at=due + took, ok=ok, seen=due + took + 0.1)
    return Sample(due=due, key=str(due), accepted=due + 0.01, finish=finish)


def phase(side: str, samples: list[Sample], duration: float = 10.0) -> Phase:
    return Phase(side, Shape(clients=2), duration, Load(samples=samples, begin=0.0, end=duration),
                 cpu_seconds={"order": 2.0})


def test_a_phase_counts_throughput_within_its_window_and_latency_over_every_completion():
    done = phase("suite", [sample(0, 1), sample(2, 1), sample(8, 4), sample(9, None), sample(9.5, 1, ok=False)])
    assert len(done.completed) == 3 and done.unfinished == 1 and done.failed == 1
    assert done.throughput == 2 / 10  # the one that completed at 12 s was in the drain
    assert done.latency(50) == 1 and done.latency(99) == 4
    assert done.cpu_ms_per_order("order") == 2000 / 3


def test_the_ratio_compares_the_suite_with_the_reference_in_the_same_shape():
    reference = phase("reference", [sample(t, 0.5) for t in range(8)])
    suite = phase("suite", [sample(t, 1.5) for t in range(0, 8, 2)])
    [ratio] = ratios([reference, suite])
    assert ratio.throughput == 0.5 and ratio.p50 == 3.0


def test_a_rerun_replaces_only_the_generated_section_of_the_docs(tmp_path):
    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n\nWritten by hand.\n")
    machine = Machine(cpu="a CPU", cores=2, memory_gib=8, system="Linux", python="3.11", load_before=0.5)
    phases = [phase("reference", [sample(0, 0.5)]), phase("suite", [sample(0, 1.5)])]
    write_docs(docs, phases, machine, "a first run")
    docs.write_text(docs.read_text() + "\nAn afterword, by hand.\n")
    write_docs(docs, phases, machine, "a second run")
    text = docs.read_text()
    assert text.startswith("# Performance\n\nWritten by hand.\n") and text.endswith("\nAn afterword, by hand.\n")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert "a second run" in text and "a first run" not in text
    assert (tmp_path / "images" / "performance.svg").read_text().startswith("<svg")
