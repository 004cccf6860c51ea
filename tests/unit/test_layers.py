"""The packages stand in floors: shared (the contracts and the runtime) at the bottom, services on them, tools on top;
no circles."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "services", "tools")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def first_party_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PACKAGES}


MODULES = {module_name(p): first_party_imports(p) for package in PACKAGES for p in (ROOT / package).rglob("*.py")
           if "migrations" not in p.parts}


def allowed(importer: str, imported: str) -> bool:
    floor, *rest = importer.split(".")
    target = imported.split(".")
    if floor == "tools":
        return True
    if floor == "services":
        # A service imports contracts, the runtime and itself: never another service.
        return target[0] == "shared" or target[:2] == ["services", *rest[:1]]
    return target[:2] == ["shared", *rest[:1]]  # the contracts and the runtime stand on nothing of the project's


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_from_the_floors_below_it(package):
    wrong = {module: sorted(i for i in imports if not allowed(module, i))
             for module, imports in MODULES.items() if module.startswith(package)}
    assert {m: i for m, i in wrong.items() if i} == {}


def test_no_module_imports_itself_back_through_others():
    graph = {m: {i for i in imports if i in MODULES and i != m} for m, imports in MODULES.items()}
    circles = []

    def visit(module: str, path: list[str]) -> None:
        for target in graph[module]:
            if target in path:
                circles.append(path[path.index(target):] + [target])
            elif target not in done:
                visit(target, path + [target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert circles == []
