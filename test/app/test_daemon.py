#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The daemon end to end: control socket (every error path, hostile clients), the command
table, add/del socket, telemetry over its SOCK_SEQPACKET socket, and clean shutdown.
With a vmsim binary (argv[2]) also simulated guests: set target, actual follows, stats,
a guest that disconnects mid-way.

--unit UNIT --user NAME runs every daemon as NAME (created if missing; needs root, else the
test is skipped) under UNIT's restrictions (unitsandbox.py: its group, no capabilities, its
system call filter, a read-only file system but for the run directories); the checks are
the same, plus QEMU's side of the socket permissions. --backing hugetlbfs gives the
simulated guests hugetlbfs memory (skipped without free 2 MiB hugepages).

usage: test_daemon.py [--unit UNIT --user NAME] [--backing memfd|hugetlbfs] VHOST_BALLOON [VMSIM]
"""
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from apptest import Ctl, DPDK_RUN_DIRS, check, failures, make_user, sandbox_wrapper, wait_for


class Opt:
    unit = None         # run the daemon under this unit's restrictions (unitsandbox.py)
    user = None         # ... as this user
    backing = "memfd"   # guest memory of the simulated guests
    sock_gid = 1        # the group the socket permission check asks for
    own = None          # chown a directory the daemon must write to (sandboxed runs)


def run_dirs():
    return DPDK_RUN_DIRS + (os.environ.get("XDG_RUNTIME_DIR", "") + "/dpdk",)


def telemetry(prefix, cmd):
    """One telemetry request: SOCK_SEQPACKET, greeting first, then one JSON reply."""
    for base in run_dirs():
        path = os.path.join(base, prefix, "dpdk_telemetry.v2")
        if os.path.exists(path):
            break
    else:
        raise FileNotFoundError("no telemetry socket for " + prefix)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(path)
    greeting = json.loads(s.recv(16384))
    s.send(cmd.encode())
    reply = json.loads(s.recv(65536))
    s.close()
    return greeting, reply[cmd.split(",")[0]]


def options():
    """Leading options into Opt (sys.argv keeps the rest); None, or 77 to skip."""
    argv = sys.argv[1:]
    while argv and argv[0] in ("--unit", "--user", "--backing"):
        setattr(Opt, argv[0][2:], argv[1])
        argv = argv[2:]
    if Opt.backing == "hugetlbfs":
        free = 0
        with open("/proc/meminfo") as f:
            for ln in f:
                if ln.startswith("HugePages_Free:"):
                    free = int(ln.split()[1])
        # vm1 64 MiB, vm2 64 then 32 MiB: 80 pages at most at once, and some room.
        if free < 128:
            print("test_daemon: skip: hugetlbfs guests need 128 free 2 MiB hugepages, %d free"
                  % free)
            return 77
    if Opt.unit:
        if os.geteuid() != 0:
            print("test_daemon: skip: running the daemon as another user needs root")
            return 77
        if make_user(Opt.user) is None:
            print("test_daemon: skip: cannot create the test user %s" % Opt.user)
            return 77
    sys.argv[1:] = argv
    return None


def unit_group(unit):
    import unitsandbox
    return unitsandbox.last(unitsandbox.parse_unit(unit), "Group")


def main():
    skip = options()
    if skip is not None:
        return skip
    daemon = sys.argv[1]
    vmsim = sys.argv[2] if len(sys.argv) > 2 and os.path.exists(sys.argv[2]) else None
    root = tempfile.mkdtemp(prefix="vhbd-test-")
    base = root
    if Opt.unit:
        # The daemon as the test user: only root/sandbox is writable for it. Its run dirs
        # are the user's, group and mode as the unit's RuntimeDirectory= makes them.
        daemon, base = sandbox_wrapper(daemon, Opt.unit, Opt.user, root)
        sys.argv[1] = daemon
        gid = grp.getgrnam(unit_group(Opt.unit)).gr_gid
        uid = pwd.getpwnam(Opt.user).pw_uid
        Opt.sock_gid = gid
        Opt.own = lambda p: (os.chown(p, uid, gid), os.chmod(p, 0o750))
        tempfile.tempdir = base
        print("test_daemon: daemon as user %s (uid %d), group %d, restrictions of %s" %
              (Opt.user, uid, gid, Opt.unit))
    else:
        print("test_daemon: daemon as uid %d" % os.geteuid())
    tmp = os.path.join(base, "run", "dir")     # the daemon creates the run dir and parents
    if Opt.own:
        os.makedirs(tmp)
        Opt.own(tmp)
    prefix = "vhbd-app-%d" % os.getpid()
    ctl_path = os.path.join(tmp, "ctl.sock")
    print("test_daemon: guest memory backing: %s" %
          (("%s (vmsim guests)" % ("memfd 4 KiB" if Opt.backing == "memfd" else
                                   "hugetlbfs 2 MiB")) if vmsim else
           "none (no simulated guests)"))
    log = open(os.path.join(root, "daemon.log"), "w+")
    args = [daemon, "-l", "0,1", "--no-huge", "-m", "128", "--no-pci", "--file-prefix", prefix,
            "--", "--run-dir", tmp, "--control", "ctl.sock", "--stats-interval", "1",
            "--socket", "vm1.sock", "--socket", "vm2.sock,features=stats+deflate-on-oom",
            "--poll-mode", "adaptive", "--poll-idle-us", "500", "--poll-max-sleep-ms", "200"]
    if Opt.unit:
        args += ["--control-mode", "0600"]     # as the shipped config file has it
    d = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: os.path.exists(ctl_path) or d.poll() is not None, 30, "control socket")
        check(d.poll() is None, "daemon started")
        if Opt.unit:
            restricted(d.pid)
        run(tmp, ctl_path, prefix, vmsim, d)
        if Opt.unit and vmsim:
            qemu_side(tmp, ctl_path, vmsim)
        cli(daemon)
    finally:
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
            try:
                rc = d.wait(30)
            except subprocess.TimeoutExpired:
                d.kill()
                rc = d.wait()
            check(rc == 0, "SIGTERM: daemon exits 0 (got %s)" % rc)
        left = [f for f in os.listdir(tmp) if f.endswith(".sock")]
        check(left == [], "shutdown removed every socket (left: %s)" % left)
        log.seek(0)
        text = log.read()
        if failures():
            print("---- daemon log ----\n" + text[-6000:])
    if failures() == 0:
        shutil.rmtree(root, ignore_errors=True)
    # EAL leaves its runtime directory behind; remove ours (this run's prefixes only).
    for base in run_dirs():
        for pfx in (prefix, prefix + "-2", "vhbd-cli-%d" % os.getpid()):
            shutil.rmtree(os.path.join(base, pfx), ignore_errors=True)
    print("test_daemon: %s" % ("all passed" if failures() == 0 else "%d failures" % failures()))
    return 0 if failures() == 0 else 1


def restricted(pid):
    """The sandboxed daemon really runs as the test user, without any capability, with
    no_new_privs and seccomp filters, and sees / read-only and only its own processes."""
    with open("/proc/%d/status" % pid) as f:
        st = dict(ln.split(":", 1) for ln in f.read().splitlines())
    uid = pwd.getpwnam(Opt.user).pw_uid
    check(st["Uid"].split() == [str(uid)] * 4 and
          st["Gid"].split() == [str(Opt.sock_gid)] * 4 and st["Groups"].strip() == "",
          "daemon runs as uid %d gid %d, no supplementary groups (%s / %s)" %
          (uid, Opt.sock_gid, st["Uid"].split(), st["Gid"].split()))
    caps = {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    check(all(v == 0 for v in caps.values()), "daemon has no capability at all (%s)" % caps)
    check(st["NoNewPrivs"].strip() == "1" and st["Seccomp"].strip() == "2" and
          int(st["Seccomp_filters"]) >= 2, "no_new_privs, seccomp filters: %s" %
          st["Seccomp_filters"].strip())
    with open("/proc/%d/mountinfo" % pid) as f:
        root = [ln.split() for ln in f if ln.split()[4] == "/"]
    check(root and "ro" in root[0][5].split(","), "daemon sees / read-only")
    # LimitNOFILE= (room for 511 connected VMs) is what the daemon runs with.
    with open(Opt.unit if isinstance(Opt.unit, str) else Opt.unit[0]) as f:
        want = [ln.split("=", 1)[1].strip() for ln in f if ln.startswith("LimitNOFILE=")]
    with open("/proc/%d/limits" % pid) as f:
        have = [ln.split()[3:5] for ln in f if ln.startswith("Max open files")][0]
    check(want and have == [want[-1], want[-1]],
          "open files: soft and hard %s, the unit's LimitNOFILE=%s" % (have, want))


def qemu_side(tmp, ctl_path, vmsim):
    """What QEMU needs to connect: a process of another user in the daemon's group (kvm)
    connects and is served; the same user without that group is refused; with the group it
    still cannot reach the control socket (--control-mode 0600)."""
    MiB = 1 << 20
    c = Ctl(ctl_path)
    qemu = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--groups=%d" % Opt.sock_gid,
            vmsim, "--socket", os.path.join(tmp, "vm1.sock"), "--mem", "32M", "--backing",
            "memfd", "--quiet"]
    g = subprocess.Popen(qemu, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: device(c, "vm1")["state"] == "running" or g.poll() is not None, 30,
                 "guest of user nobody")
        c.cmd("set target vm1 8M")
        wait_for(lambda: device(c, "vm1")["actual_bytes"] == 8 * MiB or g.poll() is not None,
                 60, "actual follows")
        check(device(c, "vm1")["in_balloon_bytes"] == 8 * MiB,
              "a guest run by user nobody in group %d connects and inflates" % Opt.sock_gid)
        c.cmd("set target vm1 0")
    finally:
        if g.poll() is None:
            g.send_signal(signal.SIGTERM)
        rc = g.wait(30)
        out = g.stdout.read().decode(errors="replace")
    check(rc == 0, "its guest exits 0 (memory intact) (%s)%s" % (rc, "" if rc == 0 else out))
    wait_for(lambda: device(c, "vm1")["state"] == "listening", 30, "vm1 listening")
    p = subprocess.run(qemu[:3] + ["--clear-groups"] + qemu[4:], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    check(p.returncode != 0 and "Permission denied" in out and
          device(c, "vm1")["state"] == "listening",
          "user nobody without the group is refused (%d: %s)" % (p.returncode, out.strip()[-200:]))
    probe = ("import socket; s = socket.socket(socket.AF_UNIX)\n"
             "try:\n    s.connect(%r); print('connected')\n"
             "except OSError as e:\n    print(e.strerror)\n" % ctl_path)
    p = subprocess.run(qemu[:4] + [sys.executable, "-c", probe], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace").strip()
    check(out == "Permission denied" and oct(os.stat(ctl_path).st_mode & 0o777) == "0o600",
          "user nobody in group %d cannot connect to the control socket (%s)" %
          (Opt.sock_gid, out))
    c.close()


def run(tmp, ctl_path, prefix, vmsim, d):
    c = Ctl(ctl_path)
    r = c.cmd("show devices")
    names = [x["name"] for x in r["devices"]]
    check(names == ["vm1", "vm2"], "show devices lists vm1, vm2 (%s)" % names)
    dev = r["devices"][0]
    for k in ("name", "state", "lcore", "numa", "guest_mem_bytes", "page_size_bytes",
              "target_bytes", "actual_bytes", "in_balloon_bytes", "release_asked_bytes",
              "regained_bytes", "host_resident_bytes", "features", "socket"):
        check(k in dev, "show devices has %s" % k)
    check(dev["state"] == "listening", "no guest yet: listening")
    check(dev["socket"] == os.path.join(tmp, "vm1.sock"), "socket under the run dir")

    r = c.cmd("show device vm2")
    check(r["device"]["features_offered"] == "stats+deflate-on-oom", "vm2 offers its features")
    r = c.cmd("help")
    check(len(r["commands"]) >= 12, "help lists the commands")

    # Error paths: each one a structured error, and the connection keeps serving.
    errs = [("bogus", "bad_command"), ("show", "bad_command"), ("set target vm1", "bad_command"),
            ("set target vm1 1G extra", "bad_command"), ("show device nope", "not_found"),
            ("set target nope 1G", "not_found"), ("set target vm1 12", "invalid_argument"),
            ("set target vm1 1K", "invalid_argument"), ("set target vm1 lots", "invalid_argument"),
            ("set target vm1 99999999T", "out_of_range"),
            ("set stats-interval vm1 x", "invalid_argument"),
            ("add socket vm1.sock", "exists"), ("set guest-size vm1 1G", "not_connected"), ("del socket nope", "not_found"),
            ("set poll-mode", "bad_command"), ("set poll-mode busy", "invalid_argument"),
            ("set poll-mode poll idle-us", "bad_command"),
            ("set poll-mode poll idle-us x", "invalid_argument"),
            ("set poll-mode poll max-sleep-ms 0", "invalid_argument"),
            ("set poll-mode poll max-sleep-ms 3600001", "invalid_argument"),
            ("set poll-mode poll lcore 7", "not_found"), ("set poll-mode poll cpu 1", "bad_command"),
            ("set poll-mode poll lcore 1 lcore 1", "bad_command"),
            ("set poll-mode poll idle-us 1 max-sleep-ms 1 lcore 1 x", "bad_command"),
            (" ".join(["w"] * 20), "bad_command")]
    for req, code in errs:
        r = c.cmd(req)
        got = r.get("error", {}).get("code") if r else None
        check(got == code and r["error"].get("message"),
              "'%s' -> error %s (got %s)" % (req[:40], code, r))
    check(c.cmd("") == {}, "empty line -> {}")
    check(c.cmd("# comment") == {}, "comment -> {}")
    c.raw(b"show \x00devices\n")
    r = c.line()
    check(r["error"]["code"] == "bad_request", "NUL byte -> bad_request")
    # Several requests in one write: one reply each, in order.
    c.raw(b"show device vm1\nshow device vm2\n")
    a, b = c.line(), c.line()
    check(a["device"]["name"] == "vm1" and b["device"]["name"] == "vm2", "pipelined replies in order")
    r = c.cmd("set target vm1 512M")
    check(r == {"device": "vm1", "target_bytes": 512 << 20}, "set target without a guest: %s" % r)
    r = c.cmd("show device vm1")
    check(r["device"]["target_bytes"] == 512 << 20, "target recorded")
    c.cmd("set target vm1 0")

    # A client that sends half a line must not stall the others.
    half = Ctl(ctl_path)
    half.raw(b"show dev")
    other = Ctl(ctl_path)
    check("devices" in other.cmd("show devices"), "half-line client does not stall others")
    # Oversized request: error, then the connection is closed.
    big = Ctl(ctl_path)
    big.raw(b"x" * 5000)
    r = big.line()
    check(r and r["error"]["code"] == "too_long", "oversized request -> too_long")
    try:
        closed = big.f.readline() == b""
    except ConnectionResetError:
        closed = True
    check(closed, "oversized request: connection closed")
    big.close()
    # A client that never reads its replies stalls only itself: the daemon stops reading its
    # requests, serves everyone else, and carries on with it once it reads.
    flood = Ctl(ctl_path)
    flood.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    flood.s.settimeout(2)
    sent = 0
    try:
        for _ in range(200000):
            flood.raw(b"help\n" * 64)
            sent += 64
    except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
        pass
    check(sent < 200000 * 64, "non-reading client is pushed back (%d requests sent)" % sent)
    check("devices" in other.cmd("show devices"), "non-reading client does not stall others")
    flood.s.settimeout(20)
    first = flood.line()
    check(first is not None and "commands" in first, "stalled client gets its replies later")
    flood.close()
    half.raw(b"ices\n")
    check("devices" in half.line(), "half line completed later is answered")
    half.close()
    # A last request without its newline is answered at EOF.
    last = Ctl(ctl_path)
    last.raw(b"show lcores")
    last.s.shutdown(socket.SHUT_WR)
    r = last.line()
    check(r is not None and "lcores" in r and last.f.readline() == b"",
          "request without newline answered at EOF, then closed")
    last.close()
    # Many clients at once.
    many = [Ctl(ctl_path) for _ in range(20)]
    for m in many:
        m.raw(b"show lcores\n")
    check(all("lcores" in m.line() for m in many), "20 clients served")
    # Past 64 clients a new one gets a structured "busy" error and is closed.
    extra, busy = [], None
    for _ in range(80):
        x = Ctl(ctl_path)
        try:
            x.raw(b"show lcores\n")
        except OSError:
            pass        # a busy reply and close may beat our request
        try:
            r = x.line()
        except OSError:
            r = None
        if r is None or "error" in r:
            busy = r
            x.close()
            break
        extra.append(x)
    check(busy is not None and busy["error"]["code"] == "busy" and
          len(extra) + len(many) + 2 <= 64, "client 65 gets a busy error (%s)" % busy)
    for m in many + extra:
        m.close()
    time.sleep(0.2)
    check("devices" in other.cmd("show devices"), "served again once clients left")
    r = other.cmd("quit")
    check(r == {"bye": True} and other.f.readline() == b"", "quit closes the connection")
    other.close()
    check(d.poll() is None, "daemon still running after quit on the control socket")

    # A second daemon on the same control socket must not steal it.
    p = subprocess.run([sys.argv[1], "-l", "0,1", "--no-huge", "-m", "128", "--no-pci",
                        "--file-prefix", prefix + "-2", "--", "--control", ctl_path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    check(p.returncode == 1 and b"Address already in use" in p.stdout,
          "second daemon on a live control socket: exit 1, EADDRINUSE")
    check("devices" in c.cmd("show devices"), "first daemon's control socket still served")

    # add / del socket.
    r = c.cmd("add socket extra.sock vm3")
    check(r.get("device") == "vm3" and os.path.exists(os.path.join(tmp, "extra.sock")),
          "add socket creates the socket (%s)" % r)
    r = c.cmd("del socket vm3")
    check(r == {"deleted": "vm3"} and not os.path.exists(os.path.join(tmp, "extra.sock")),
          "del socket removes it (%s)" % r)
    r = c.cmd("show lcores")
    check(len(r["lcores"]) == 1 and r["lcores"][0]["lcore"] == 1, "one poll lcore: 1")
    lc0 = r["lcores"][0]
    want = {"lcore", "devices", "passes", "busy_passes", "busy_pct", "idle_pct", "mode",
            "idle_us", "max_sleep_ms", "sleeping", "poll_ms", "sleep_ms", "cpu_pct", "sleeps",
            "wakeups_kick", "wakeups_control", "wakeups_timeout", "sleep_aborts", "auto_gap_us",
            "auto_sleep_cost_us", "auto_spin_us", "devices_polled", "parks", "unparks_kick",
            "unparks_other"}
    check(set(lc0) == want, "show lcores: the documented keys (%s)" % (set(lc0) ^ want))
    check(lc0["mode"] == "adaptive" and lc0["idle_us"] == 500 and lc0["max_sleep_ms"] == 200,
          "--poll-mode/--poll-idle-us/--poll-max-sleep-ms applied (%s)" % lc0)
    # Failed 'set poll-mode' commands above changed nothing.
    r = c.cmd("set poll-mode adaptive lcore 1 max-sleep-ms 300")
    check(r == {"lcore": 1, "mode": "adaptive", "idle_us": 500, "max_sleep_ms": 300},
          "set poll-mode on lcore 1 keeps the idle-us not given (%s)" % r)
    r = c.cmd("set poll-mode adaptive idle-us 500 max-sleep-ms 200")
    check(r == {"lcores": "all", "mode": "adaptive", "idle_us": 500, "max_sleep_ms": 200},
          "set poll-mode for every lcore (%s)" % r)

    # Telemetry.
    g, devs = telemetry(prefix, "/vhost_balloon/devices")
    check(devs == ["vm1", "vm2"], "telemetry devices: %s" % devs)
    _, dv = telemetry(prefix, "/vhost_balloon/device,vm2")
    check(dv["name"] == "vm2" and dv["state"] == "listening" and "counters" in dv and
          "guest_errors" in dv["counters"] and dv["features_offered"] == 6,
          "telemetry device,vm2")
    want = {"name", "socket", "state", "lcore", "numa_node", "features_offered",
            "features_negotiated", "guest_mem_bytes", "regions", "backing_page_size",
            "target_pages", "actual_pages", "poison_val", "pages_in_balloon", "bytes_release_asked",
            "bytes_regained", "host_resident_bytes", "counters"}
    check(set(dv) == want, "telemetry device: the documented keys (%s)" % (set(dv) ^ want))
    check(g.get("pid") == d.pid, "telemetry greeting is this daemon's")
    _, gs = telemetry(prefix, "/vhost_balloon/guest_stats,vm1")
    check(gs["name"] == "vm1" and gs["age_ms"] == -1 and gs["updates"] == 0,
          "telemetry guest_stats before any guest")
    _, lc = telemetry(prefix, "/vhost_balloon/lcores")
    want = {"lcore_id", "devices", "passes", "busy_passes", "busy_cycles", "total_cycles",
            "mode", "sleeping", "tsc_hz", "poll_cycles", "sleep_cycles", "sleeps",
            "wakeups_kick", "wakeups_control", "wakeups_timeout", "sleep_aborts", "idle_us",
            "max_sleep_ms", "auto_gap_ns", "auto_sleep_cost_ns", "auto_spin_ns", "devices_polled",
            "parks", "unparks_kick", "unparks_other"}
    check(list(lc.keys()) == ["lcore1"] and set(lc["lcore1"]) == want,
          "telemetry lcores: the documented keys (%s)" % (set(lc.get("lcore1", {})) ^ want))
    check(lc["lcore1"]["mode"] == "adaptive" and lc["lcore1"]["idle_us"] == 500 and
          lc["lcore1"]["max_sleep_ms"] == 200 and lc["lcore1"]["tsc_hz"] > 0,
          "telemetry lcores: mode adaptive, 500 us, 200 ms")
    _, nd = telemetry(prefix, "/vhost_balloon/device,nope")
    check(nd is None, "telemetry unknown device -> null")

    if vmsim:
        guests(tmp, c, prefix, vmsim, lambda: d.poll() is None)
    c.close()


def device(c, name):
    return c.cmd("show device " + name)["device"]


def guests(tmp, c, prefix, vmsim, d_alive):
    """Simulated guests (separate vmsim processes, memfd): targets through the control socket,
    actual follows, stats arrive, a guest killed mid-inflate, another exits cleanly."""
    MiB = 1 << 20
    procs = {}
    for n in ("vm1", "vm2"):
        procs[n] = subprocess.Popen([vmsim, "--socket", os.path.join(tmp, n + ".sock"),
                                     "--mem", "64M", "--backing", Opt.backing, "--quiet"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: all(device(c, n)["state"] == "running" for n in procs), 30,
                 "guests running")
        check(True, "two vmsim guests connected and running")
        d1 = device(c, "vm1")
        page = 4096 if Opt.backing == "memfd" else 2 * MiB
        check(d1["guest_mem_bytes"] == 64 * MiB and d1["page_size_bytes"] == page,
              "vm1: 64 MiB guest memory, %d KiB backing pages" % (page >> 10))
        check(d1["lcore"] == 1 and "stats" in d1["features"], "vm1 placed on lcore 1 with stats")
        check(c.cmd("set target vm1 24M") == {"device": "vm1", "target_bytes": 24 * MiB},
              "set target vm1 24M")
        r = c.cmd("set guest-size vm2 48M")
        check(r.get("target_bytes") == 16 * MiB, "set guest-size vm2 48M -> balloon 16M (%s)" % r)
        wait_for(lambda: device(c, "vm1")["actual_bytes"] == 24 * MiB and
                 device(c, "vm2")["actual_bytes"] == 16 * MiB, 60, "actual follows")
        d1, d2 = device(c, "vm1"), device(c, "vm2")
        check(d1["in_balloon_bytes"] == 24 * MiB and d1["release_asked_bytes"] >= 24 * MiB and
              d1["regained_bytes"] >= 24 * MiB, "vm1: 24 MiB in the balloon, asked and regained")
        # vmsim fills its memory (64 MiB) before connecting; 24 MiB went back.
        check(0 < d1["host_resident_bytes"] <= 40 * MiB,
              "vm1: host_resident_bytes %d" % d1["host_resident_bytes"])
        check(d2["in_balloon_bytes"] == 16 * MiB, "vm2: 16 MiB in the balloon")
        cnt = c.cmd("show counters vm1")["counters"]
        check(cnt["pfns_inflated"] == 24 * 256 and cnt["guest_errors"] == 0,
              "vm1 counters: %d PFNs inflated, no guest errors" % cnt["pfns_inflated"])
        st = wait_for(lambda: (lambda r: r if r["updates"] > 0 else None)(
            c.cmd("show stats vm1")), 30, "guest stats")
        check(st["stats"].get("total-memory") == 64 * MiB and st["age_s"] >= 0,
              "show stats vm1: total-memory 64 MiB, age %.1f s" % st["age_s"])
        _, gs = telemetry(prefix, "/vhost_balloon/guest_stats,vm1")
        check(gs.get("total_memory") == 64 * MiB and gs["age_ms"] >= 0, "telemetry guest_stats,vm1")
        _, dv = telemetry(prefix, "/vhost_balloon/device,vm1")
        check(dv["state"] == "running" and dv["actual_pages"] == 24 * 256 and
              dv["counters"]["pfns_inflated"] == 24 * 256, "telemetry device,vm1 follows")
        # Both front ends list every counter of the library's one name table.
        check(set(dv["counters"]) == set(cnt) and "stats_bad_length" in cnt and len(cnt) == 26 and
              {"bytes_release_asked", "bytes_regained", "inflate_bytes_release_asked",
               "inflate_bytes_regained", "report_bytes_release_asked",
               "report_bytes_regained", "host_resident_bytes"} <= set(cnt),
              "show counters and telemetry list the same %d counters" % len(cnt))
        poll_modes(c, prefix)
        # Deflate vm1 partly; kill vm2 in the middle of a big inflate.
        c.cmd("set target vm1 8M")
        c.cmd("set target vm2 60M")
        time.sleep(0.05)
        procs["vm2"].kill()
        procs["vm2"].wait()
        wait_for(lambda: device(c, "vm1")["actual_bytes"] == 8 * MiB, 60, "deflate")
        check(device(c, "vm1")["in_balloon_bytes"] == 8 * MiB, "vm1 deflated to 8 MiB")
        wait_for(lambda: device(c, "vm2")["state"] == "listening", 30, "vm2 back to listening")
        check(True, "vm2 killed mid-inflate: device back to listening")
        check("devices" in c.cmd("show devices"), "daemon serves after a guest vanished")
        # vm2 again: a new guest on the same socket.
        procs["vm2"] = subprocess.Popen([vmsim, "--socket", os.path.join(tmp, "vm2.sock"),
                                         "--mem", "32M", "--backing", Opt.backing, "--quiet"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for(lambda: device(c, "vm2")["state"] == "running", 30, "vm2 reconnect")
        c.cmd("set target vm2 4M")
        wait_for(lambda: device(c, "vm2")["actual_bytes"] == 4 * MiB, 60, "vm2 new guest")
        check(device(c, "vm2")["guest_mem_bytes"] == 32 * MiB, "a new guest on vm2's socket works")
        procs["vm2"].send_signal(signal.SIGTERM)
        check(procs["vm2"].wait(30) == 0, "vm2's second guest exits 0 (memory intact)")
        # Guests that vanish at any moment: at connect, mid-inflate, mid-deflate.
        for i, delay in enumerate((0.0, 0.005, 0.02, 0.08, 0.25, 0.6)):
            g = subprocess.Popen([vmsim, "--socket", os.path.join(tmp, "vm2.sock"), "--mem",
                                  "32M", "--backing", Opt.backing, "--quiet"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if i % 2 == 1:
                wait_for(lambda: device(c, "vm2")["state"] == "running", 30, "vm2 running")
                c.cmd("set target vm2 %dM" % (28 if i % 4 == 1 else 0))
            time.sleep(delay)
            g.kill()
            g.wait()
            wait_for(lambda: device(c, "vm2")["state"] == "listening", 30, "vm2 listening")
        check(d_alive(), "six guests killed at random moments: daemon alive, vm2 listening")
        c.cmd("set target vm2 0")
    finally:
        for n, p in procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for n, p in procs.items():
            try:
                rc = p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = "killed"
            out = p.stdout.read().decode(errors="replace")
            if n == "vm1":
                check(rc == 0, "guest %s exits 0 (memory intact) (%s)" % (n, rc))
                if rc != 0:
                    print(out[-3000:])


def lcore1(c):
    return c.cmd("show lcores")["lcores"][0]


def poll_modes(c, prefix):
    """Polling modes with a live guest (vm1 at 24 MiB): interrupt mode still serves it and
    sleeps when idle; poll mode never sleeps. Conditions only, no timing."""
    MiB = 1 << 20
    r = c.cmd("set poll-mode interrupt")
    check(r.get("mode") == "interrupt", "set poll-mode interrupt (%s)" % r)
    before = lcore1(c)
    c.cmd("set target vm1 16M")
    wait_for(lambda: device(c, "vm1")["actual_bytes"] == 16 * MiB, 60,
             "interrupt mode: actual follows the target")
    check(device(c, "vm1")["in_balloon_bytes"] == 16 * MiB,
          "interrupt mode: the guest deflated to 16 MiB")
    lc = wait_for(lambda: (lambda x: x if x["sleeps"] > before["sleeps"] and
                           x["wakeups_kick"] + x["wakeups_timeout"] + x["wakeups_control"] > 0
                           else None)(lcore1(c)), 60, "interrupt lcore sleeps")
    check(lc["mode"] == "interrupt" and lc["sleeps"] > 0, "show lcores: mode interrupt, "
          "%d sleeps, %d kick wake-ups" % (lc["sleeps"], lc["wakeups_kick"]))
    _, tl = telemetry(prefix, "/vhost_balloon/lcores")
    check(tl["lcore1"]["mode"] == "interrupt" and tl["lcore1"]["sleeps"] > 0 and
          tl["lcore1"]["sleep_cycles"] > 0, "telemetry lcores: interrupt, slept")
    r = c.cmd("set poll-mode poll")
    check(r.get("mode") == "poll", "set poll-mode poll (%s)" % r)
    lc = wait_for(lambda: (lambda x: x if x["sleeping"] == 0 and x["mode"] == "poll"
                           else None)(lcore1(c)), 60, "poll mode: awake")
    sleeps = lc["sleeps"]
    c.cmd("set target vm1 20M")
    wait_for(lambda: device(c, "vm1")["actual_bytes"] == 20 * MiB, 60,
             "poll mode: actual follows the target")
    lc = lcore1(c)
    check(lc["mode"] == "poll" and lc["sleeping"] == 0 and lc["sleeps"] == sleeps,
          "show lcores: mode poll, sleeping 0, no sleep since (%d)" % lc["sleeps"])
    r = c.cmd("set poll-mode adaptive idle-us 500")
    check(r.get("mode") == "adaptive", "back to adaptive")


def sockets_mode_group(base, tmp):
    gid = Opt.sock_gid
    q = subprocess.Popen(base + ["--socket-mode", "0640", "--socket-group", str(gid), "--control",
                                 "c.sock", "-i"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(os.path.join(tmp, "c.sock")), 30, "control socket")
        for f in ("vm1.sock", "w.sock", "c.sock"):
            st = os.stat(os.path.join(tmp, f))
            check(st.st_mode & 0o777 == 0o640 and st.st_gid == gid,
                  "%s: mode %o gid %d (want 640, %d)" % (f, st.st_mode & 0o777, st.st_gid, gid))
    finally:
        q.communicate(b"quit\n", timeout=60)
    check(q.returncode == 0, "CLI quit after the permission check")


def cli(daemon):
    """The interactive CLI (stdin not a terminal) and --cmdline-file: the same command table,
    text replies; quit stops the daemon cleanly; a bad line in the file is fatal with file:line."""
    tmp = tempfile.mkdtemp(prefix="vhbd-cli-")
    if Opt.own:
        Opt.own(tmp)
    prefix = "vhbd-cli-%d" % os.getpid()
    cmds = os.path.join(tmp, "start.cmds")
    with open(cmds, "w") as f:
        f.write("# set up at start\nset target web 8M\nset target nope 8M\n")
    base = [daemon, "-l", "0,1", "--no-huge", "-m", "128", "--no-pci", "--file-prefix", prefix,
            "--", "--run-dir", tmp, "--socket", "vm1.sock", "--socket", "w.sock,name=web"]
    p = subprocess.run(base + ["-i", "--cmdline-file", cmds], input=b"show devices\n"
                       b"show device web\nset target vm1 4G\nbogus words\nshow lcores\n"
                       b"set poll-mode inter\t idle-\t 0\nset poll-mode sometimes\n"
                       b"he\t\nshow counters w\t\nshow metrics prom\t\nquit\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 0, "CLI: quit exits 0 (%d)" % p.returncode)
    check("target:                8.00 MiB" in out, "--cmdline-file ran 'set target web 8M'")
    check("no device 'nope'" in out, "--cmdline-file: a failing command is reported, rest runs")
    check(re.search(r"^name +state +lcore +numa +guest mem .* socket$", out, re.M) is not None,
          "CLI: show devices prints an aligned table header")
    check(re.search(r"^web +listening +- +- +0 B ", out, re.M) is not None,
          "CLI: table row for web (no lcore or NUMA node yet: '-')")
    check(re.search(r"^  target:\s+8.00 MiB$", out, re.M) is not None, "CLI: show device web")
    check("target:                4.00 GiB" in out, "CLI: set target vm1 4G")
    check("Command not found" in out, "CLI: unknown command reported")
    check("# TYPE vhost_balloon_build_info gauge\n# HELP vhost_balloon_build_info " in out and
          '\nvhost_balloon_target_bytes{vm="vm1"} 4294967296\n' in out,
          "CLI: show metrics prometheus (Tab-completed) prints the text as it is")
    check(re.search(r"^lcore +devices +passes +busy passes +busy pct +idle pct$", out, re.M)
          is not None, "CLI: show lcores table")
    check(re.search(r"^lcore +mode +idle us +max sleep ms +sleeping +poll ms +sleep ms +cpu pct$",
                    out, re.M) is not None and
          re.search(r"^lcore +sleeps +wakeups kick +wakeups control +wakeups timeout +"
                    r"sleep aborts +auto gap us +auto sleep cost us +auto spin us$", out, re.M)
          is not None and
          re.search(r"^lcore +devices +devices polled +parks +unparks kick +unparks other$",
                    out, re.M) is not None, "CLI: show lcores polling tables")
    check(re.search(r"^1 +auto +1000 +1000 ", out, re.M) is not None,
          "CLI: show lcores row: auto (the default), defaults")
    check("mode:                  interrupt\nidle us:               0\n" in out,
          "CLI: Tab completes the poll mode and key ('set poll-mode interrupt idle-us 0')")
    check("error: poll mode 'sometimes': give auto, adaptive, poll or interrupt" in out,
          "CLI: bad poll mode gets the command's error")
    check("this list" in out and "device:                web\ncounters:" in out,
          "CLI: Tab completes command words and VM names")
    check("bye:" in out and not any(f.endswith(".sock") for f in os.listdir(tmp)),
          "CLI: quit removed the sockets")
    if failures():
        print(out[-4000:])

    with open(cmds, "w") as f:
        f.write("show devices\n\nset targett vm1 8M\n")
    p = subprocess.run(base + ["--cmdline-file", cmds], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 1 and (cmds + ":3: error: unknown command 'set targett'") in out,
          "--cmdline-file: bad line 3 is fatal and named (%d)" % p.returncode)
    check(not any(f.endswith(".sock") for f in os.listdir(tmp)), "failed start removed the sockets")

    p = subprocess.run([daemon, "-l", "0", "--", "--socket-mode", "9"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 1 and "--socket-mode: '9' is not an octal mode" in out and
          "EAL" not in out, "bad option: exit 1 before EAL, names the option")
    p = subprocess.run([daemon, "-l", "0", "--", "--poll-mode", "busy"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 1 and "--poll-mode: 'busy' is not a polling mode" in out and
          "EAL" not in out, "bad --poll-mode: exit 1 before EAL, names the option")
    p = subprocess.run([daemon, "-l", "0", "--no-huge", "-m", "128", "--no-pci", "--file-prefix",
                        prefix, "--", "--socket", os.path.join(tmp, "x.sock")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 1 and "no worker lcore" in out, "no worker lcore: clear error, exit 1")
    # Socket permissions and group on the VM sockets and the control socket (chown: root).
    if os.geteuid() == 0:
        sockets_mode_group(base, tmp)
    else:
        print("skip: socket group check needs root")
    # Lcore choices EAL does not back.
    for extra, msg in ((["--poll-lcores", "0"], "--poll-lcores: lcore 0 is not an EAL worker"),
                       (["--poll-lcores", "5"], "--poll-lcores: lcore 5 is not an EAL worker"),
                       (["--socket", "p.sock,lcore=0"], "VM p: lcore 0 is not a poll lcore")):
        p = subprocess.run(base + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        out = p.stdout.decode(errors="replace")
        check(p.returncode == 1 and msg in out, "%s: exit 1, '%s'" % (" ".join(extra), msg))
    # --control naming a regular file: refused, the file is left alone.
    keep = os.path.join(tmp, "precious.txt")
    with open(keep, "w") as f:
        f.write("keep me")
    p = subprocess.run(base + ["--control", keep], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 1 and "control socket" in out and open(keep).read() == "keep me",
          "--control on a regular file: exit 1, file untouched")
    if failures() == 0:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
