"""The labs of the project, and the scratch copy of a submission's student files.

A lab is a folder labs/NN_name/ whose CMakeLists.txt says `aio_add_lab(SOURCES ...)`: those
files are the student's. A submission is a folder with the same NN_name/ subfolders (a copy
of labs/, or a whole checkout whose labs/ holds them). Only the listed files are ever read
from a submission, and they are copied into a scratch folder that the build uses; the
submission itself is never written to.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_SOURCE_BYTES = 1 << 20
LAB_FOLDER = re.compile(r"^(\d\d)_[A-Za-z0-9_]+$")


class GradeError(Exception):
    """A problem with the grader's inputs (not with a submission): reported, then stop."""


@dataclass
class Lab:
    name: str                 # "03_future"
    folder: Path              # the project's labs/03_future
    sources: list[str]        # the student files, relative to the lab folder

    @property
    def number(self) -> str:  # "03"
        return self.name[:2]


def parse_sources(cmakelists: str) -> list[str]:
    """The files of `aio_add_lab(SOURCES a b ...)`, or [] if there is no such call."""
    text = re.sub(r"#[^\n]*", "", cmakelists)
    match = re.search(r"aio_add_lab\s*\(\s*SOURCES\s+([^)]*)\)", text)
    return match.group(1).split() if match else []


def discover_labs(root: Path) -> list[Lab]:
    """Every labs/NN_name/ of the project that declares its student files, in order."""
    labs = []
    folder = root / "labs"
    if not folder.is_dir():
        raise GradeError(f"{folder} does not exist: is {root} the aiolab project?")
    for entry in sorted(folder.iterdir()):
        if not LAB_FOLDER.match(entry.name) or not (entry / "CMakeLists.txt").is_file():
            continue
        sources = parse_sources((entry / "CMakeLists.txt").read_text(errors="replace"))
        if sources:
            labs.append(Lab(entry.name, entry, sources))
    return labs


def select_labs(labs: list[Lab], spec: str | None) -> list[Lab]:
    """`--labs 1,03,05_cancellation` → those labs; None → all. Unknown names are an error."""
    if not spec:
        return labs
    chosen = []
    for word in (part.strip() for part in spec.split(",")):
        if not word:
            continue
        match = [lab for lab in labs
                 if lab.name == word or lab.number == word or
                 (word.isdigit() and int(word) == int(lab.number))]
        if not match:
            valid = ", ".join(lab.name for lab in labs) or "none"
            raise GradeError(f"no lab '{word}' (valid labs: {valid})")
        for lab in match:
            if lab not in chosen:
                chosen.append(lab)
    return sorted(chosen, key=lambda lab: lab.name)


def locate_submission(path: Path, labs: list[Lab]) -> Path:
    """The folder that holds the submission's NN_name/ folders: `path` itself, its labs/,
    or (for an unpacked archive) the first such folder up to three levels down."""
    names = {lab.name for lab in labs}

    def holds_labs(folder: Path) -> bool:
        try:
            return any((folder / name).is_dir() for name in names)
        except OSError:
            return False

    if holds_labs(path):
        return path
    if holds_labs(path / "labs"):
        return path / "labs"
    for depth in range(1, 4):
        for folder in sorted(path.glob("/".join(["*"] * depth))):
            if folder.is_dir() and not folder.is_symlink() and holds_labs(folder):
                return folder
    return path


# --- checks on a student file ------------------------------------------------------------

_SPLICE = re.compile(r"\\\r?\n")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_LINE_COMMENT = re.compile(r"//[^\n]*")
_DIRECTIVE = re.compile(r"^[ \t]*(?:#|%:)[ \t]*(include\w*|embed|import)\b[ \t]*(.*)$", re.M)


def check_includes(text: str) -> list[str]:
    """Reasons why a student file reaches outside its own folder at compile time: an
    #include of an absolute path or through '..', a computed #include, #embed, or an
    assembler .incbin. The build is not sandboxed everywhere, so these are refused; every
    legitimate include names a file of the lab, of aio, or of the standard library."""
    problems = []
    code = _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub(" ", _SPLICE.sub("", text)))
    for match in _DIRECTIVE.finditer(code):
        keyword, operand = match.group(1), match.group(2).strip()
        line = code.count("\n", 0, match.start()) + 1
        if keyword in ("embed", "import"):
            problems.append(f"line {line}: #{keyword} is not allowed")
            continue
        quoted = re.match(r'^(?:"([^"]*)"|<([^>]*)>)', operand)
        if not quoted:
            problems.append(f"line {line}: #{keyword} of a macro is not allowed; name the file")
            continue
        target = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
        if target.startswith("/") or ".." in target.replace("\\", "/").split("/"):
            problems.append(f"line {line}: #{keyword} \"{target}\" reaches outside the lab folder")
    if re.search(r"incbin", code, re.I):
        problems.append("uses .incbin, which is not allowed")
    if re.search(r"__has_include\s*\(\s*[\"<]\s*(/|[^\"<>]*\.\.)", code):
        problems.append("__has_include of a path outside the lab folder is not allowed")
    return problems


@dataclass
class SyncResult:
    problems: list[str] = field(default_factory=list)   # why this lab cannot be graded
    changed: list[str] = field(default_factory=list)    # files whose content changed


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file, refusing symbolic links (a link could point at the
    reference solution) and anything that is not a plain file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError("not a regular file")
        if info.st_size > MAX_SOURCE_BYTES:
            raise OSError(f"larger than {MAX_SOURCE_BYTES // 1024} KiB")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write_if_changed(target: Path, data: bytes) -> bool:
    """Writes only when the content differs, so an unchanged file keeps its timestamp and
    ninja does not rebuild it: this is what makes a warm re-grade fast."""
    try:
        if target.read_bytes() == data:
            return False
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return True


def sync_lab(lab: Lab, submission: Path | None, scratch: Path) -> SyncResult:
    """Copies the lab's student files from the submission into scratch/NN_name/. With no
    submission (a lab not being graded) or a missing file, the starter file stands in, so
    the shared build tree always configures; the missing file is still reported."""
    result = SyncResult()
    for source in lab.sources:
        target = scratch / lab.name / source
        data = None
        if submission is not None:
            path = submission / lab.name / source
            shown = f"{lab.name}/{source}"
            if path.is_symlink():
                result.problems.append(f"{shown} is a symbolic link; submit the file itself")
            elif not path.exists():
                result.problems.append(f"{shown} is missing from the submission")
            else:
                try:
                    data = _read_regular_file(path)
                except OSError as error:
                    result.problems.append(f"{shown} cannot be read: {error.strerror or error}")
            if data is not None:
                for problem in check_includes(data.decode("utf-8", errors="replace")):
                    result.problems.append(f"{shown}: {problem}")
        if data is None or result.problems:
            starter = lab.folder / source
            data = starter.read_bytes() if starter.is_file() else b""
        if _write_if_changed(target, data):
            result.changed.append(source)
    return result
