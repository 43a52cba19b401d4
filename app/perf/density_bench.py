#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Density benchmark (docs/perf.md "Density: VMs through the daemon"): the daemon binary with
N simulated guests (vhost-balloon-vmsim, memfd) connected through its own sockets. For each N
it prints the time to connect them all, the daemon's RSS and PSS before any guest and with all
N, the growth per VM beside the page-tracking bitmap of one guest, the CPU of every daemon
thread over an idle window, one inflate on one VM while the others idle, and at the process
limit the reply to one "add socket" too many. It measures and prints; it asserts nothing.

usage: density_bench.py [options] VHOST_BALLOON VMSIM
  --vms LIST        VM counts, comma-separated (default 1,64,256,511)
  --mem SIZE        guest memory of each simulated guest, vmsim syntax (default 16M)
  --idle S          idle window for the CPU figures, seconds (default 10)
  --inflate SIZE    balloon size of the one inflate (default: half the guest)
  --lcores LIST     EAL -l (default 0-1: main lcore + one poll lcore)
  --eal-mem MIB     EAL -m with --no-huge (default 1024)
  --poll-mode MODE  the daemon's --poll-mode (default: its own default)
  --timeout S       give up waiting for the guests after S seconds (default 300)
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MiB = 1 << 20
VMSIM_MAX_SOCKETS = 256     # VMSIM_MAX_GUESTS, app/vmsim/vmsim_app.h
PFN_SIZE = 4096             # VHB_PFN_SIZE, config/vhb_limits.h


class Opt:
    vms = [1, 64, 256, 511]
    mem = "16M"
    idle = 10.0
    inflate = None
    lcores = "0-1"
    eal_mem = 1024
    poll_mode = None
    timeout = 300.0
    empty = None        # the daemon without any VM: its figures


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    s = s.strip().upper().rstrip("B").rstrip("I")
    if s and s[-1] in mult:
        return int(s[:-1]) * mult[s[-1]]
    return int(s)


class Ctl:
    """One control socket connection: one command per line, one JSON reply per line."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(60)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\n")
        ln = self.f.readline()
        return json.loads(ln) if ln else None

    def close(self):
        self.f.close()
        self.s.close()


def smaps_rollup(pid):
    """kB figures of /proc/PID/smaps_rollup (Rss, Pss, Pss_Anon, ...)."""
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for ln in f:
            parts = ln.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def status_kb(pid):
    """kB figures of /proc/PID/status (RssAnon, RssFile, RssShmem: the guests' memory the
    daemon has touched is shmem, the backend's own memory anon or file)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            parts = ln.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


GUEST_MEMFD = "/memfd:vmsim-guest-ram"     # lib/vmsim/vms_mem.c
EAL_HEAP_MEMFD = "/memfd:nohuge"            # EAL's memory with --no-huge (rte_malloc)


def maps_rss(pid, name):
    """Mappings of /proc/PID/smaps whose path starts with name: how many, their summed Rss
    (kB), and Rss per mapping (min, median, max)."""
    rss, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for ln in f:
            parts = ln.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                cur = len(parts) >= 6 and parts[5].startswith(name)
                continue
            if cur and parts[0] == "Rss:":
                rss.append(int(parts[1]))
    rss.sort()
    if not rss:
        return 0, 0, (0, 0, 0)
    return len(rss), sum(rss), (rss[0], rss[len(rss) // 2], rss[-1])


def mem(pid):
    m = smaps_rollup(pid)
    m.update(status_kb(pid))
    m["guest"] = maps_rss(pid, GUEST_MEMFD)[1]
    m["heap"] = maps_rss(pid, EAL_HEAP_MEMFD)[1]
    m["own"] = m["Rss"] - m["guest"]
    return m


def heap_info(prefix):
    """EAL's malloc heap 0 over telemetry (/eal/heap_info,0): Alloc_size and Alloc_count, or
    None when the telemetry socket is not there."""
    for base in ("/var/run/dpdk", os.environ.get("XDG_RUNTIME_DIR", "") + "/dpdk",
                 "/tmp/dpdk"):
        path = os.path.join(base, prefix, "dpdk_telemetry.v2")
        if os.path.exists(path):
            break
    else:
        return None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    try:
        s.connect(path)
        s.recv(16384)
        s.send(b"/eal/heap_info,0")
        r = json.loads(s.recv(65536))["/eal/heap_info"]
        return int(r["Alloc_size"]), int(r["Alloc_count"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    finally:
        s.close()


def fd_kinds(pid):
    """Open fds of pid by what they are: socket, memfd, eventfd, ..."""
    kinds = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if t.startswith("socket:"):
            k = "socket"
        elif t.startswith("/memfd:"):
            k = "memfd"
        elif t.startswith("anon_inode:"):
            k = t[len("anon_inode:"):].strip("[]")
        elif t.startswith("pipe:"):
            k = "pipe"
        else:
            k = "file"
        kinds[k] = kinds.get(k, 0) + 1
    return ", ".join("%s %d" % kv for kv in sorted(kinds.items()))


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fd_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for ln in f:
            if ln.startswith("Max open files"):
                return int(ln.split()[3]), ln.split()[4]
    return None, None


def thread_times(pid):
    """{tid: (name, utime+stime ticks)} of every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        rest = st[st.rindex(")") + 2:].split()
        out[int(tid)] = (name, int(rest[11]) + int(rest[12]))    # fields 14, 15
    return out


def tree_mem(pids):
    """Summed Rss and Pss (kB) of processes and their children (the vmsim guests)."""
    rss = pss = n = 0
    seen = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            m = smaps_rollup(pid)
            rss += m.get("Rss", 0)
            pss += m.get("Pss", 0)
            n += 1
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                todo += [int(x) for x in f.read().split()]
        except OSError:
            continue
    return n, rss, pss


def bitmap_bytes(guest_bytes, regions=1):
    """Page-tracking bitmap of one region of 4 KiB pages (lib/balloon/vhb_balloon_pages.c
    region_track_alloc): one bit per 4 KiB page, rounded up to 64-bit words, one word more."""
    npfns = guest_bytes // PFN_SIZE
    return regions * ((npfns + 64) // 64) * 8


def devices(c):
    r = c.cmd("show devices")
    return r["devices"] if r and "devices" in r else []


def write_config(path, n, mem):
    with open(path, "w") as f:
        f.write("[daemon]\ncontrol = control.sock\n")
        if Opt.poll_mode:
            f.write("poll-mode = %s\n" % Opt.poll_mode)
        for i in range(n):
            f.write("\n[vm vm%d]\nsocket = vm%d.sock\n" % (i, i))


def run_one(daemon, vmsim, n):
    guest_bytes = parse_size(Opt.mem)
    tmp = tempfile.mkdtemp(prefix="vhb-density-")
    prefix = "vhbdensity%d" % os.getpid()
    cfg = os.path.join(tmp, "density.ini")
    write_config(cfg, n, guest_bytes)
    log = open(os.path.join(tmp, "daemon.log"), "w+")
    cmd = [daemon, "-l", Opt.lcores, "--no-huge", "-m", str(Opt.eal_mem), "--no-pci",
           "--file-prefix", prefix, "--log-level", "lib.vhost.*:warning", "--",
           "--run-dir", tmp, "--config", cfg]
    print("\n=== N = %d VMs, %s memfd guests ===" % (n, Opt.mem))
    print("daemon: %s" % " ".join(cmd))
    d = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    guests = []
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and d.poll() is None:
            with open(log.name) as f:
                if "ready" in f.read():
                    break
            time.sleep(0.1)
        if d.poll() is not None:
            print("daemon exited %s; log:\n%s" % (d.returncode, open(log.name).read()))
            return None
        c = Ctl(os.path.join(tmp, "control.sock"))
        time.sleep(1.0)
        m0 = mem(d.pid)
        h0 = heap_info(prefix)
        fd0 = nfds(d.pid)
        soft, hard = fd_limit(d.pid)
        with open(log.name) as f:
            for ln in f:
                if "open files" in ln or "RLIMIT_NOFILE" in ln:
                    print("daemon log: %s" % ln.rstrip())
        print("daemon open-files limit: soft %s, hard %s" % (soft, hard))
        print("before guests: Rss %d kB (anon %d, file %d, shmem %d of which EAL heap %d), "
              "Pss %d kB, fds %d" % (m0["Rss"], m0["RssAnon"], m0["RssFile"], m0["RssShmem"],
                                     m0["heap"], m0["Pss"], fd0))
        if n == 0:
            c.close()
            return {"n": 0, "rss0": m0["Rss"], "pss0": m0["Pss"],
                    "own0": m0["own"]}

        # The guests: one process each (like one QEMU per VM), at most 256 per vmsim run.
        t0 = time.monotonic()
        for first in range(0, n, VMSIM_MAX_SOCKETS):
            socks = []
            for i in range(first, min(n, first + VMSIM_MAX_SOCKETS)):
                socks += ["--socket", os.path.join(tmp, "vm%d.sock" % i)]
            guests.append(subprocess.Popen(
                [vmsim] + socks + ["--mem", Opt.mem, "--backing", "memfd", "--quiet",
                                   "--connect-timeout", "60s", "--timeout", "60s"],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "vmsim.err"), "a")))
        running = 0
        end = t0 + Opt.timeout
        while time.monotonic() < end:
            devs = devices(c)
            running = sum(1 for dv in devs if dv["state"] == "running")
            if running == n or any(g.poll() is not None for g in guests):
                break
            time.sleep(0.2)
        t_conn = time.monotonic() - t0
        print("connected: %d of %d running in %.2f s" % (running, n, t_conn))
        if running != n:
            states = {}
            for dv in devices(c):
                states[dv["state"]] = states.get(dv["state"], 0) + 1
            print("states: %s; vmsim exits: %s" % (states, [g.poll() for g in guests]))
            err = open(os.path.join(tmp, "vmsim.err")).read()
            print("vmsim stderr (tail):\n%s" % err[-2000:])
            print("daemon log (tail):\n%s" % open(log.name).read()[-3000:])
        time.sleep(2.0)     # first stats exchange, lcores settle
        dv0 = devices(c)[0]
        m1 = mem(d.pid)
        h1 = heap_info(prefix)
        fd1 = nfds(d.pid)
        bm = bitmap_bytes(dv0["guest_mem_bytes"])
        print("with %d guests: Rss %d kB (anon %d, file %d, shmem %d of which EAL heap %d and "
              "guest memory %d), Pss %d kB, fds %d (%.1f per VM)" %
              (running, m1["Rss"], m1["RssAnon"], m1["RssFile"], m1["RssShmem"], m1["heap"],
               m1["guest"], m1["Pss"], fd1, (fd1 - fd0) / max(running, 1)))
        k = max(running, 1)
        per_rss = (m1["Rss"] - m0["Rss"]) * 1024 / k
        per_pss = (m1["Pss"] - m0["Pss"]) * 1024 / k
        per_own = (m1["own"] - m0["own"]) * 1024 / k
        per_shm = (m1["guest"] - m0["guest"]) * 1024 / k
        per_heap = (m1["heap"] - m0["heap"]) * 1024 / k
        print("per VM: Rss +%.1f KiB = the backend's own +%.1f KiB (of which EAL heap, "
              "rte_malloc: +%.1f KiB) + guest memory mapped (the guest's pages) +%.1f KiB; "
              "Pss +%.1f KiB" % (per_rss / 1024, per_own / 1024, per_heap / 1024,
                                 per_shm / 1024, per_pss / 1024))
        print("page tables (VmPTE): %d kB before guests, %d kB with them: +%.1f KiB per VM" %
              (m0["VmPTE"], m1["VmPTE"], (m1["VmPTE"] - m0["VmPTE"]) / k))
        print("daemon fds by kind: %s" % fd_kinds(d.pid))
        if h0 and h1:
            print("EAL heap (rte_malloc, /eal/heap_info,0): %d B in %d allocations before "
                  "guests, %d B in %d with them: +%.1f KiB in %.1f allocations per VM" %
                  (h0[0], h0[1], h1[0], h1[1], (h1[0] - h0[0]) / 1024 / k,
                   (h1[1] - h0[1]) / k))
        gm = maps_rss(d.pid, GUEST_MEMFD)
        print("guest memory mapped by the daemon: %d mappings, Rss %d kB, per mapping "
              "min/median/max %d/%d/%d kB (pages of guest memory, resident for the guest "
              "anyway; the daemon adds page table entries)" % (gm[0], gm[1], *gm[2]))
        if Opt.empty:
            e = Opt.empty
            print("per VM from the daemon without VMs (Rss %d kB, Pss %d kB): Rss +%.1f KiB, "
                  "own +%.1f KiB, Pss +%.1f KiB" %
                  (e["rss0"], e["pss0"], (m1["Rss"] - e["rss0"]) / k,
                   (m1["own"] - e["own0"]) / k, (m1["Pss"] - e["pss0"]) / k))
        print("per VM: page-tracking bitmap %d B (%d MiB guest, 1 region); beyond the bitmap: "
              "Rss %.1f KiB, own %.1f KiB, Pss %.1f KiB" %
              (bm, dv0["guest_mem_bytes"] // MiB, (per_rss - bm) / 1024,
               (per_own - bm) / 1024, (per_pss - bm) / 1024))
        gn, grss, gpss = tree_mem([g.pid for g in guests])
        print("vmsim: %d processes, Rss %d MiB, Pss %d MiB (%.1f MiB Pss per guest)" %
              (gn, grss >> 10, gpss >> 10, gpss / 1024 / max(n, 1)))

        # CPU per thread over an idle window, everything connected.
        a = thread_times(d.pid)
        w0 = time.monotonic()
        time.sleep(Opt.idle)
        b = thread_times(d.pid)
        win = time.monotonic() - w0
        hz = os.sysconf("SC_CLK_TCK")
        print("daemon CPU per thread over %.1f s idle (utime+stime):" % win)
        total = 0
        for tid in sorted(b):
            if tid not in a:
                continue
            ticks = b[tid][1] - a[tid][1]
            total += ticks
            print("  %-7d %-16s %8.0f ms  %5.1f%%" %
                  (tid, b[tid][0], ticks * 1000.0 / hz, ticks * 100.0 / hz / win))
        print("  total                    %8.0f ms  %5.1f%%" %
              (total * 1000.0 / hz, total * 100.0 / hz / win))

        # One inflate on one VM, the others idle.
        target = parse_size(Opt.inflate) if Opt.inflate else dv0["guest_mem_bytes"] // 2
        name = dv0["name"]
        t0 = time.monotonic()
        r = c.cmd("set target %s %dK" % (name, target >> 10))
        actual = -1
        while time.monotonic() - t0 < 120:
            dv = c.cmd("show device %s" % name)["device"]
            actual = dv["actual_bytes"]
            if actual == target:
                break
            time.sleep(0.01)
        t_infl = time.monotonic() - t0
        others = [x for x in devices(c) if x["name"] != name and x["actual_bytes"] != 0]
        print("inflate %s to %d MiB: %s; actual %d MiB after %.3f s (control socket polled "
              "every 10 ms); other VMs with a balloon: %d" %
              (name, target // MiB, r, actual // MiB, t_infl, len(others)))
        c.cmd("set target %s 0" % name)

        # Every VM balloons once and back: what a VM that ballooned keeps while idle.
        quarter = dv0["guest_mem_bytes"] // 4
        for x in devices(c):
            c.cmd("set target %s %dK" % (x["name"], quarter >> 10))
        t0 = time.monotonic()
        while time.monotonic() - t0 < 300 and \
                any(x["actual_bytes"] != quarter for x in devices(c)):
            time.sleep(0.1)
        for x in devices(c):
            c.cmd("set target %s 0" % x["name"])
        while time.monotonic() - t0 < 600 and any(x["actual_bytes"] != 0 for x in devices(c)):
            time.sleep(0.1)
        t_all = time.monotonic() - t0
        m2 = mem(d.pid)
        print("every VM ballooned %d MiB and back in %.1f s; then own memory %d kB: +%.1f KiB "
              "per VM over the connected idle VMs (what ballooning once leaves resident)" %
              (quarter // MiB, t_all, m2["own"], (m2["own"] - m1["own"]) / k))

        if running >= 511:
            r = c.cmd("add socket extra.sock extra")
            print("add socket past %d VMs: %s" % (n, json.dumps(r)))
        c.close()
        return {"n": n, "running": running, "t_conn": t_conn, "rss0": m0["Rss"],
                "pss0": m0["Pss"], "rss1": m1["Rss"], "pss1": m1["Pss"], "bitmap": bm,
                "per_rss": per_rss, "per_pss": per_pss, "per_own": per_own,
                "tot_own": (m1["own"] - Opt.empty["own0"]) * 1024 / k, "t_infl": t_infl,
                "cpu_total_pct": total * 100.0 / hz / win, "fds": fd1,
                "after_balloon": (m2["own"] - m1["own"]) / k}
    finally:
        for g in guests:
            if g.poll() is None:
                g.send_signal(signal.SIGTERM)
        for g in guests:
            try:
                g.wait(60)
            except subprocess.TimeoutExpired:
                g.kill()
                g.wait()
        t0 = time.monotonic()
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
            try:
                rc = d.wait(120)
            except subprocess.TimeoutExpired:
                d.kill()
                rc = d.wait()
        else:
            rc = d.returncode
        print("daemon stopped: exit %s after %.2f s" % (rc, time.monotonic() - t0))
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
        for base in ("/var/run/dpdk", os.environ.get("XDG_RUNTIME_DIR", "") + "/dpdk",
                     "/tmp/dpdk"):
            shutil.rmtree(os.path.join(base, prefix), ignore_errors=True)


def main(argv):
    args = []
    while argv:
        a = argv.pop(0)
        if a in ("-h", "--help"):
            print(__doc__)
            return 0
        if a.startswith("--"):
            if not argv:
                print("%s needs a value" % a, file=sys.stderr)
                return 2
            v = argv.pop(0)
            if a == "--vms":
                Opt.vms = [int(x) for x in v.split(",")]
            elif a == "--mem":
                Opt.mem = v
            elif a == "--idle":
                Opt.idle = float(v)
            elif a == "--inflate":
                Opt.inflate = v
            elif a == "--lcores":
                Opt.lcores = v
            elif a == "--eal-mem":
                Opt.eal_mem = int(v)
            elif a == "--poll-mode":
                Opt.poll_mode = v
            elif a == "--timeout":
                Opt.timeout = float(v)
            else:
                print("unknown option %s" % a, file=sys.stderr)
                return 2
        else:
            args.append(a)
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    daemon, vmsim = args
    print("density_bench: %s" % time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    print("machine: %d CPUs, load %s, MemAvailable %s; %s" %
          (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3]),
           [ln.split(":")[1].strip() for ln in open("/proc/meminfo")
            if ln.startswith("MemAvailable")][0], os.uname().release))
    print("guests: vmsim, memfd (4 KiB pages), %s each; open-files limit of this shell: %s" %
          (Opt.mem, " / ".join(str(x) for x in __import__("resource").getrlimit(
              __import__("resource").RLIMIT_NOFILE))))
    Opt.empty = run_one(daemon, vmsim, 0)
    rows = []
    for n in Opt.vms:
        r = run_one(daemon, vmsim, n)
        if r:
            rows.append(r)
    print("\nper VM: growth from the daemon with N listening VMs to N running guests "
          "(rss, own = rss without the guests' memory, pss); own_all: from the daemon without VMs;\n"
          "balloon_KiB: own memory each VM adds once every VM ballooned and deflated")
    print("%5s %7s %7s %8s %8s %8s %8s %8s %8s %8s %8s %8s %6s %7s %11s" %
          ("N", "running", "conn_s", "rss0_kB", "rssN_kB", "pss0_kB", "pssN_kB",
           "rss_KiB", "own_KiB", "pss_KiB", "own_all", "bitmap_B", "cpu_%", "infl_s",
           "balloon_KiB"))
    for r in rows:
        print("%5d %7d %7.2f %8d %8d %8d %8d %8.1f %8.1f %8.1f %8.1f %8d %6.1f %7.3f %11.1f" %
              (r["n"], r["running"], r["t_conn"], r["rss0"], r["rss1"], r["pss0"], r["pss1"],
               r["per_rss"] / 1024, r["per_own"] / 1024, r["per_pss"] / 1024,
               r["tot_own"] / 1024, r["bitmap"], r["cpu_total_pct"], r["t_infl"],
               r["after_balloon"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
