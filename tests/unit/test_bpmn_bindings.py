"""Every link from a process to another resource is pinned to the resource deployed with it, and every process
carries a version tag, so a redeploy never changes what a running order does (docs/changing-the-process.md)."""
import xml.etree.ElementTree as ET

import pytest

from tools.bootstrap import BPMN_DIR

ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
LINKS = ("calledElement", "formDefinition", "calledDecision")
PROCESS_FILES = sorted(BPMN_DIR.glob("*.bpmn"))


def links(path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    return [element for name in LINKS for element in root.iter(ZEEBE + name)]


@pytest.mark.parametrize("path", PROCESS_FILES, ids=lambda p: p.name)
def test_every_link_is_bound_to_its_own_deployment(path):
    unpinned = [f"{e.tag.removeprefix(ZEEBE)} {e.get('processId') or e.get('formId') or e.get('decisionId')}"
                for e in links(path) if e.get("bindingType") != "deployment"]
    assert unpinned == [], f"{path.name}: set bindingType=\"deployment\" on {', '.join(unpinned)}"


@pytest.mark.parametrize("path", PROCESS_FILES, ids=lambda p: p.name)
def test_every_process_has_a_version_tag(path):
    for process in ET.parse(path).getroot().iter(BPMN + "process"):
        tags = [t.get("value") for t in process.iter(ZEEBE + "versionTag")]
        assert tags and all(tags), f"{path.name}: process {process.get('id')} has no zeebe:versionTag"


def test_the_files_link_to_something():
    """The checks above would pass vacuously if the tags they look for were misspelt."""
    assert sum(len(links(p)) for p in PROCESS_FILES) >= 3
