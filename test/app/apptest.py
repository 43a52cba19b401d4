# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the app suite's Python tests: check/summary, polling, a control socket
client, starting the daemon with EAL on --no-huge and cleaning up after it."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time


class Result:
    failures = 0


def check(cond, what):
    if cond:
        print("ok:", what)
    else:
        Result.failures += 1
        print("FAIL:", what)


def failures():
    return Result.failures


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise TimeoutError(what)


class Ctl:
    """One control socket connection."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(20)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")

    def raw(self, data):
        self.s.sendall(data)

    def line(self):
        ln = self.f.readline()
        return json.loads(ln) if ln else None

    def cmd(self, text):
        self.raw(text.encode() + b"\n")
        return self.line()

    def close(self):
        self.f.close()
        self.s.close()


DPDK_RUN_DIRS = ("/var/run/dpdk", os.environ.get("XDG_RUNTIME_DIR", "") + "/dpdk", "/tmp/dpdk")


class Daemon:
    """The daemon on two lcores (--no-huge), its log in a file; stop() ends it with SIGTERM
    and checks that it exits 0."""

    def __init__(self, exe, prefix, run_dir, args, log_path):
        self.prefix = prefix
        self.run_dir = run_dir
        self.log = open(log_path, "w+")
        cmd = [exe, "-l", "0,1", "--no-huge", "-m", "128", "--no-pci", "--file-prefix",
               prefix, "--", "--run-dir", run_dir] + args
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=30):
        """Until the log says 'ready' (every socket exists) or the daemon exited."""
        def ready():
            if self.p.poll() is not None:
                return True
            self.log.flush()
            with open(self.log.name) as f:
                return "ready" in f.read()
        wait_for(ready, timeout, "daemon ready")
        return self.p.poll() is None

    def alive(self):
        return self.p.poll() is None

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                rc = self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                rc = self.p.wait()
            check(rc == 0, "SIGTERM: daemon exits 0 (got %s)" % rc)
        self.log.close()


def remove_eal_dirs(*prefixes):
    """EAL leaves its runtime directory behind; remove this run's."""
    for base in DPDK_RUN_DIRS:
        for pfx in prefixes:
            shutil.rmtree(os.path.join(base, pfx), ignore_errors=True)


def make_user(name):
    """The unprivileged test user (a system user without a home or shell), created if
    missing. Returns (uid, gid) or None when that is not possible (not root, no useradd)."""
    import pwd
    try:
        pw = pwd.getpwnam(name)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        pass
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        return None
    subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                    "/nonexistent", "--shell", "/usr/sbin/nologin", name], check=True)
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


# System calls the daemon makes that the unit's filter refuses (EPERM), harmlessly: EAL's
# rte_eal_init() asks for port I/O with iopl(3) on x86, which an unprivileged process is
# refused anyway; EAL carries on without it. Any other call outside the filter kills the
# sandboxed daemon and fails the test.
SANDBOX_REFUSED = ("iopl",)


def reachable_by_others(path):
    """True if a user who is neither owner nor in the group can execute path (o+x on it and
    on every directory above it)."""
    p = os.path.abspath(path)
    while True:
        if not os.stat(p).st_mode & 0o001:
            return False
        if p == "/":
            return True
        p = os.path.dirname(p)


def sandbox_wrapper(exe, unit, user, top):
    """unit: a unit file or a list (the unit, then drop-ins). Returns (wrapper, rw): rw is top/sandbox, owned by user, the one writable directory
    (the daemon's run dirs go there, and through $XDG_RUNTIME_DIR EAL's runtime directory);
    wrapper is an executable in top (which stays root's) that runs exe with its arguments
    as user under unit's restrictions (unitsandbox.py). exec all the way down: the daemon
    keeps the wrapper's pid."""
    import pwd
    pw = pwd.getpwnam(user)
    os.chmod(top, 0o755)
    rw = os.path.join(top, "sandbox")
    xdg = os.path.join(rw, "xdg")
    os.mkdir(rw, 0o755)
    os.mkdir(xdg, 0o700)
    for d in (rw, xdg):
        os.chown(d, pw.pw_uid, pw.pw_gid)
    os.environ["XDG_RUNTIME_DIR"] = xdg
    if not reachable_by_others(exe):
        # A checkout in a 0700 directory (mktemp -d): the user could not run the build's
        # binary. A copy in top, which is 0755, behaves the same.
        copy = os.path.join(top, os.path.basename(exe))
        shutil.copy2(exe, copy)
        os.chmod(copy, 0o755)
        print("sandbox: %s is not reachable by other users: running a copy, %s" % (exe, copy))
        exe = copy
    sandbox = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unitsandbox.py")
    path = os.path.join(top, "vhost-balloon-sandboxed")
    units = [unit] if isinstance(unit, str) else unit
    env = ""
    if "ASAN_OPTIONS" in os.environ:
        # LeakSanitizer stops the world with ptrace, which the unit's filter forbids; the
        # daemon's leaks are checked by the tests that run it as root.
        env = "ASAN_OPTIONS='%s:detect_leaks=0' " % os.environ["ASAN_OPTIONS"]
    with open(path, "w") as f:
        f.write('#!/bin/sh\n%sexec "%s" "%s" %s --user "%s" --rw "%s" %s -- "%s" "$@"\n' %
                (env, sys.executable, sandbox, " ".join('--unit "%s"' % u for u in units),
                 user, rw, " ".join("--refuse " + c for c in SANDBOX_REFUSED),
                 os.path.abspath(exe)))
    os.chmod(path, 0o755)
    return path, rw
