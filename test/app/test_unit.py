#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The systemd unit's sandbox: every hardening setting docs/security.md lists is in the unit
as built for installation, and `systemd-analyze security --offline=yes` rates it at most
1.0 ("SAFE"; 2.0 with the metrics drop-in). Then proof that these checks can fail: the
unit without each listed setting fails them. With the daemon (and as root): the sandboxed
daemon cannot open an IP socket under the unit alone and serves metrics with the drop-in.

usage: test_unit.py UNIT METRICS_DROPIN [VHOST_BALLOON]
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request

from apptest import Daemon, check, failures, make_user, remove_eal_dirs, sandbox_wrapper

TEST_USER = "vhbtest"     # the same user the app_daemon_unpriv tests run the daemon as

# The exposure the unit may reach. Measured 0.6 with systemd 252; what it still allows is
# needed (docs/security.md "Least privilege": unix sockets, chown to the socket group, the
# NUMA and affinity calls of @resources, the host's root directory and users). 1.0 is the
# top of systemd's "SAFE" band: room for a newer systemd's extra checks, and still below
# any unit that lost its empty capability set (2.3), its address family or namespace
# restriction (1.3 each). Settings that weigh less than the analyzer's 0.1 resolution are
# held by the list below instead.
MAX_EXPOSURE = 1.0
# With the metrics drop-in (host network, AF_INET/AF_INET6, loopback only): measured 1.3.
MAX_EXPOSURE_METRICS = 2.0

# Every setting the unit must keep, as "Key=value" lines of [Service].
REQUIRED = """
User=vhost-balloon
Group=kvm
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes
SecureBits=noroot-locked
UMask=0077
Environment=XDG_RUNTIME_DIR=%t/vhost-balloon
RuntimeDirectory=vhost-balloon
RuntimeDirectoryMode=0750
ProtectSystem=strict
ReadWritePaths=%t/vhost-balloon
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateIPC=yes
ProtectProc=invisible
ProcSubset=pid
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RemoveIPC=yes
KeyringMode=private
PrivateNetwork=yes
IPAddressDeny=any
RestrictAddressFamilies=AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
""".strip().splitlines()
# Removing one of these alone must push the exposure above MAX_EXPOSURE.
HEAVY = ("CapabilityBoundingSet=", "RestrictAddressFamilies=AF_UNIX", "RestrictNamespaces=yes")


def service_lines(text):
    lines, section = [], None
    for raw in text.splitlines():
        ln = raw.strip()
        if ln.startswith("["):
            section = ln
        elif section == "[Service]" and ln and ln[0] not in "#;":
            lines.append(ln)
    return lines


def exposure(path):
    """(score, analyzer exit status at the threshold) for the unit file at path."""
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=120)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", p.stdout)
    if m is None:
        raise RuntimeError("systemd-analyze security: no score:\n" + p.stdout[-2000:])
    return float(m.group(1)), p.stdout


def problems(text, path, required, limit):
    """What is wrong with the unit text: missing settings, exposure above limit."""
    bad = []
    have = service_lines(text)
    bad += ["missing " + r for r in required if r not in have]
    with open(path, "w") as f:
        f.write(text)
    score, _ = exposure(path)
    # The analyzer's own threshold check agrees (--threshold counts tenths).
    t = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                        "--threshold=%d" % round(limit * 10), path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120).returncode
    if score > limit or t != 0:
        bad.append("exposure %.1f above %.1f (analyzer exit %d)" % (score, limit, t))
    return bad, score


def analyzer_ok():
    if shutil.which("systemd-analyze") is None:
        return "no systemd-analyze (Debian package systemd)"
    v = subprocess.run(["systemd-analyze", "--version"], stdout=subprocess.PIPE,
                       universal_newlines=True).stdout
    m = re.match(r"systemd (\d+)", v)
    if m is None or int(m.group(1)) < 250:
        return "systemd-analyze security --offline needs systemd 250 or later (%s)" % v[:40]
    return None


def metrics_run(exe, unit, dropin, work):
    """The daemon under the unit (as root: the test user, unitsandbox.py): --metrics-listen
    fails without the drop-in (no AF_INET socket) and serves with it."""
    if os.geteuid() != 0 or make_user(TEST_USER) is None:
        print("test_unit: skip: running the sandboxed daemon needs root")
        return
    port_s = socket.socket()
    port_s.bind(("127.0.0.1", 0))
    port = port_s.getsockname()[1]
    port_s.close()
    prefix = "vhbd-unit-%d" % os.getpid()
    for name, units in (("unit", [unit]), ("unit+dropin", [unit, dropin])):
        top = tempfile.mkdtemp(prefix="vhbd-unit-")
        wrapper, rw = sandbox_wrapper(exe, units, TEST_USER, top)
        run = os.path.join(rw, "run")
        d = Daemon(wrapper, prefix + name[-1], run, ["--socket", "vm1.sock", "--metrics-listen",
                                                     "127.0.0.1:%d" % port],
                   os.path.join(top, "daemon.log"))
        up = d.wait_ready(60)
        if name == "unit":
            rc = None
            if not up:
                try:
                    rc = d.p.wait(60)
                except subprocess.TimeoutExpired:
                    d.p.kill()
                    d.p.wait()
            text = d.log_text()
            check(not up and rc == 1 and "Address family not supported" in text,
                  "unit alone: --metrics-listen refused (exit %s, EAFNOSUPPORT)" % rc)
            if up:
                d.stop()
            else:
                d.log.close()
        else:
            body = ""
            if up:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                            timeout=20) as r:
                    body = r.read().decode()
            check(up and 'vhost_balloon_target_bytes{vm="vm1"} 0' in body,
                  "unit + metrics drop-in: GET /metrics served by the sandboxed daemon")
            d.stop()
            if failures():
                print(d.log_text()[-3000:])
        remove_eal_dirs(prefix + name[-1])
        if failures() == 0:
            shutil.rmtree(top, ignore_errors=True)


def main():
    unit, dropin = sys.argv[1], sys.argv[2]
    exe = sys.argv[3] if len(sys.argv) > 3 else None
    why = analyzer_ok()
    if why:
        print("test_unit: skip: " + why)
        return 77
    work = tempfile.mkdtemp(prefix="vhbd-unit-")
    path = os.path.join(work, "vhost-balloon.service")
    with open(unit) as f:
        text = f.read()
    with open(dropin) as f:
        drop = f.read()
    print("test_unit: %s (as built for meson install)" % unit)

    bad, score = problems(text, path, REQUIRED, MAX_EXPOSURE)
    check(bad == [], "unit: every listed setting, exposure %.1f <= %.1f %s" %
          (score, MAX_EXPOSURE, bad))
    _, out = exposure(path)
    print("\n".join(ln for ln in out.splitlines() if "\u2717" in ln or "Overall" in ln))

    # The template for a second daemon (vhost-balloon@NAME) is the same unit, its own
    # names: every listed setting, the same exposure, its instance's run directory.
    tmpl = os.path.join(os.path.dirname(unit), "vhost-balloon@.service")
    with open(tmpl) as f:
        ttext = f.read()
    bad, tscore = problems(ttext, os.path.join(work, "vhost-balloon@second.service"),
                           [r if r.startswith("User=") else
                            r.replace("vhost-balloon", "vhost-balloon-%i") for r in REQUIRED],
                           MAX_EXPOSURE)
    check(bad == [] and tscore == score and "RuntimeDirectory=vhost-balloon-%i" in ttext and
          "--file-prefix vhost-balloon-%i" in ttext and "vhost-balloon-%i.ini" in ttext,
          "template vhost-balloon@: the same settings and exposure (%.1f), its own names %s"
          % (tscore, bad))

    # The drop-in for --metrics-listen: same settings except the network ones it opens.
    opened = ("PrivateNetwork=yes", "IPAddressDeny=any")
    bad, mscore = problems(text + "\n" + drop, path, [r for r in REQUIRED if r not in opened],
                           MAX_EXPOSURE_METRICS)
    check(bad == [], "unit + metrics drop-in: exposure %.1f <= %.1f %s" %
          (mscore, MAX_EXPOSURE_METRICS, bad))

    # The checks can fail: the unit without each listed setting fails them.
    lines = text.splitlines(True)
    for r in REQUIRED:
        idx = [i for i, ln in enumerate(lines) if ln.strip() == r]
        check(len(idx) == 1, "%s is one line of the unit" % r)
        if len(idx) != 1:
            continue
        mutated = "".join(lines[:idx[0]] + lines[idx[0] + 1:])
        bad, s = problems(mutated, path, REQUIRED, MAX_EXPOSURE)
        check(bad != [], "without %s the test fails (exposure %.1f: %s)" % (r, s, bad[-1:]))
        if r in HEAVY:
            _, s2 = problems(mutated, path, [], MAX_EXPOSURE)
            check(s2 > MAX_EXPOSURE, "without %s the exposure alone fails: %.1f > %.1f" %
                  (r, s2, MAX_EXPOSURE))

    if exe:
        merged = os.path.join(work, "metrics.conf")
        with open(merged, "w") as f:
            f.write(drop)
        with open(path, "w") as f:
            f.write(text)
        metrics_run(exe, path, merged, work)
    if failures() == 0:
        shutil.rmtree(work, ignore_errors=True)
    print("test_unit: exposure %.1f (limit %.1f), with the metrics drop-in %.1f (limit %.1f); %s"
          % (score, MAX_EXPOSURE, mscore, MAX_EXPOSURE_METRICS,
             "all passed" if failures() == 0 else "%d failures" % failures()))
    return 0 if failures() == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
