"""Runs one untrusted program with limits, and reads its private result channel.

Every run gets: a wall-clock timeout, rlimits (CPU time, address space, processes, file
size, no core dumps, set by `prlimit` so that no Python code runs between fork and exec),
its own process group that is killed on timeout and again when it exits, a minimal
environment, stdin from /dev/null, and stdout+stderr captured up to a cap.

Where the kernel allows it the program also runs in a bubblewrap sandbox: new user, pid,
network, IPC and UTS namespaces, a read-only view of /usr, /etc and the program file only
(no project, no solutions, no home), a private tmpfs /tmp, --die-with-parent and
--new-session. `probe()` decides once which mode works; without bubblewrap the grader
says so in its output.

When the grader runs as root (Gradescope, CI containers), the program runs as an
unprivileged uid, one per worker slot: the kernel never enforces RLIMIT_NPROC for root,
so a fork bomb would otherwise be bounded by nothing but the timeout.
"""
from __future__ import annotations

import ctypes
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

# Unprivileged uids used when the grader is root: SANDBOX_UID_BASE + worker slot.
SANDBOX_UID_BASE = 61000
SANDBOX_PATH = "/aiolab"   # where the program file appears inside the sandbox


@dataclass
class Limits:
    """What one run may use. Times in seconds, sizes in bytes."""
    wall_seconds: float = 10.0
    cpu_seconds: int = 11
    memory_bytes: int = 2 << 30
    processes: int = 64
    file_bytes: int = 16 << 20
    output_bytes: int = 1 << 20        # beyond this the run is killed: output limit exceeded
    keep_output_bytes: int = 16 << 10  # how much of the output is kept for the report
    tmpfs_bytes: int = 64 << 20


@dataclass
class RunResult:
    """What happened to one run. `records` holds only records that carried the nonce."""
    exit_code: int | None = None       # normal exit status, or None when killed by a signal
    signal: int | None = None          # the signal that ended it, if any
    timed_out: bool = False
    output_exceeded: bool = False
    output: str = ""
    output_bytes: int = 0
    records: list[dict] = field(default_factory=list)
    foreign_lines: int = 0             # lines on the result channel without the nonce
    seconds: float = 0.0
    launch_error: str | None = None    # the grader could not start the program at all

    @property
    def signal_name(self) -> str:
        if self.signal is None:
            return ""
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"


class _OutputBuffer:
    """Keeps the head and the tail of a stream, counting everything."""

    def __init__(self, keep: int):
        self.keep_head = keep * 3 // 4
        self.keep_tail = keep - self.keep_head
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.keep_head - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.keep_tail:
                del self.tail[:len(self.tail) - self.keep_tail]

    def text(self) -> str:
        omitted = self.total - len(self.head) - len(self.tail)
        middle = f"\n[... {omitted} bytes of output omitted ...]\n".encode() if omitted > 0 else b""
        return (bytes(self.head) + middle + bytes(self.tail)).decode("utf-8", errors="replace")


def _count_own_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


class Sandbox:
    """How test programs are started on this machine. Create with `probe()`."""

    def __init__(self, mode: str, warning: str | None = None, tmpfs_size: bool = True,
                 slots: list[int] | None = None):
        self.mode = mode               # "bwrap" or "rlimits"
        self.warning = warning
        self.tmpfs_size = tmpfs_size   # bwrap understands --size
        self.as_root = os.geteuid() == 0
        # As an ordinary user, RLIMIT_NPROC counts every process of that user (in a user
        # namespace too: the kernel checks the count at each level up to the initial
        # namespace), so the limit is "what is running now + the allowance".
        self.process_base = 0 if self.as_root else _count_own_processes()
        # Worker slots (each its own uid as root). Two graders running at once as root must
        # be given disjoint slots, or one would sweep away the other's test processes.
        self._slots = list(slots) if slots is not None else list(range(64))
        self._last_slot = self._slots[-1]  # shared when every slot is taken
        self._slots_lock = threading.Lock()
        # Without a pid namespace, what a test leaves behind is re-parented to init, which
        # in a container may never reap it; its zombies would then count against the
        # slot's process limit forever. As a subreaper the grader inherits and reaps them.
        self._launch_lock = threading.Lock()
        self._live: set[int] = set()
        # As root, copies of the programs that the unprivileged uids can reach (_staged).
        self._stage_lock = threading.Lock()
        self._stage_dir: Path | None = None
        self._staged_programs: dict[tuple, Path] = {}
        if mode == "rlimits":
            try:
                ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
            except (OSError, AttributeError):
                pass

    # --- probing ------------------------------------------------------------------------
    @classmethod
    def probe(cls, allow_bwrap: bool = True, slots: list[int] | None = None) -> "Sandbox":
        """Tries bubblewrap once with the exact options used for tests; falls back to
        rlimits and a process group, with a warning for the report."""
        if not shutil.which("prlimit"):
            raise RuntimeError("prlimit (util-linux) is required to grade")
        def unsandboxed(why: str) -> "Sandbox":
            return cls("rlimits", f"{why}: tests ran with rlimits and a process group only, "
                                  "with network and file system access", slots=slots)

        if not allow_bwrap:
            return unsandboxed("sandbox disabled (--no-sandbox)")
        if not shutil.which("bwrap"):
            return unsandboxed("bubblewrap is not installed")
        errors = []
        for with_size in (True, False):
            sandbox = cls("bwrap", tmpfs_size=with_size, slots=slots)
            result = sandbox.run(Path("/bin/true"), [], Limits(wall_seconds=20), channel=False)
            if result.exit_code == 0:
                return sandbox
            errors.append((result.launch_error or result.output).strip()[:300])
        return unsandboxed(f"bubblewrap cannot create namespaces here ({errors[-1] or 'no message'})")

    def describe(self) -> str:
        if self.mode == "bwrap":
            return "bubblewrap sandbox (no network, read-only file system, private /tmp)"
        return "rlimits and a process group (no bubblewrap sandbox)"

    # --- running ------------------------------------------------------------------------
    def _bwrap_prefix(self, program: Path, inner: str, limits: Limits) -> list[str]:
        args = ["bwrap", "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                "--unshare-uts", "--hostname", "sandbox",
                "--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        args += ["--ro-bind", "/etc", "/etc", "--dev", "/dev", "--proc", "/proc"]
        if self.tmpfs_size:
            args += ["--size", str(limits.tmpfs_bytes)]
        args += ["--tmpfs", "/tmp", "--dir", SANDBOX_PATH,
                 "--ro-bind", str(program), inner,
                 "--chdir", "/tmp", "--die-with-parent", "--new-session", "--"]
        return args

    def _staged(self, program: Path) -> Path:
        """As root, a test runs as an unprivileged uid, which may be unable to reach the build
        tree (a project under /root, or in a mode-700 temporary folder): it would fail to
        start, and every test would count as an error. So the program is copied, once per
        build of it, into a folder of the grader's that every uid can traverse."""
        try:
            info = program.stat()
        except OSError:
            return program  # missing: the run reports it
        key = (str(program.resolve()), info.st_mtime_ns, info.st_size)
        with self._stage_lock:
            staged = self._staged_programs.get(key)
            if staged is None:
                if self._stage_dir is None:
                    self._stage_dir = Path(tempfile.mkdtemp(prefix="aiograde-programs-"))
                    os.chmod(self._stage_dir, 0o711)
                    weakref.finalize(self, shutil.rmtree, str(self._stage_dir), True)
                folder = Path(tempfile.mkdtemp(dir=self._stage_dir))
                os.chmod(folder, 0o711)
                staged = folder / program.name  # same name: Catch2 and the report show it
                shutil.copyfile(program, staged)
                os.chmod(staged, 0o755)
                self._staged_programs[key] = staged
        return staged

    def _take_slot(self) -> int:
        with self._slots_lock:
            return self._slots.pop(0) if self._slots else self._last_slot

    def _give_slot(self, slot: int) -> None:
        with self._slots_lock:
            if slot not in self._slots:
                self._slots.append(slot)

    def run(self, program: Path, args: list[str], limits: Limits, channel: bool = True,
            extra_env: dict[str, str] | None = None) -> RunResult:
        """Runs `program args...` under the limits and returns what happened. With
        `channel`, the program gets AIOLAB_RESULT_FD/NONCE and its records are collected."""
        program = Path(program)
        if self.as_root:
            program = self._staged(program)
        slot = self._take_slot()
        workdir = None
        result_read = result_write = None
        try:
            uid = SANDBOX_UID_BASE + slot
            env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp"}
            if self.mode == "bwrap":
                inner = f"{SANDBOX_PATH}/{program.name}"
                command = self._bwrap_prefix(program, inner, limits) + [inner] + list(args)
                cwd = "/"
            else:
                workdir = tempfile.mkdtemp(prefix="aiograde-run-")
                if self.as_root:
                    os.chown(workdir, uid, uid)
                env["HOME"] = env["TMPDIR"] = workdir
                command = [str(program)] + list(args)
                cwd = workdir
            processes = self.process_base + limits.processes
            command = ["prlimit", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
                       f"--as={limits.memory_bytes}", f"--nproc={processes}",
                       f"--fsize={limits.file_bytes}", "--core=0", "--"] + command
            nonce = secrets.token_hex(16)
            pass_fds: tuple[int, ...] = ()
            if channel:
                result_read, result_write = os.pipe2(os.O_CLOEXEC)
                pass_fds = (result_write,)
                env["AIOLAB_RESULT_FD"] = str(result_write)
                env["AIOLAB_RESULT_NONCE"] = nonce
            if extra_env:
                env.update(extra_env)
            user_args = {}
            if self.as_root:
                user_args = {"user": uid, "group": uid, "extra_groups": []}
            output_read, output_write = os.pipe2(os.O_CLOEXEC)
            start = time.monotonic()
            try:
                with self._launch_lock:
                    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output_write,
                                               stderr=output_write, env=env, cwd=cwd,
                                               pass_fds=pass_fds, start_new_session=True,
                                               close_fds=True, **user_args)
                    self._live.add(process.pid)
            except OSError as error:
                os.close(output_read)
                return RunResult(launch_error=f"cannot start {program.name}: {error}")
            finally:
                os.close(output_write)
                if result_write is not None:
                    os.close(result_write)
                    result_write = None
            try:
                result = self._collect(process, output_read, result_read, limits, start)
            finally:
                with self._launch_lock:
                    self._live.discard(process.pid)
            result_read = None  # closed by _collect
            if self.mode == "rlimits":
                self._sweep(uid)
            self._parse_records(result, nonce)
            return result
        finally:
            if result_write is not None:
                os.close(result_write)
            if result_read is not None:
                os.close(result_read)
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            self._give_slot(slot)

    def _sweep(self, uid: int) -> None:
        """After a run without a pid namespace: kill whatever the test left running (a
        process that called setsid escapes the process group), then reap orphans. As root
        the test had a uid of its own, so `kill -KILL -1` run as that uid reaches exactly
        its processes and nobody else's."""
        if self.as_root:
            try:
                with self._launch_lock:
                    killer = subprocess.Popen(["kill", "-KILL", "--", "-1"], user=uid, group=uid,
                                              extra_groups=[], stdin=subprocess.DEVNULL,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    self._live.add(killer.pid)
                try:
                    killer.wait(timeout=10)
                finally:
                    with self._launch_lock:
                        self._live.discard(killer.pid)
            except (OSError, subprocess.SubprocessError):
                pass
            # Wait until the uid owns nothing, so the slot starts clean next time.
            deadline = time.monotonic() + 3
            while self._owned_by(uid) and time.monotonic() < deadline:
                self.reap_orphans()
                time.sleep(0.02)
        self.reap_orphans()

    @staticmethod
    def _owned_by(uid: int) -> bool:
        for entry in os.scandir("/proc"):
            try:
                if entry.name.isdigit() and entry.stat().st_uid == uid:
                    return True
            except OSError:
                pass
        return False

    def reap_orphans(self) -> None:
        """Reaps zombie children that are not a process the grader started and waits for
        (those are all in `_live` while they run): orphans re-parented to the grader as
        subreaper. Builds never run at the same time as tests."""
        me = os.getpid()
        with self._launch_lock:
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                pid = int(entry.name)
                if pid in self._live:
                    continue
                try:
                    with open(f"/proc/{pid}/stat", "rb") as status:
                        fields = status.read().rsplit(b")", 1)[1].split()
                except OSError:
                    continue
                if fields[0] == b"Z" and int(fields[1]) == me:
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass

    def _collect(self, process: subprocess.Popen, output_read: int, result_read: int | None,
                 limits: Limits, start: float) -> RunResult:
        result = RunResult()
        output = _OutputBuffer(limits.keep_output_bytes)
        records = bytearray()
        selector = selectors.DefaultSelector()
        selector.register(output_read, selectors.EVENT_READ, "output")
        if result_read is not None:
            selector.register(result_read, selectors.EVENT_READ, "records")
        deadline = start + limits.wall_seconds
        exited_at = None
        try:
            while selector.get_map():
                now = time.monotonic()
                if now >= deadline:
                    result.timed_out = True
                    break
                if exited_at is None and process.poll() is not None:
                    exited_at = now
                if exited_at is not None and now - exited_at > 0.5:
                    break  # something the program left behind still holds the pipes
                for key, _ in selector.select(timeout=min(deadline - now, 0.1)):
                    data = os.read(key.fd, 65536)
                    if not data:
                        selector.unregister(key.fd)
                        continue
                    if key.data == "output":
                        output.add(data)
                    elif len(records) < (1 << 20):
                        records += data
                if output.total > limits.output_bytes:
                    result.output_exceeded = True
                    break
        finally:
            # Kill the whole group: the program, and anything it started, in every case.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for key in list(selector.get_map().values()):
                self._drain(key.fd, output if key.data == "output" else None, records)
            selector.close()
            os.close(output_read)
            if result_read is not None:
                os.close(result_read)
        result.seconds = time.monotonic() - start
        result.output = output.text()
        result.output_bytes = output.total
        code = process.returncode
        if code is not None and code < 0:
            result.signal = -code
        elif code is not None and self.mode == "bwrap" and 128 < code < 128 + 65:
            result.signal = code - 128  # bubblewrap reports a child's death by signal N as 128+N
        else:
            result.exit_code = code
        result._raw_records = bytes(records)  # type: ignore[attr-defined]
        return result

    @staticmethod
    def _drain(fd: int, output: _OutputBuffer | None, records: bytearray) -> None:
        os.set_blocking(fd, False)
        try:
            for _ in range(64):
                data = os.read(fd, 65536)
                if not data:
                    break
                if output is not None:
                    output.add(data)
                elif len(records) < (1 << 20):
                    records += data
        except (BlockingIOError, OSError):
            pass

    @staticmethod
    def _parse_records(result: RunResult, nonce: str) -> None:
        raw = getattr(result, "_raw_records", b"")
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8", errors="replace"))
            except ValueError:
                result.foreign_lines += 1
                continue
            if not isinstance(record, dict) or record.get("nonce") != nonce or record.get("aiolab") != 1:
                result.foreign_lines += 1
                continue
            result.records.append(record)
