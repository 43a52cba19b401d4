#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The daemon with a real QEMU (TCG) and a real Linux guest (Debian's kernel, the busybox
initramfs of usertools/build-guest.sh). One case per run, each with a fresh daemon and
fresh VMs; guest RAM on memfd or on hugetlbfs, shared with the backend and preallocated,
so that every page the backend releases shows as a block less in QEMU's memory file.

Cases:
  inflate    inflate and deflate to targets; the guest's /proc/vmstat balloon counters,
             `actual` and the backend's count agree; the host memory returned equals what
             the backend says it regained; the guest's data intact afterwards
  stats      the guest's memory statistics in `show stats` and in telemetry
  reporting  memory the guest frees comes back to the host (free page reporting)
  oom        the guest allocates past what the balloon left it: deflate-on-OOM, no kill
  reboot     the guest reboots (its driver restarts); ballooning works again
  kill       QEMU killed mid-inflate: the device goes back to listening, a new QEMU
             connects and works
  multi      three VMs on one daemon, inflated at once

Skips (exit 77) when the QEMU of usertools/build-qemu.sh or the guest of
usertools/build-guest.sh is not built, or (hugetlbfs) without enough free hugepages.

usage: test_qemu.py REPO_ROOT VHOST_BALLOON CASE memfd|hugetlbfs
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "app"))
from apptest import Ctl, Daemon, check, failures, remove_eal_dirs, wait_for  # noqa: E402
from test_daemon import telemetry  # noqa: E402

MiB = 1 << 20
GUEST_MEM = 256 * MiB
SKIP = 77
# Under TCG on a busy shared machine a boot takes seconds to a minute: generous waits.
BOOT_S = 240
SETTLE_S = 120


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def cache_dir():
    return os.environ.get("VHB_CACHE", "/var/cache/vhost-balloon")


def find_qemu():
    """The QEMU of usertools/build-qemu.sh (VHB_QEMU overrides), or skip."""
    q = os.environ.get("VHB_QEMU")
    if q:
        return q
    prefix = os.path.join(cache_dir(), "qemu-10.0.2")
    q = os.path.join(prefix, "bin", "qemu-system-x86_64")
    if not (os.access(q, os.X_OK) and os.path.exists(os.path.join(prefix, ".complete"))):
        skip("no QEMU with a user-creatable vhost-user-device-pci in %s: "
             "run usertools/build-qemu.sh (as root) to build it" % prefix)
    return q


def find_guest(root):
    """The guest of usertools/build-guest.sh for this tree, or skip."""
    r = subprocess.run([os.path.join(root, "usertools", "build-guest.sh"), "--check"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        skip("no test guest built for this tree: run usertools/build-guest.sh (%s)" %
             r.stderr.strip())
    return r.stdout.strip()


def hugetlbfs_mount():
    with open("/proc/mounts") as f:
        for ln in f:
            dev, mnt, fstype, opts = ln.split()[:4]
            if fstype == "hugetlbfs" and ("pagesize=2M" in opts or "pagesize" not in opts):
                return mnt
    return None


def free_hugepages():
    with open("/proc/meminfo") as f:
        for ln in f:
            if ln.startswith("HugePages_Free:"):
                return int(ln.split()[1])
    return 0


class Guest:
    """One QEMU with the test guest; commands over its serial console (QEMU's stdio)."""

    def __init__(self, env, name, sock, backing, mem=GUEST_MEM, num_vqs=4):
        self.name = name
        self.backing = backing
        self.hugedir = env.hugedir
        self.log = open(os.path.join(env.root, "qemu-%s-%d.log" % (name, env.next_id())), "w")
        self.buf = ""
        self.cond = threading.Condition()
        self.seq = 0
        if backing == "memfd":
            memobj = "memory-backend-memfd,id=mem,size=%d,share=on,prealloc=on" % mem
        else:
            memobj = ("memory-backend-file,id=mem,size=%d,mem-path=%s,share=on,prealloc=on" %
                      (mem, env.hugedir))
        args = [env.qemu, "-nodefaults", "-no-user-config", "-display", "none",
                "-machine", "q35,memory-backend=mem", "-accel", "tcg", "-cpu", "max",
                "-smp", "1", "-m", str(mem // MiB), "-object", memobj,
                "-chardev", "socket,id=vb,path=%s" % sock,
                "-device", "vhost-user-device-pci,chardev=vb,virtio-id=5,num_vqs=%d,"
                "vq_size=128,config_size=16" % num_vqs,
                "-kernel", os.path.join(env.guest, "vmlinuz"),
                "-initrd", os.path.join(env.guest, "initramfs.gz"),
                "-append", "console=ttyS0 quiet panic=0",
                "-serial", "stdio", "-monitor", "none"]
        self.log.write(" ".join(args) + "\n")
        self.log.flush()
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            b = os.read(self.p.stdout.fileno(), 65536)
            if not b:
                break
            t = b.decode(errors="replace").replace("\r", "")
            self.log.write(t)
            self.log.flush()
            with self.cond:
                self.buf += t
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_text(self, pattern, timeout, start=0):
        """Wait until the console output from offset `start` matches; returns the match."""
        end = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        with self.cond:
            while True:
                m = rx.search(self.buf, start)
                if m:
                    return m
                left = end - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self.reader.is_alive()):
                    raise TimeoutError("%s: no /%s/ on the console (QEMU %s)" %
                                       (self.name, pattern, self.p.poll()))
                self.cond.wait(min(left, 1))

    def boot(self, nth=1):
        """Wait for the nth VHB-READY (1: first boot, 2: after one reboot, ...)."""
        end = time.monotonic() + BOOT_S
        with self.cond:
            while len(re.findall(r"^VHB-READY", self.buf, re.M)) < nth:
                left = end - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self.reader.is_alive()):
                    raise TimeoutError("%s: boot %d not finished (QEMU %s)" %
                                       (self.name, nth, self.p.poll()))
                self.cond.wait(min(left, 1))

    def sh(self, cmd, timeout=180):
        """Run a shell command in the guest: (status, output)."""
        self.seq += 1
        tag = "c%d" % self.seq
        with self.cond:
            start = len(self.buf)
        self.p.stdin.write(("%s %s\n" % (tag, cmd)).encode())
        self.p.stdin.flush()
        m = self.wait_text(r"^VHB-END %s (\d+)$" % tag, timeout, start)
        with self.cond:
            b = self.buf.index("VHB-BEGIN %s\n" % tag, start) + len("VHB-BEGIN %s\n" % tag)
            out = self.buf[b:m.start()]
        return int(m.group(1)), out

    def ok(self, cmd, timeout=180):
        rc, out = self.sh(cmd, timeout)
        if rc != 0:
            raise RuntimeError("%s: guest command '%s' failed (%d): %s" %
                               (self.name, cmd, rc, out[-2000:]))
        return out

    def vmstat_balloon(self):
        """Pages in the balloon by the guest's own counters: inflated minus deflated."""
        out = self.ok("grep balloon_ /proc/vmstat")
        v = dict((ln.split()[0], int(ln.split()[1])) for ln in out.splitlines() if ln.strip())
        return v["balloon_inflate"] - v["balloon_deflate"]

    def meminfo(self, key):
        out = self.ok("grep '^%s:' /proc/meminfo" % key)
        return int(out.split()[1]) * 1024

    def ram_file(self):
        """QEMU's guest RAM file (memfd or hugetlbfs), through QEMU's own fd."""
        d = "/proc/%d/fd" % self.p.pid
        for fd in os.listdir(d):
            try:
                t = os.readlink(os.path.join(d, fd))
            except OSError:
                continue
            if t.startswith("/memfd:memory-backend-memfd") or (
                    self.hugedir and t.startswith(self.hugedir.rstrip("/") + "/")):
                return os.path.join(d, fd)
        raise RuntimeError("%s: no guest RAM file among QEMU's fds" % self.name)

    def host_bytes(self):
        """Host memory the guest RAM file holds now."""
        return os.stat(self.ram_file()).st_blocks * 512

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.reader.join(5)

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write(b"x poweroff -f\n")
                self.p.stdin.flush()
                self.p.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        self.log.close()


class Env:
    """A fresh daemon (control socket, telemetry) and the VMs of one case."""

    def __init__(self, root_dir, daemon, qemu, guest, backing, sockets):
        self.root = tempfile.mkdtemp(prefix="vhb-qemu-")
        self.qemu = qemu
        self.guest = guest
        self.backing = backing
        self.ids = 0
        self.hugedir = hugetlbfs_mount() if backing == "hugetlbfs" else None
        self.prefix = "vhb-qemu-%d" % os.getpid()
        self.run_dir = os.path.join(self.root, "run")
        args = ["--control", "ctl.sock", "--stats-interval", "1"]
        for s in sockets:
            args += ["--socket", s]
        self.d = Daemon(daemon, self.prefix, self.run_dir, args,
                        os.path.join(self.root, "daemon.log"))
        if not self.d.wait_ready():
            raise RuntimeError("daemon exited %s" % self.d.p.returncode)
        ctl = os.path.join(self.run_dir, "ctl.sock")
        self.c = Ctl(ctl)
        self.vms = []

    def next_id(self):
        self.ids += 1
        return self.ids

    def sock(self, name):
        return os.path.join(self.run_dir, name + ".sock")

    def start(self, name, **kw):
        g = Guest(self, name, self.sock(name), self.backing, **kw)
        self.vms.append(g)
        return g

    def cmd(self, line):
        r = self.c.cmd(line)
        if r is None or "error" in r:
            raise RuntimeError("control '%s': %s" % (line, r))
        return r

    def dev(self, name):
        return self.cmd("show device %s" % name)["device"]

    def counters(self, name):
        return self.cmd("show counters %s" % name)["counters"]

    def wait_running(self, name):
        wait_for(lambda: self.dev(name)["state"] == "running", BOOT_S, name + " running")

    def settle(self, name, target):
        """Set the balloon target and wait until the guest and the backend both reached it."""
        self.cmd("set target %s %dK" % (name, target // 1024))

        def done():
            d = self.dev(name)
            return d["actual_bytes"] == target and d["in_balloon_bytes"] == target and d
        try:
            return wait_for(done, SETTLE_S, "%s: balloon at %d MiB" % (name, target // MiB))
        except TimeoutError:
            d = self.dev(name)
            raise TimeoutError("%s: balloon not at %d MiB: actual %d MiB, backend %d MiB" %
                               (name, target // MiB, d["actual_bytes"] // MiB,
                                d["in_balloon_bytes"] // MiB))

    def close(self, failed):
        for g in self.vms:
            g.stop()
        self.c.close()
        self.d.stop()
        text = self.d.log_text()
        if failed or failures() or os.environ.get("VHB_KEEP_LOGS"):
            print("---- daemon log (tail) ----\n" + text[-5000:])
            for g in self.vms:
                with g.cond:
                    print("---- %s console (tail) ----\n%s" % (g.name, g.buf[-3000:]))
            print("logs kept in " + self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        remove_eal_dirs(self.prefix)


def balloon_agrees(env, g, what):
    """The guest's vmstat, the guest's `actual` and the backend's own count agree."""
    d = env.dev(g.name)
    pages = g.vmstat_balloon()
    check(pages * 4096 == d["actual_bytes"] == d["in_balloon_bytes"],
          "%s %s: guest vmstat %d MiB, actual %d MiB, backend %d MiB" %
          (g.name, what, pages * 4096 // MiB, d["actual_bytes"] // MiB,
           d["in_balloon_bytes"] // MiB))


def released_matches(env, g, before_host, before_rel, what):
    """Host memory returned (QEMU's RAM file) equals what the backend says it regained and,
    RAM being preallocated, what it asked to release; its host_resident is the file's size."""
    d = env.dev(g.name)
    host = g.host_bytes()
    check(before_host - host == d["regained_bytes"] - before_rel[0] ==
          d["release_asked_bytes"] - before_rel[1],
          "%s %s: host RAM file shrank by %d KiB, backend regained %d KiB, asked %d KiB" %
          (g.name, what, (before_host - host) // 1024,
           (d["regained_bytes"] - before_rel[0]) // 1024,
           (d["release_asked_bytes"] - before_rel[1]) // 1024))
    check(d["host_resident_bytes"] == host,
          "%s %s: backend's host_resident %d KiB = RAM file %d KiB" %
          (g.name, what, d["host_resident_bytes"] // 1024, host // 1024))
    return host, (d["regained_bytes"], d["release_asked_bytes"])


def released(d):
    return d["regained_bytes"], d["release_asked_bytes"]


# ---- the cases ----

def case_inflate(env):
    # No free page reporting here: only the balloon releases, so the sums must match.
    g = env.start("vm1", num_vqs=3)
    g.boot()
    env.wait_running("vm1")
    check(env.dev("vm1")["guest_mem_bytes"] == GUEST_MEM, "guest memory is the VM's RAM")
    g.ok("memfill fill /tmp/keep 32 7")
    print("guest: MemTotal %d MiB, MemFree %d MiB" %
          (g.meminfo("MemTotal") // MiB, g.meminfo("MemFree") // MiB))
    host0, rel0 = g.host_bytes(), released(env.dev("vm1"))
    check(host0 == GUEST_MEM, "RAM preallocated on the host (%d MiB)" % (host0 // MiB))
    for target in (64 * MiB, 128 * MiB):
        env.settle("vm1", target)
        balloon_agrees(env, g, "at %d MiB" % (target // MiB))
        host0, rel0 = released_matches(env, g, host0, rel0, "at %d MiB" % (target // MiB))
    # Deflating releases nothing; the guest's pages come back to the host as it touches them.
    env.settle("vm1", 32 * MiB)
    balloon_agrees(env, g, "deflated to 32 MiB")
    d = env.dev("vm1")
    grown = g.host_bytes() - host0
    check(released(d) == rel0 and 0 <= grown <= 96 * MiB,
          "deflate to 32 MiB: nothing released (%d KiB), host RAM file grew by %d KiB <= 96 MiB"
          % ((d["release_asked_bytes"] - rel0[1]) // 1024, grown // 1024))
    d = env.dev("vm1")
    check(d["regained_bytes"] > 0, "host memory regained (%d MiB)" % (d["regained_bytes"] // MiB))
    if env.backing == "memfd":
        check(GUEST_MEM - g.host_bytes() >= 32 * MiB,
              "memfd: at least the 32 MiB balloon is off the host (%d MiB)" %
              ((GUEST_MEM - g.host_bytes()) // MiB))
    env.settle("vm1", 0)
    balloon_agrees(env, g, "deflated")
    out = g.ok("memfill verify /tmp/keep 7")
    check("8192 pages ok" in out, "guest data intact after inflate/deflate: " + out.strip())
    # The deflated pages are usable again (they come back zero-filled on first touch).
    out = g.ok("memfill alloc 128 9")
    check("32768 pages ok" in out, "guest uses the returned memory: " + out.strip())
    c = env.counters("vm1")
    check(c["guest_errors"] == 0 and c["release_errors"] == 0,
          "no guest or release errors (%d, %d)" % (c["guest_errors"], c["release_errors"]))


def case_stats(env):
    g = env.start("vm1")
    g.boot()
    env.wait_running("vm1")
    total = g.meminfo("MemTotal")
    r = wait_for(lambda: (lambda s: s["updates"] > 0 and s)(env.cmd("show stats vm1")),
                 60, "guest statistics")
    st = r["stats"]
    print("show stats: %s" % json.dumps(r))
    check(st.get("total-memory") == total,
          "total-memory %s = guest MemTotal %d" % (st.get("total-memory"), total))
    check(0 < st.get("free-memory", 0) <= total, "free-memory within MemTotal")
    check(0 < st.get("available-memory", 0) <= total, "available-memory within MemTotal")
    # The guest's numbers move: use 64 MiB more and see free memory drop by about that.
    free0 = st["free-memory"]
    g.ok("memfill fill /tmp/x 64 1")
    n = r["updates"]
    r = wait_for(lambda: (lambda s: s["updates"] > n + 1 and s)(env.cmd("show stats vm1")),
                 60, "newer statistics")
    check(free0 - r["stats"]["free-memory"] >= 48 * MiB,
          "free-memory follows the guest (%d -> %d MiB)" %
          (free0 // MiB, r["stats"]["free-memory"] // MiB))
    _, t = telemetry(env.prefix, "/vhost_balloon/guest_stats,vm1")
    check(t and t.get("total_memory") == total and t.get("updates", 0) > 0,
          "telemetry guest_stats: total_memory %s, updates %s" %
          (t and t.get("total_memory"), t and t.get("updates")))


def case_reporting(env):
    g = env.start("vm1")
    g.boot()
    env.wait_running("vm1")
    # At boot the guest reports most of its free memory; wait until that settles.
    last = [-1]

    def settled():
        v = env.counters("vm1")["report_bytes_regained"]
        same = v == last[0] and v > 0
        last[0] = v
        return same
    wait_for(lambda: (time.sleep(3), settled())[1], 120, "boot-time reporting settles")
    rep0 = env.counters("vm1")["report_bytes_regained"]
    check(rep0 > 0, "boot: guest reported free memory, %d MiB released" % (rep0 // MiB))
    check(GUEST_MEM - g.host_bytes() >= rep0 // 2,
          "boot: host RAM file holds %d MiB of %d" % (g.host_bytes() // MiB, GUEST_MEM // MiB))
    g.ok("memfill fill /tmp/big 128 3")
    host1 = g.host_bytes()
    rep1 = env.counters("vm1")["report_bytes_regained"]
    g.ok("rm /tmp/big")
    # One report request carries up to 128 MiB: the host sees its releases while they run,
    # the counters when the request is done. Wait for both (host first, then counters).
    last = {}

    def reported():
        last["host"] = g.host_bytes()
        last["rep"] = env.counters("vm1")["report_bytes_regained"]
        shrink = host1 - last["host"]
        return shrink >= 64 * MiB and last["rep"] - rep1 >= shrink
    try:
        wait_for(reported, 120, "freed memory reported")
    except TimeoutError:
        pass
    host2, rep2 = last["host"], last["rep"]
    check(host1 - host2 >= 64 * MiB,
          "128 MiB freed in the guest: host RAM file shrank by %d MiB" % ((host1 - host2) // MiB))
    check(rep2 - rep1 >= host1 - host2,
          "backend reported releases (%d MiB) cover the shrink" % ((rep2 - rep1) // MiB))
    check(env.dev("vm1")["actual_bytes"] == 0, "no balloon involved")


def case_oom(env):
    g = env.start("vm1")
    g.boot()
    env.wait_running("vm1")
    check("deflate-on-oom" in env.dev("vm1")["features"], "deflate-on-oom negotiated")
    avail = g.meminfo("MemAvailable")
    target = 160 * MiB
    env.settle("vm1", target)
    left = g.meminfo("MemFree")
    want = avail - target + 48 * MiB
    print("guest: %d MiB available before, %d MiB free with the balloon, allocating %d MiB" %
          (avail // MiB, left // MiB, want // MiB))
    rc, out = g.sh("memfill alloc %d 5" % (want // MiB), timeout=600)
    check(rc == 0 and "pages ok" in out, "allocation past the balloon succeeds: %d %s" %
          (rc, out.strip()[-200:]))
    rc, out = g.sh("dmesg | grep -E 'Out of memory|Killed process|oom-kill'")
    check(rc == 1, "no OOM kill in the guest (%s)" % out.strip()[:200])
    d = env.dev("vm1")
    check(d["actual_bytes"] < target and d["actual_bytes"] == d["in_balloon_bytes"],
          "the guest took pages back: actual %d MiB, backend %d MiB, target %d MiB" %
          (d["actual_bytes"] // MiB, d["in_balloon_bytes"] // MiB, target // MiB))
    c = env.counters("vm1")
    check(c["pfns_deflated"] > 0, "backend saw the deflates (%d pages)" % c["pfns_deflated"])
    balloon_agrees(env, g, "after OOM deflate")


def case_reboot(env):
    g = env.start("vm1")
    g.boot()
    env.wait_running("vm1")
    env.settle("vm1", 64 * MiB)
    balloon_agrees(env, g, "before reboot")
    rel0 = env.dev("vm1")["release_asked_bytes"]
    g.p.stdin.write(b"r reboot -f\n")
    g.p.stdin.flush()
    g.boot(2)
    env.wait_running("vm1")
    # The new driver starts with an empty balloon and inflates to the target still set.
    d = env.settle("vm1", 64 * MiB)
    balloon_agrees(env, g, "after reboot")
    check(d["release_asked_bytes"] > rel0, "released again after the reboot (%d -> %d MiB)" %
          (rel0 // MiB, d["release_asked_bytes"] // MiB))
    g.ok("memfill fill /tmp/keep 32 4")
    env.settle("vm1", 128 * MiB)
    balloon_agrees(env, g, "inflated after reboot")
    env.settle("vm1", 0)
    out = g.ok("memfill verify /tmp/keep 4")
    check("8192 pages ok" in out, "data intact after reboot and ballooning: " + out.strip())


def case_kill(env):
    g = env.start("vm1")
    g.boot()
    env.wait_running("vm1")
    # More than the guest has free: the inflation cannot finish before the kill.
    target = 192 * MiB
    free = g.meminfo("MemFree")
    check(free < target, "target %d MiB > guest's free %d MiB" % (target // MiB, free // MiB))
    env.cmd("set target vm1 %dK" % (target // 1024))
    wait_for(lambda: 0 < env.dev("vm1")["actual_bytes"] < target or None, SETTLE_S,
             "inflation under way")
    mid = env.dev("vm1")["actual_bytes"]
    g.kill()
    check(mid < target, "QEMU killed mid-inflate (at %d of %d MiB)" % (mid // MiB, target // MiB))
    wait_for(lambda: env.dev("vm1")["state"] == "listening", 30, "back to listening")
    d = env.dev("vm1")
    check(d["state"] == "listening" and d["in_balloon_bytes"] == 0,
          "device listening, balloon bookkeeping dropped (%s, %d)" %
          (d["state"], d["in_balloon_bytes"]))
    g2 = env.start("vm1")
    g2.boot()
    env.wait_running("vm1")
    g2.ok("memfill fill /tmp/keep 16 2")
    env.settle("vm1", 96 * MiB)
    balloon_agrees(env, g2, "new QEMU")
    env.settle("vm1", 0)
    out = g2.ok("memfill verify /tmp/keep 2")
    check("4096 pages ok" in out, "new guest's data intact: " + out.strip())


def case_multi(env):
    names = ["vm1", "vm2", "vm3"]
    gs = [env.start(n) for n in names]
    for g in gs:
        g.boot()
        env.wait_running(g.name)
    for i, g in enumerate(gs):
        g.ok("memfill fill /tmp/keep 16 %d" % i)
    targets = {"vm1": 64 * MiB, "vm2": 128 * MiB, "vm3": 96 * MiB}
    for n, t in targets.items():
        env.cmd("set target %s %dK" % (n, t // 1024))
    for n, t in targets.items():
        env.settle(n, t)
    for g in gs:
        balloon_agrees(env, g, "inflated with the others")
    for n in names:
        env.cmd("set target %s 0" % n)
    for n in names:
        env.settle(n, 0)
    for i, g in enumerate(gs):
        out = g.ok("memfill verify /tmp/keep %d" % i)
        check("4096 pages ok" in out, "%s data intact: %s" % (g.name, out.strip()))
    devs = env.cmd("show devices")["devices"]
    check(all(d["state"] == "running" for d in devs), "all three running")


CASES = {
    "inflate": (case_inflate, ["vm1.sock,features=must-tell-host+stats+deflate-on-oom"]),
    "stats": (case_stats, ["vm1.sock"]),
    "reporting": (case_reporting, ["vm1.sock"]),
    "oom": (case_oom, ["vm1.sock"]),
    "reboot": (case_reboot, ["vm1.sock"]),
    "kill": (case_kill, ["vm1.sock"]),
    "multi": (case_multi, ["vm1.sock", "vm2.sock", "vm3.sock"]),
}


def main():
    if len(sys.argv) != 5 or sys.argv[3] not in CASES or sys.argv[4] not in ("memfd",
                                                                              "hugetlbfs"):
        print(__doc__)
        return 2
    root, daemon, case, backing = sys.argv[1:]
    qemu = find_qemu()
    guest = find_guest(root)
    fn, sockets = CASES[case]
    if backing == "hugetlbfs":
        need = GUEST_MEM * (len(sockets)) // (2 * MiB)
        if hugetlbfs_mount() is None:
            skip("no 2 MiB hugetlbfs mounted (usertools/setup-hugepages.sh)")
        if free_hugepages() < need:
            skip("hugetlbfs: %d free 2 MiB hugepages, the guests need %d" %
                 (free_hugepages(), need))
    print("test_qemu: case %s, guest memory backing: %s%s, %d MiB per guest, QEMU %s, guest %s"
          % (case, backing, " (2 MiB pages)" if backing == "hugetlbfs" else " (4 KiB pages)",
             GUEST_MEM // MiB, qemu, guest))
    env = Env(root, daemon, qemu, guest, backing, sockets)
    failed = False
    try:
        fn(env)
    except Exception as e:  # noqa: BLE001  (report, clean up, fail)
        failed = True
        print("FAIL: %s: %s" % (type(e).__name__, e))
    finally:
        env.close(failed)
    bad = failed or failures()
    print("test_qemu %s %s: %s" % (case, backing, "all passed" if not bad else "FAILED"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
