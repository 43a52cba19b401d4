#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The balancing policy in the daemon (docs/policy.md): [policy] from the config file with a
played host (meminfo and PSI files), two vmsim guests (memfd) with fixed statistics, advisory
mode (targets computed and shown, never set), 'set policy on' (targets set, guests follow),
per-VM bounds at run time, 'show policy', telemetry /vhost_balloon/policy, error replies, and
one log line per change of direction.
usage: test_policy.py VHOST_BALLOON VMSIM
"""
import os
import shutil
import subprocess
import sys
import tempfile

from apptest import Ctl, Daemon, check, failures, remove_eal_dirs, wait_for
from test_daemon import telemetry

MiB = 1 << 20


def write_host(root, avail_mib):
    with open(os.path.join(root, "meminfo.tmp"), "w") as f:
        f.write("MemTotal:  4194304 kB\nMemFree:  1000 kB\nMemAvailable:  %d kB\n"
                % (avail_mib * 1024))
    os.replace(os.path.join(root, "meminfo.tmp"), os.path.join(root, "meminfo"))
    with open(os.path.join(root, "psi"), "w") as f:
        f.write("some avg10=1.50 avg60=0.00 avg300=0.00 total=10\n"
                "full avg10=0.25 avg60=0.00 avg300=0.00 total=2\n")


def vm_row(c, name):
    r = c.cmd("show policy")
    for v in r["vms"]:
        if v["name"] == name:
            return v
    return None


def target(c, name):
    return c.cmd("show device " + name)["device"]["target_bytes"]


def run(c, d, prefix):
    r = c.cmd("show policy")
    check(r["mode"] == "advisory" and r["interval_ms"] == 200, "show policy: advisory, 200 ms")
    # A pass may see one guest running before the other: wait for one that sees both.
    wait_for(lambda: c.cmd("show policy")["passes"] > 0 and
             (vm_row(c, "idle") or {}).get("action") == "reclaim" and
             "no guest driver" not in (vm_row(c, "busy") or {}).get("reason", "no guest driver"),
             30, "advisory pass sees both guests")
    r = c.cmd("show policy")
    check(r["host"] == "short" and r["host_available_bytes"] == 300 * MiB and
          r["host_low_bytes"] == 512 * MiB and r["psi_some"] == 1.5,
          "show policy: host short, 300 MiB available, low 512 MiB, PSI 1.5 (%s)"
          % r["host_reason"])
    idle = vm_row(c, "idle")
    check(idle["chosen_bytes"] > idle["target_bytes"] and "host short" in idle["reason"],
          "advisory: a target chosen for idle with a reason (%s)" % idle["reason"])
    check(r["targets_set"] == 0 and target(c, "idle") == 0 and target(c, "busy") == 0,
          "advisory: no target set")
    _, tel = telemetry(prefix, "/vhost_balloon/policy")
    check(tel["mode"] == "advisory" and tel["host_state"] == "short" and
          tel["psi_some_avg10_x100"] == 150, "telemetry policy: mode, host, PSI")
    check(set(tel.get("idle", {})) == {"action", "target_bytes", "chosen_target_bytes",
                                       "reason"}, "telemetry policy: per-VM summary")
    _, ti = telemetry(prefix, "/vhost_balloon/policy,idle")
    want = {"action", "reason", "guest_mem_bytes", "target_bytes", "chosen_target_bytes",
            "actual_bytes", "min_bytes", "max_bytes", "weight", "reserve_bytes", "spare_bytes",
            "stats_updates", "stats_age_ms", "available_bytes", "free_bytes", "caches_bytes",
            "swap_in_delta_bytes", "major_faults_delta", "pressure"}
    check(want <= set(ti) and ti["min_bytes"] == 128 * MiB and ti["weight"] == 100,
          "telemetry policy,idle: signals, bounds, target and reason (%s)" % (want - set(ti)))
    _, tb = telemetry(prefix, "/vhost_balloon/policy,busy")
    check(tb.get("weight") == 50, "telemetry policy,busy: its weight from [vm]")
    _, tn = telemetry(prefix, "/vhost_balloon/policy,nope")
    check(tn is None, "telemetry policy,nope -> null")

    # Errors: structured replies.
    for req, code in (("set policy maybe", "invalid_argument"),
                      ("set policy on now", "invalid_argument"),
                      ("set policy vm", "bad_command"),
                      ("set policy vm nope", "not_found"),
                      ("set policy vm idle min", "bad_command"),
                      ("set policy vm idle min 2G max 1G", "invalid_argument"),
                      ("set policy vm idle weight 0", "invalid_argument"),
                      ("set policy vm idle weight 1001", "invalid_argument"),
                      ("set policy vm idle min 12", "invalid_argument"),
                      ("set policy vm idle size 1G", "bad_command"),
                      ("set policy vm idle min 1G min 1G", "bad_command")):
        r = c.cmd(req)
        got = r.get("error", {}).get("code") if r else None
        check(got == code, "'%s' -> error %s (got %s)" % (req, code, r))

    # On: the targets are set and the guests follow; the busy guest gives less.
    check(c.cmd("set policy on") == {"policy": "on"}, "set policy on")
    wait_for(lambda: target(c, "idle") >= 64 * MiB, 60, "idle squeezed")
    wait_for(lambda: c.cmd("show device idle")["device"]["actual_bytes"] ==
             target(c, "idle") > 0, 60, "idle follows")
    check(target(c, "busy") < target(c, "idle"),
          "busy gives less than idle (%d < %d MiB)" % (target(c, "busy") // MiB,
                                                      target(c, "idle") // MiB))
    # Never below min: idle's min is 128 MiB of 256 MiB.
    wait_for(lambda: (vm_row(c, "idle") or {}).get("reason", "").startswith("at its min") or
             target(c, "idle") == 128 * MiB, 120, "idle reaches its min")
    check(target(c, "idle") == 128 * MiB, "idle stops at its min (balloon %d MiB)"
          % (target(c, "idle") // MiB))

    # A bound raised at run time is applied at once (the guest is below its new min).
    r = c.cmd("set policy vm idle min 240M")
    check(r.get("device") == "idle" and r.get("min_bytes") == 240 * MiB and
          r.get("weight") == 0, "set policy vm idle min 240M (%s)" % r)
    wait_for(lambda: target(c, "idle") == 16 * MiB, 30, "raised to the new min")
    check(True, "idle raised to its new min: balloon 16 MiB")

    # Plenty: everything goes back, gradually.
    write_host(os.path.dirname(d.run_dir), 3000)
    wait_for(lambda: target(c, "idle") == 0 and target(c, "busy") == 0, 120, "given back")
    check(True, "host has plenty: every balloon given back")
    r = c.cmd("show policy")
    check(r["host"] == "plenty" and r["targets_set"] > 2, "show policy: plenty, %d targets set"
          % r["targets_set"])

    check(c.cmd("set policy off") == {"policy": "off"}, "set policy off")
    check(c.cmd("show policy")["mode"] == "off", "show policy: off")
    log = d.log_text()
    check("vhb_policy: VM idle: reclaim (advisory): host short" in log and
          "vhb_policy: VM idle: reclaim: host short" in log and
          "vhb_policy: VM idle: give-back:" in log and "vhb_policy: mode on (was advisory)" in log,
          "log: one line per change of direction, and the mode changes")
    lines = [ln for ln in log.splitlines() if "vhb_policy: VM idle: reclaim: " in ln]
    check(len(lines) == 1, "one log line for idle's whole reclaim (%d)" % len(lines))


def main():
    daemon, vmsim = sys.argv[1], sys.argv[2]
    root = tempfile.mkdtemp(prefix="vhbd-policy-")
    run_dir = os.path.join(root, "run")
    prefix = "vhbd-policy-%d" % os.getpid()
    print("test_policy: guest memory backing: memfd 4 KiB (vmsim guests)")
    write_host(root, 300)
    cfg = os.path.join(root, "vhb.ini")
    with open(cfg, "w") as f:
        f.write("[daemon]\ncontrol = ctl.sock\nstats-interval = 1\n"
                "[policy]\nmode = advisory\ninterval-ms = 200\nhost-low = 512M\n"
                "host-high = 768M\nstep = 32M\ngive-back = 32M\nhold-s = 1\n"
                "meminfo = %s\npsi = %s\n"
                "[vm idle]\nsocket = idle.sock\npolicy-min = 128M\n"
                "[vm busy]\nsocket = busy.sock\npolicy-weight = 50\n"
                % (os.path.join(root, "meminfo"), os.path.join(root, "psi")))
    d = Daemon(daemon, prefix, run_dir, ["--config", cfg], os.path.join(root, "daemon.log"))
    guests = []
    try:
        check(d.wait_ready(), "daemon started with [policy]")
        for name, avail in (("idle", 200), ("busy", 40)):
            guests.append(subprocess.Popen(
                [vmsim, "--socket", os.path.join(run_dir, name + ".sock"), "--mem", "256M",
                 "--backing", "memfd", "--quiet", "--stats-values",
                 "available=%d,caches=%d,free=%d" % (avail * MiB, avail * MiB // 2,
                                                     avail * MiB // 4)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        c = Ctl(os.path.join(run_dir, "ctl.sock"))
        wait_for(lambda: all(c.cmd("show device " + n)["device"]["state"] == "running"
                             for n in ("idle", "busy")), 30, "guests running")
        run(c, d, prefix)
        c.close()
    finally:
        for g in guests:
            g.terminate()
            try:
                g.wait(20)
            except subprocess.TimeoutExpired:
                g.kill()
        d.stop()
        if failures():
            print(d.log_text()[-6000:])
        remove_eal_dirs(prefix)
        shutil.rmtree(root, ignore_errors=True)
    print("test_policy: %s" % ("all passed" if failures() == 0 else "%d failures" % failures()))
    return 1 if failures() else 0


if __name__ == "__main__":
    sys.exit(main())
