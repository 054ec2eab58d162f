"""Process packages: a folder or zip with BPMN, DMN, forms and service.toml, read into memory."""

from __future__ import annotations

import hashlib
import io
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from engine.errors import PackageInvalid, Problem

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
MAX_FILES = 200
ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json", ".toml", ".html", ".md", ".txt", ".css", ".svg", ".png")


@dataclass(frozen=True)
class Package:
    """The files of one process package, keyed by their relative POSIX path."""

    files: dict[str, bytes]
    source: str = "<upload>"
    _service: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # Parsed forms of the files, made once per package object and shared by lint, compile and
    # deploy: each XML file is parsed once, and SpiffWorkflow's parser runs once (engine.bpmn.compile).
    _parsed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def bpmn_files(self) -> list[str]:
        return sorted(name for name in self.files if name.endswith(".bpmn"))

    @property
    def dmn_files(self) -> list[str]:
        return sorted(name for name in self.files if name.endswith(".dmn"))

    @property
    def content_hash(self) -> str:
        """Hash every file name and content, so identical packages hash the same."""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0")
            digest.update(hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()

    def service(self) -> dict[str, Any]:
        """Return service.toml parsed; raise PackageInvalid when missing or malformed."""
        raw = self.files.get("service.toml")
        if raw is None:
            raise PackageInvalid([Problem("service.toml", None, "service.toml is missing")])
        try:
            return tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise PackageInvalid([Problem("service.toml", None, f"not valid TOML: {exc}")]) from exc

    def xml(self, name: str) -> Any:
        """Return one BPMN or DMN file parsed safely (engine.bpmn.xmlsafe), parsing it only once.

        Raises UnsafeXml like parse_xml; callers must not change the tree they get.
        """
        key = f"xml:{name}"
        if key not in self._parsed:
            from engine.bpmn.xmlsafe import parse_xml

            self._parsed[key] = parse_xml(self.files[name], filename=name)
        return self._parsed[key]

    def memo(self, key: str) -> Any:
        """Return something derived from this package and stored with it, or None."""
        return self._parsed.get(f"memo:{key}")

    def remember(self, key: str, value: Any) -> None:
        """Store something derived from this package's content (a parser, a model) with it."""
        self._parsed[f"memo:{key}"] = value

    def form_path(self, name: str) -> str:
        """Map a form file name from a user task property to its package path."""
        name = name.lstrip("/")
        return name if name.startswith("forms/") else f"forms/{name}"


def _check_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise PackageInvalid([Problem(name, None, "file name must be a relative path inside the package")])
    return path.as_posix()


def _keep(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return not any(part.startswith(".") or part == "__MACOSX" for part in parts)


def from_files(files: dict[str, bytes], *, source: str = "<upload>") -> Package:
    """Build a package from uploaded files, refusing unsafe names and oversized content."""
    problems: list[Problem] = []
    clean: dict[str, bytes] = {}
    total = 0
    for raw_name, content in files.items():
        name = _check_name(raw_name)
        if not _keep(name):
            continue
        if not name.endswith(ALLOWED_SUFFIXES):
            problems.append(Problem(name, None, "file type not allowed in a package"))
            continue
        if len(content) > MAX_FILE_BYTES:
            problems.append(Problem(name, None, f"file is larger than {MAX_FILE_BYTES // 1024} KiB"))
            continue
        total += len(content)
        clean[name] = content
    if len(clean) > MAX_FILES:
        problems.append(Problem("<package>", None, f"more than {MAX_FILES} files"))
    if total > MAX_PACKAGE_BYTES:
        problems.append(Problem("<package>", None, f"package is larger than {MAX_PACKAGE_BYTES // 1024 // 1024} MiB"))
    if problems:
        raise PackageInvalid(problems)
    return Package(files=clean, source=source)


def from_zip(data: bytes, *, source: str = "<zip>") -> Package:
    """Read a zipped package; a single top folder inside the zip is stripped."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise PackageInvalid([Problem(source, None, "not a valid zip file")]) from exc
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if sum(info.file_size for info in infos) > MAX_PACKAGE_BYTES or len(infos) > MAX_FILES * 2:
        raise PackageInvalid([Problem(source, None, "zip expands beyond the package size limit")])
    names = [info.filename for info in infos if _keep(info.filename)]
    tops = {PurePosixPath(n).parts[0] for n in names}
    strip = len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in names)
    files: dict[str, bytes] = {}
    for info in infos:
        if not _keep(info.filename):
            continue
        name = PurePosixPath(*PurePosixPath(info.filename).parts[1:]).as_posix() if strip else info.filename
        files[name] = archive.read(info)
    return from_files(files, source=source)


def from_path(path: str | Path) -> Package:
    """Read a package from a folder or a .zip file on disk."""
    path = Path(path)
    if path.is_file() and path.suffix == ".zip":
        return from_zip(path.read_bytes(), source=str(path))
    if not path.is_dir():
        raise PackageInvalid([Problem(str(path), None, "not a package folder or .zip file")])
    files = {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and _keep(p.relative_to(path).as_posix())
    }
    return from_files(files, source=str(path))


def to_zip(files: dict[str, bytes]) -> bytes:
    """Zip a package's files at the top level, in the format `from_zip` and `mpp deploy` read back."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # fixed: same files, same zip
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()
