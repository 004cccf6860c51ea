"""Fetch pinned artifacts from Maven Central once: with Maven when present, else over HTTP with checksums."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from tools.stack.config import CAMUNDA_VERSION, KAFKA_VERSION, KEYCLOAK_VERSION, ZIPKIN_VERSION, StackSettings
from tools.stack.errors import StackError
from tools.stack.processes import step

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
KAFKA_POM = Path(__file__).with_name("kafka-runtime-pom.xml")
KAFKA_JARS = Path(__file__).with_name("kafka-runtime-jars.txt")


def camunda_home(settings: StackSettings) -> Path:
    """The unpacked Camunda distribution, fetched and unpacked on first use."""
    return _unpacked(settings, "io.camunda:camunda-zeebe", CAMUNDA_VERSION, f"camunda-zeebe-{CAMUNDA_VERSION}",
                     "bin/broker", licence="Camunda License 1.0, for non-production use only "
                                           "(see docs/adr/0003-camunda-licence.md)")


def keycloak_home(settings: StackSettings) -> Path:
    """The unpacked Keycloak server distribution (Apache License 2.0), fetched and unpacked on first use."""
    return _unpacked(settings, "org.keycloak:keycloak-quarkus-dist", KEYCLOAK_VERSION, f"keycloak-{KEYCLOAK_VERSION}",
                     "bin/kc.sh", licence="Apache License 2.0")


def zipkin_jar(settings: StackSettings) -> Path:
    """Zipkin's self-contained server (Apache License 2.0): the `exec` jar, run as it is."""
    return fetch(settings, "io.zipkin:zipkin-server", ZIPKIN_VERSION, "jar", classifier="exec")


def _unpacked(settings: StackSettings, coordinate: str, version: str, folder: str, launcher: str,
              licence: str) -> Path:
    """A tar.gz distribution unpacked into the downloads folder as `folder`; `launcher` shows it is complete."""
    home = settings.downloads / folder
    if (home / launcher).is_file():
        return home
    settings.downloads.mkdir(parents=True, exist_ok=True)
    archive = fetch(settings, coordinate, version, "tar.gz")
    step(f"unpacking {archive.name}: {licence}")
    with tarfile.open(archive) as tar:
        tar.extractall(settings.downloads, filter="tar")
    archive.unlink()
    return home


def kafka_libs(settings: StackSettings) -> Path:
    """A folder with the Kafka broker jars and a log4j2 backend, resolved once."""
    libs = settings.downloads / f"kafka-{KAFKA_VERSION}-libs"
    marker = libs / ".complete"
    if marker.is_file():
        return libs
    libs.mkdir(parents=True, exist_ok=True)
    if shutil.which("mvn"):
        step(f"resolving Kafka {KAFKA_VERSION} jars with Maven")
        _run_maven(
            ["-f", str(KAFKA_POM), "dependency:copy-dependencies", f"-DoutputDirectory={libs}",
             "-DincludeScope=runtime"],
            what=f"Kafka {KAFKA_VERSION} jars",
        )
    else:
        for line in KAFKA_JARS.read_text().split():
            group, artifact, version = line.split(":")
            fetch(settings, f"{group}:{artifact}", version, "jar", into=libs)
    marker.touch()
    return libs


def fetch(settings: StackSettings, coordinate: str, version: str, extension: str, into: Path | None = None,
          classifier: str = "") -> Path:
    group, artifact = coordinate.split(":")
    target_dir = into or settings.downloads
    # Maven's own file name, which `dependency:copy` writes too: artifact-version[-classifier].extension.
    file_name = f"{artifact}-{version}{f'-{classifier}' if classifier else ''}.{extension}"
    target = target_dir / file_name
    if target.is_file():
        return target
    # groupId:artifactId:version:packaging[:classifier], as dependency:copy reads it.
    full = f"{coordinate}:{version}:{extension}{f':{classifier}' if classifier else ''}"
    if shutil.which("mvn"):
        step(f"fetching {full} with Maven (cached in ~/.m2 after the first time)")
        _run_maven(
            ["dependency:copy", f"-Dartifact={full}", f"-DoutputDirectory={target_dir}",
             "-Dmdep.overWriteReleases=false"],
            what=f"{coordinate}:{version}",
        )
    else:
        _http_fetch(maven_url(group, artifact, version, extension, classifier), target)
    if not target.is_file():
        raise StackError(f"{full} was not fetched; see the Maven output above")
    return target


def _run_maven(args: list[str], what: str) -> None:
    result = subprocess.run(["mvn", "-B", "-ntp", *args], capture_output=True, text=True)
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if "ERROR" in line][:3]
        raise StackError(
            f"Maven could not fetch {what} from Maven Central: {' '.join(errors) or result.stdout[-400:]}; "
            "check that Maven Central is reachable"
        )


def maven_url(group: str, artifact: str, version: str, extension: str, classifier: str = "") -> str:
    suffix = f"-{classifier}" if classifier else ""
    return f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}{suffix}.{extension}"


def _http_fetch(url: str, target: Path) -> None:
    step(f"downloading {url}")
    partial = target.with_suffix(target.suffix + ".part")
    sha1 = hashlib.sha1()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                sha1.update(chunk)
                done += len(chunk)
                if total:
                    print(f"\r   {done >> 20} / {total >> 20} MiB", end="", flush=True)
        print(flush=True)
        with urllib.request.urlopen(url + ".sha1", timeout=60) as response:
            expected = response.read().decode().split()[0]
    except urllib.error.URLError as exc:
        partial.unlink(missing_ok=True)
        raise StackError(f"download of {url} failed ({exc}); check that Maven Central is reachable") from exc
    if sha1.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise StackError(f"checksum mismatch for {url}: got {sha1.hexdigest()}, expected {expected}; retry")
    partial.rename(target)
