# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the app suite's Python tests: check/summary, polling, a control socket
client, starting the daemon with EAL on --no-huge and cleaning up after it."""
import json
import os
import shutil
import signal
import socket
import subprocess
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
