#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Many VMs through the daemon (issue 19, docs/perf.md "Density: VMs through the daemon"):
64 vmsim guests (memfd) connect through the daemon's own sockets from a config file, the
daemon having been started with the common soft open-files limit of 1024 (64 guests need
more: it must raise it). Every device reaches 'running'; one is ballooned (actual reaches
the target) while the other 63 stay untouched; the daemon's fd count stays within the
limit it logged; once the guests are gone every device listens again and the fds held for
them are closed. Then 'add socket' up to the 511 VMs one process serves, and the one past
them is refused with no_space and a message naming the limit.
usage: test_density.py VHOST_BALLOON VMSIM
"""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from apptest import Ctl, Daemon, check, failures, remove_eal_dirs, wait_for

MiB = 1 << 20
NVMS = 64
MAX_VMS = 511               # VHB_MAX_DEVICES, config/vhb_limits.h
VMSIM_MAX_SOCKETS = 256     # VMSIM_MAX_GUESTS, app/vmsim/vmsim_app.h


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fd_targets(pid):
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return out


def devices(c):
    return {dv["name"]: dv for dv in c.cmd("show devices")["devices"]}


def run(c, d, run_dir, vmsim, guests):
    pid = d.p.pid
    m = re.search(r"open files: limit (\d+)", d.log_text())
    check(m is not None, "the daemon logs its open-files limit")
    limit = int(m.group(1)) if m else 0
    with open("/proc/%d/limits" % pid) as f:
        soft = [int(ln.split()[3]) for ln in f if ln.startswith("Max open files")][0]
    check(limit == soft and soft > 1024,
          "started with a soft limit of 1024, the daemon runs with %d (logged %d)" %
          (soft, limit))
    # The threads open their own fds (epoll, eventfds) as they start, after "ready": count
    # once two looks half a second apart agree.
    targets_idle = {}
    for _ in range(20):
        time.sleep(0.5)
        t = fd_targets(pid)
        if t == targets_idle:
            break
        targets_idle = t
    fds_idle = len(targets_idle)
    print("daemon: %d fds with %d VMs listening" % (fds_idle, NVMS))

    socks = [os.path.join(run_dir, "vm%d.sock" % i) for i in range(NVMS)]
    for first in range(0, NVMS, VMSIM_MAX_SOCKETS):
        args = [vmsim]
        for s in socks[first:first + VMSIM_MAX_SOCKETS]:
            args += ["--socket", s]
        guests.append(subprocess.Popen(
            args + ["--mem", "16M", "--backing", "memfd", "--quiet", "--connect-timeout", "30s",
                    "--timeout", "30s"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    try:
        wait_for(lambda: all(dv["state"] == "running" for dv in devices(c).values()) or
                 any(g.poll() is not None for g in guests), 50, "%d guests running" % NVMS)
    except TimeoutError:
        pass
    devs = devices(c)
    running = [n for n, dv in devs.items() if dv["state"] == "running"]
    check(len(devs) == NVMS and len(running) == NVMS,
          "all %d VMs running through the daemon (%d running)" % (NVMS, len(running)))
    fds_run = nfds(pid)
    check(fds_run < limit, "fds with %d guests: %d, within the logged limit %d" %
          (NVMS, fds_run, limit))
    print("daemon: %d fds with %d guests connected (%.1f per guest)" %
          (fds_run, len(running), (fds_run - fds_idle) / max(1, len(running))))

    # One VM ballooned, the others untouched.
    one = "vm%d" % (NVMS // 2)
    check(c.cmd("set target %s 8M" % one) == {"device": one, "target_bytes": 8 * MiB},
          "set target %s 8M" % one)
    try:
        wait_for(lambda: c.cmd("show device " + one)["device"]["actual_bytes"] == 8 * MiB,
                 40, "actual follows")
    except TimeoutError:
        pass
    dv = c.cmd("show device " + one)["device"]
    check(dv["actual_bytes"] == 8 * MiB and dv["in_balloon_bytes"] == 8 * MiB,
          "%s: actual %d, in balloon %d (want 8 MiB)" %
          (one, dv["actual_bytes"], dv["in_balloon_bytes"]))
    devs = devices(c)
    touched = [n for n, x in devs.items() if n != one and
               (x["target_bytes"] != 0 or x["actual_bytes"] != 0 or x["in_balloon_bytes"] != 0
                or x["state"] != "running")]
    check(not touched, "the other %d VMs: running, no target, empty balloon (%s)" %
          (NVMS - 1, touched[:5]))
    check(nfds(pid) < limit, "fds after the inflate within the limit")

    # The guests leave: every device listens again, the fds held for them are closed.
    for g in guests:
        g.terminate()
    for g in guests:
        try:
            g.wait(30)
        except subprocess.TimeoutExpired:
            g.kill()
            g.wait()
    try:
        wait_for(lambda: all(x["state"] == "listening" for x in devices(c).values()), 30,
                 "devices listening again")
    except TimeoutError:
        pass
    states = {}
    for x in devices(c).values():
        states[x["state"]] = states.get(x["state"], 0) + 1
    check(states == {"listening": NVMS}, "guests gone: every VM listening (%s)" % states)
    try:
        wait_for(lambda: nfds(pid) <= fds_idle, 10, "fds back")
    except TimeoutError:
        pass
    extra = {fd: t for fd, t in fd_targets(pid).items() if targets_idle.get(fd) != t}
    check(nfds(pid) <= fds_idle, "guests gone: %d fds, as before they came (%d)%s" %
          (nfds(pid), fds_idle, "; new: %s" % extra if nfds(pid) > fds_idle else ""))

    # Up to the process's limit with 'add socket' (listening VMs), then one too many.
    added = [c.cmd("add socket more%d.sock more%d" % (i, i)) for i in range(NVMS, MAX_VMS)]
    bad = [a for a in added if "device" not in a]
    check(not bad and len(devices(c)) == MAX_VMS,
          "add socket up to %d VMs (%d devices; %s)" % (MAX_VMS, len(devices(c)), bad[:2]))
    r = c.cmd("add socket extra.sock extra")
    print("add socket past %d VMs: %s" % (MAX_VMS, r))
    err = r.get("error", {})
    check(err.get("code") == "no_space" and str(MAX_VMS) in err.get("message", "") and
          "second vhost-balloon" in err.get("message", ""),
          "the VM past %d: no_space, naming the limit and what to do" % MAX_VMS)
    check(not os.path.exists(os.path.join(run_dir, "extra.sock")), "its socket not created")
    check(nfds(pid) < limit, "%d listening VMs: %d fds, within the limit" % (MAX_VMS, nfds(pid)))
    check(d.alive(), "daemon alive")


def main():
    daemon, vmsim = sys.argv[1], sys.argv[2]
    root = tempfile.mkdtemp(prefix="vhbd-density-")
    run_dir = os.path.join(root, "run")
    prefix = "vhbd-density-%d" % os.getpid()
    print("test_density: guest memory backing: memfd 4 KiB (%d vmsim guests of 16 MiB)" % NVMS)
    cfg = os.path.join(root, "vhb.ini")
    with open(cfg, "w") as f:
        f.write("[daemon]\ncontrol = ctl.sock\n")
        for i in range(NVMS):
            f.write("[vm vm%d]\nsocket = vm%d.sock\n" % (i, i))
    # The usual default soft limit (systemd's too): the daemon must raise it.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        print("test_density: SKIP: hard open-files limit %d leaves no room for %d VMs" %
              (hard, NVMS))
        return 77
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    d = Daemon(daemon, prefix, run_dir, ["--config", cfg], os.path.join(root, "daemon.log"))
    guests = []
    try:
        check(d.wait_ready(), "daemon started with %d VMs" % NVMS)
        c = Ctl(os.path.join(run_dir, "ctl.sock"))
        run(c, d, run_dir, vmsim, guests)
        c.close()
    finally:
        for g in guests:
            if g.poll() is None:
                g.kill()
            g.wait()
        d.stop()
        if failures():
            print(d.log_text()[-6000:])
        remove_eal_dirs(prefix)
        shutil.rmtree(root, ignore_errors=True)
    print("test_density: %s" % ("all passed" if failures() == 0 else "%d failures" % failures()))
    return 1 if failures() else 0


if __name__ == "__main__":
    sys.exit(main())
