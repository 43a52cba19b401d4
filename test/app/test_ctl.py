#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Operator tooling against a running daemon: vhost-balloon-ctl (tables, --json, every error
path, --wait with a simulated guest), the metrics text (a strict OpenMetrics parser, and the
Prometheus 0.0.4 text), the HTTP endpoint (--metrics-listen), and the libvirt hook called as
libvirt calls it.

usage: test_ctl.py VHOST_BALLOON VMSIM CTL HOOK DOMAIN_XML CONFIG_INI
"""
import configparser
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET

import openmetrics
from apptest import Ctl, Daemon, check, failures, remove_eal_dirs, wait_for

MiB = 1 << 20


class Env:
    pass


def ctl(env, *words, sock=None, extra_env=None, timeout=120):
    """Run vhost-balloon-ctl; returns (exit status, stdout, stderr)."""
    args = [env.ctl]
    if sock is not False:
        args += ["-s", sock or env.sock]
    args += list(words)
    e = dict(os.environ)
    e.pop("VHOST_BALLOON_CONTROL", None)
    e.update(extra_env or {})
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def metric_name(counter):
    """The documented mapping of a counter name: 'bytes' moves to the end."""
    words = counter.split("_")
    base = "_".join(w for w in words if w != "bytes")
    return "vhost_balloon_" + (base + "_bytes" if "bytes" in words else base)


def sample(fams, fam, labels):
    for name, lab, v in fams[fam]["samples"]:
        if all(lab.get(k) == val for k, val in labels.items()):
            return v
    return None


# ---- the client ---------------------------------------------------------------------------

def client_basics(env, c):
    rc, out, err = ctl(env, "show", "devices")
    check(rc == 0 and err == "", "ctl show devices: exit 0, nothing on stderr")
    check(re.search(r"^name +state +lcore +numa +guest mem +page size +target +actual +"
                    r"in balloon +release asked +regained +host resident +features +socket$",
                    out, re.M) is not None,
          "ctl show devices: aligned table header")
    check(re.search(r"^vm1 +listening +- +- +0 B ", out, re.M) is not None,
          "ctl show devices: row for vm1 (no guest: listening, no lcore)")
    rc, out, _ = ctl(env, "--json", "show", "devices")
    j = json.loads(out)
    check(rc == 0 and j == c.cmd("show devices"), "ctl --json: the daemon's reply")
    rc, out, _ = ctl(env, "show", "devices", "--json")
    check(rc == 0 and "devices" in json.loads(out), "ctl: options after the command words")
    rc, out, _ = ctl(env, "show", "device", "vm2")
    check(rc == 0 and re.search(r"^  features offered: +stats\+deflate-on-oom$", out, re.M)
          is not None, "ctl show device vm2: key: value lines")
    rc, out, _ = ctl(env, "help")
    check(rc == 0 and "show metrics [FORMAT]" in out and "set target NAME SIZE" in out,
          "ctl help: table of commands")
    rc, out, _ = ctl(env, "show", "lcores")
    check(rc == 0 and re.search(r"^lcore +devices +passes .* mode .* sleep aborts .* auto spin us "
                                r"+devices polled +parks +unparks kick +unparks other$",
                                out, re.M)
          is not None, "ctl show lcores: one table")
    rc, out, _ = ctl(env, "set", "target", "vm1", "8M")
    check(rc == 0 and "target: 8.00 MiB" in out, "ctl set target without --wait")
    ctl(env, "set", "target", "vm1", "0")
    # The environment names the socket when -s does not.
    rc, out, _ = ctl(env, "show", "devices", sock=False,
                     extra_env={"VHOST_BALLOON_CONTROL": env.sock})
    check(rc == 0 and "vm1" in out, "VHOST_BALLOON_CONTROL names the socket")


def client_errors(env):
    # Every error reply: exit 1, "vhost-balloon-ctl: CODE: message" on stderr, no stdout.
    errs = [(["bogus"], "bad_command"), (["show"], "bad_command"),
            (["show", "device", "nope"], "not_found"),
            (["set", "target", "vm1", "1K"], "invalid_argument"),
            (["set", "target", "vm1", "99999999T"], "out_of_range"),
            (["add", "socket", "vm1.sock"], "exists"),
            (["set", "guest-size", "vm2", "1G"], "not_connected"),
            (["del", "socket", "nope"], "not_found"),
            (["metrics", "yaml"], "invalid_argument"),
            (["set", "target", "vm1", "12", "--wait"], "invalid_argument")]
    for words, code in errs:
        rc, out, err = ctl(env, *words)
        check(rc == 1 and out == "" and re.match(r"^vhost-balloon-ctl: %s: \S" % code, err),
              "ctl %s: exit 1, '%s' on stderr (%d %r)" % (" ".join(words), code, rc, err))
    rc, out, err = ctl(env, "set", "target", "x" * 5000, "1G")
    check(rc == 1 and out == "" and err.startswith("vhost-balloon-ctl: too_long: "),
          "ctl: a command over 4095 bytes -> the daemon's too_long, exit 1")
    rc, out, err = ctl(env, "--json", "show", "device", "nope")
    check(rc == 1 and json.loads(out)["error"]["code"] == "not_found" and "not_found" in err,
          "ctl --json error: the JSON error on stdout, exit 1")
    # Usage errors and an unreachable daemon: exit 2.
    usage = [[], ["--wait", "show", "devices"], ["-o", "/tmp/x", "show", "devices"],
             ["--timeout", "0", "set", "target", "vm1", "0", "--wait"],
             ["metrics", "openmetrics", "extra"], ["--bogus", "help"]]
    for words in usage:
        rc, out, err = ctl(env, *words)
        check(rc == 2 and err.strip() != "", "ctl %s: usage error, exit 2" % " ".join(words))
    rc, _, err = ctl(env, "help", sock=os.path.join(env.tmp, "nothing.sock"))
    check(rc == 2 and "cannot connect" in err, "ctl: no daemon -> exit 2, 'cannot connect'")
    # Something that is not the daemon on the socket.
    for behaviour, want in (("close", "without a reply"), ("garbage", "not a JSON reply")):
        path = os.path.join(env.tmp, behaviour + ".sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)

        def serve():
            conn, _ = srv.accept()
            conn.recv(4096)
            if behaviour == "garbage":
                conn.sendall(b"hello, world\n")
            conn.close()
        t = threading.Thread(target=serve)
        t.start()
        rc, _, err = ctl(env, "help", sock=path)
        t.join()
        srv.close()
        check(rc == 2 and want in err, "ctl: a peer that %ss -> exit 2, '%s'" % (behaviour, want))


def default_socket(env):
    """The client's default is where the packaged config puts the control socket."""
    ini = configparser.ConfigParser(inline_comment_prefixes=("#",))
    ini.read(env.ini)
    want = os.path.join(ini["daemon"]["run-dir"], ini["daemon"]["control"])
    with open(env.ctl) as f:
        m = re.search(r'^DEFAULT_SOCKET = "(.*)"$', f.read(), re.M)
    check(m is not None and m.group(1) == want,
          "ctl's default socket is the packaged config's %s (%s)" % (want, m and m.group(1)))


def client_wait(env, c, vmsim):
    g = subprocess.Popen([vmsim, "--socket", os.path.join(env.tmp, "vm1.sock"), "--mem", "64M",
                          "--backing", "memfd", "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: c.cmd("show device vm1")["device"]["state"] == "running", 30,
                 "vm1 running")
        rc, out, err = ctl(env, "--wait", "set", "target", "vm1", "24M")
        lines = out.strip().split("\n")
        check(rc == 0 and lines[-1] == "vm1: actual 24.00 MiB, target 24.00 MiB (running)",
              "ctl --wait set target vm1 24M: exit 0 once actual = target (%d %r %r)" %
              (rc, lines[-1:], err))
        check(c.cmd("show device vm1")["device"]["actual_bytes"] == 24 * MiB,
              "after --wait the daemon reports actual 24 MiB")
        rc, out, _ = ctl(env, "--json", "-w", "set", "guest-size", "vm1", "48M")
        docs = [json.loads(x) for x in out.strip().split("\n")[-1:]]
        check(rc == 0 and docs[-1]["actual_bytes"] == 16 * MiB == docs[-1]["target_bytes"],
              "ctl --json --wait set guest-size vm1 48M: progress as JSON, ends at 16 MiB")
        # No guest on vm2: --wait gives up at its timeout, exit 3.
        rc, out, err = ctl(env, "--wait", "--timeout", "0.5", "set", "target", "vm2", "8M")
        check(rc == 3 and "did not reach 8.00 MiB" in err and "listening" in err,
              "ctl --wait without a guest: exit 3 after --timeout (%r)" % err)
        # Someone else changes the target while --wait waits: exit 3, said so.
        w = subprocess.Popen([env.ctl, "-s", env.sock, "--wait", "-t", "120", "set", "target",
                              "vm2", "8M"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = w.stdout.readline().decode()       # the reply: the target is set
        c.cmd("set target vm2 4M")
        out, err = w.communicate(timeout=120)
        check(first.startswith("device:") and w.returncode == 3 and
              "changed to 4.00 MiB meanwhile" in err.decode(),
              "ctl --wait: a target changed by another client -> exit 3 (%s %r)" %
              (w.returncode, err.decode()))
        ctl(env, "set", "target", "vm2", "0")
        metrics_with_guest(env, c)
    finally:
        g.terminate()
        rc = g.wait(30)
        check(rc == 0, "vmsim guest exits 0 (its memory intact)")


# ---- metrics ------------------------------------------------------------------------------

def parser_refuses_bad_text():
    for what, text in openmetrics.BAD_EXAMPLES:
        try:
            openmetrics.parse(text)
            ok = False
        except openmetrics.ParseError:
            ok = True
        check(ok, "the OpenMetrics parser refuses: %s" % what)


def metrics_with_guest(env, c):
    wait_for(lambda: c.cmd("show stats vm1")["updates"] > 0, 30, "guest stats")
    cnt = c.cmd("show counters vm1")["counters"]
    rc, text, err = ctl(env, "metrics")
    try:
        fams = openmetrics.parse(text)
    except openmetrics.ParseError as e:
        fams = None
        print(text[:3000])
        check(False, "ctl metrics: strict OpenMetrics parse: %s" % e)
    if fams is None:
        return
    check(rc == 0, "ctl metrics: exit 0, %d families parse as OpenMetrics" % len(fams))
    check(sample(fams, "vhost_balloon_device_state",
                 {"vm": "vm1", "vhost_balloon_device_state": "running"}) == 1 and
          sample(fams, "vhost_balloon_device_state",
                 {"vm": "vm2", "vhost_balloon_device_state": "listening"}) == 1,
          "device_state stateset: vm1 running, vm2 listening")
    check(sample(fams, "vhost_balloon_target_bytes", {"vm": "vm1"}) == 16 * MiB and
          sample(fams, "vhost_balloon_actual_bytes", {"vm": "vm1"}) == 16 * MiB and
          sample(fams, "vhost_balloon_in_balloon_bytes", {"vm": "vm1"}) == 16 * MiB and
          sample(fams, "vhost_balloon_guest_memory_bytes", {"vm": "vm1"}) == 64 * MiB,
          "vm1: target, actual, in balloon 16 MiB; guest memory 64 MiB")
    check(fams["vhost_balloon_target_bytes"]["unit"] == "bytes" and
          fams["vhost_balloon_target_bytes"]["type"] == "gauge", "target_bytes: gauge, bytes")
    # Every counter of 'show counters' is a metric, by the documented name mapping; the one
    # level among them (host_resident_bytes) is a gauge.
    missing = []
    for k, v in cnt.items():
        fam = fams.get(metric_name(k))
        got = None if fam is None else sample(fams, metric_name(k), {"vm": "vm1"})
        want = "gauge" if k == "host_resident_bytes" else "counter"
        if fam is None or fam["type"] != want or got is None or \
                (want == "counter" and got < v):
            missing.append(k)
    check(missing == [], "all %d counters of show counters are metrics: _total counters, "
          "the gauge a gauge (missing or wrong: %s)" % (len(cnt), missing))
    check(sample(fams, "vhost_balloon_pfns_inflated", {"vm": "vm1"}) == cnt["pfns_inflated"],
          "pfns_inflated_total equals show counters (%d)" % cnt["pfns_inflated"])
    check(fams["vhost_balloon_regained_bytes"]["unit"] == "bytes" and
          fams["vhost_balloon_release_asked_bytes"]["type"] == "counter",
          "bytes_regained -> vhost_balloon_regained_bytes_total, UNIT bytes; asked a counter")
    res = sample(fams, "vhost_balloon_host_resident_bytes", {"vm": "vm1"})
    check(fams["vhost_balloon_host_resident_bytes"]["type"] == "gauge" and res is not None and
          0 < res <= 64 * MiB and sample(fams, "vhost_balloon_all_host_resident_bytes", {}) >= res,
          "host_resident_bytes: a gauge, 0 < %s <= 64 MiB, in the process-wide sum" % res)
    check(sample(fams, "vhost_balloon_guest_total_memory_bytes", {"vm": "vm1"}) == 64 * MiB,
          "guest stat total-memory: 64 MiB")
    age = sample(fams, "vhost_balloon_guest_stats_age_seconds", {"vm": "vm1"})
    check(age is not None and age >= 0 and
          sample(fams, "vhost_balloon_guest_stats_age_seconds", {"vm": "vm2"}) is None,
          "guest stats age for vm1 only (vm2 sent none)")
    check(sample(fams, "vhost_balloon_lcore_mode",
                 {"lcore": "1", "vhost_balloon_lcore_mode": "auto"}) == 1 and
          sample(fams, "vhost_balloon_lcore_mode",
                 {"lcore": "1", "vhost_balloon_lcore_mode": "adaptive"}) == 0,
          "lcore 1 mode stateset: auto (the default)")
    cpu = sample(fams, "vhost_balloon_lcore_cpu_ratio", {"lcore": "1"})
    check(cpu is not None and 0 <= cpu <= 1, "lcore 1 cpu ratio in [0, 1] (%s)" % cpu)
    check(sample(fams, "vhost_balloon_devices", {"state": "running"}) == 1 and
          sample(fams, "vhost_balloon_all_target_bytes", {}) == 16 * MiB,
          "process-wide: one device running, all targets 16 MiB")
    check(sample(fams, "vhost_balloon_build", {}) == 1, "build info")
    # Prometheus 0.0.4 text, to stdout and atomically to a file.
    rc, text, _ = ctl(env, "metrics", "prometheus")
    try:
        m = openmetrics.check_prometheus_004(text)
        ok = m["vhost_balloon_pfns_inflated_total"][0][1] >= cnt["pfns_inflated"]
    except (openmetrics.ParseError, KeyError) as e:
        print(text[:2000])
        ok = False
        print("0.0.4:", e)
    check(rc == 0 and ok, "ctl metrics prometheus: valid 0.0.4 text")
    out = os.path.join(env.tmp, "textfile", "vhost_balloon.prom")
    os.makedirs(os.path.dirname(out))
    rc, _, _ = ctl(env, "-o", out, "metrics", "prometheus")
    check(rc == 0 and os.listdir(os.path.dirname(out)) == ["vhost_balloon.prom"] and
          "vhost_balloon_target_bytes" in open(out).read(),
          "ctl -o FILE metrics prometheus: the file, no temporary left")
    http(env)


# ---- the HTTP endpoint --------------------------------------------------------------------

def http_raw(port, data, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(data)
    got = b""
    while read:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    hdrs = dict(x.split(": ", 1) for x in lines[1:] if ": " in x)
    return lines[0], hdrs, body


def http(env):
    port = env.port
    st, h, body = http_raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                                 b"Accept: application/openmetrics-text; version=1.0.0\r\n\r\n")
    try:
        fams = openmetrics.parse(body.decode())
    except openmetrics.ParseError as e:
        fams = None
        print("http:", e)
    check(st == "HTTP/1.1 200 OK" and h.get("Content-Type", "").startswith(
        "application/openmetrics-text; version=1.0.0") and int(h["Content-Length"]) ==
        len(body) and fams is not None and "vhost_balloon_target_bytes" in fams,
        "HTTP GET /metrics, Accept OpenMetrics: 200, strict parse (%s)" % st)
    st, h, body = http_raw(port, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
    try:
        openmetrics.check_prometheus_004(body.decode())
        ok = True
    except openmetrics.ParseError as e:
        ok = False
        print("http 0.0.4:", e)
    check(st.endswith(" 200 OK") and h.get("Content-Type", "").startswith(
        "text/plain; version=0.0.4") and ok, "HTTP without Accept: Prometheus 0.0.4 text")
    st, h, body = http_raw(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    check(st.endswith(" 200 OK") and body == b"" and int(h["Content-Length"]) > 0,
          "HTTP HEAD: headers only")
    for req, want in ((b"GET / HTTP/1.1\r\n\r\n", " 404 "),
                      (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", " 405 "),
                      (b"hello\r\n\r\n", " 400 "), (b"GET /metrics SPDY/3\r\n\r\n", " 400 "),
                      (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", " 400 ")):
        st, _, _ = http_raw(port, req)
        check(want in st, "HTTP %r... -> %s(%s)" % (req[:20], want.strip(), st))
    # A client that connects and says nothing: the next scrape is still served.
    idle = socket.create_connection(("127.0.0.1", port), timeout=20)
    st, _, body = http_raw(port, b"GET /metrics HTTP/1.1\r\n\r\n")
    idle.close()
    check(st.endswith(" 200 OK") and b"vhost_balloon_build_info" in body,
          "HTTP: a silent client does not stop the next scrape")
    check(env.daemon.alive(), "daemon alive after the HTTP clients")


# ---- the libvirt hook ---------------------------------------------------------------------

def hook(env, c):
    hook_env = dict(os.environ, VHOST_BALLOON_CTL=env.ctl)
    hook_env.pop("VHOST_BALLOON_CONTROL", None)

    def run(xml, *args, extra=None):
        e = dict(hook_env, **(extra or {}))
        p = subprocess.run([sys.executable, env.hook] + list(args), input=xml.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=120)
        return p.returncode, p.stderr.decode()

    with open(env.domain_xml) as f:
        example = f.read()
    root = ET.fromstring(example)
    marker = root.find("metadata/{urn:vhost-balloon:libvirt:1}balloon")
    qargs = [a.get("value") for a in
             root.findall("{http://libvirt.org/schemas/domain/qemu/1.0}commandline/"
                          "{http://libvirt.org/schemas/domain/qemu/1.0}arg")]
    check(marker is not None and root.find("devices/memballoon").get("model") == "none" and
          root.find("memoryBacking/access").get("mode") == "shared",
          "domain example: marker, <memballoon model='none'/>, shared memory")
    check(any(("path=" + marker.get("socket")) in a for a in qargs) and
          any(a.startswith("vhost-user-device-pci,") and "virtio-id=5" in a and "num_vqs=4" in a
              for a in qargs),
          "domain example: the -chardev path is the marker's socket; the -device line")
    sock = os.path.join(env.tmp, "web1.sock")
    xml = example.replace(marker.get("socket"), sock).replace(
        'socket="%s"' % sock, 'socket="%s" control="%s"' % (sock, env.sock))
    name = root.find("name").text

    rc, err = run(xml, name, "prepare", "begin", "-")
    d = c.cmd("show device " + name).get("device", {})
    check(rc == 0 and d.get("socket") == sock and os.path.exists(sock),
          "hook prepare begin: %s served on its socket (%d %r)" % (name, rc, err))
    rc, err = run(xml, name, "prepare", "begin", "-")
    check(rc == 0 and "already served" in err, "hook prepare again: already served, exit 0")
    rc, _ = run(xml, name, "started", "begin", "-")
    check(rc == 0 and "device" in c.cmd("show device " + name), "hook started: nothing to do")
    rc, err = run(xml, name, "release", "end", "-")
    check(rc == 0 and c.cmd("show device " + name)["error"]["code"] == "not_found" and
          not os.path.exists(sock), "hook release end: device and socket gone")
    rc, err = run(xml, name, "stopped", "end", "-")
    check(rc == 0 and err == "", "hook stopped end after release: nothing left, quiet, exit 0")
    # Without the marker the hook does nothing.
    plain = re.sub(r"<vhb:balloon[^>]*/>", "", xml)
    rc, _ = run(plain, name, "prepare", "begin", "-")
    check(rc == 0 and c.cmd("show device " + name)["error"]["code"] == "not_found",
          "hook: a domain without the marker is left alone")
    # The name comes from the marker when given; defaults to the domain name otherwise.
    named = xml.replace('control="', 'name="web-one" control="')
    rc, _ = run(named, name, "prepare", "begin", "-")
    check(rc == 0 and c.cmd("show device web-one")["device"]["socket"] == sock,
          "hook: name= in the marker names the device")
    rc, _ = run(named, name, "release", "end", "-")
    check(rc == 0 and "error" in c.cmd("show device web-one"), "hook: release by that name")
    # Refusals at prepare (libvirt then does not start the domain); a name the daemon has.
    clash = xml.replace('control="', 'name="vm1" control="')
    rc, err = run(clash, name, "prepare", "begin", "-")
    check(rc == 1 and "already serves" in err and
          c.cmd("show device vm1")["device"]["socket"] != sock,
          "hook prepare: a name the daemon serves elsewhere -> exit 1, vm1 untouched")
    bad = xml.replace('control="', 'name="web 1" control="')
    rc, err = run(bad, name, "prepare", "begin", "-")
    check(rc == 1 and "letters, digits" in err, "hook prepare: bad VM name -> exit 1")
    gone = xml.replace(env.sock, os.path.join(env.tmp, "nothing.sock"))
    rc, err = run(gone, name, "prepare", "begin", "-")
    check(rc == 1 and "cannot connect" in err, "hook prepare, no daemon: exit 1 with the reason")
    rc, err = run(gone, name, "release", "end", "-")
    check(rc == 0 and "ignored" in err, "hook release, no daemon: reported, exit 0")
    rc, err = run("<domain><name>x", name, "prepare", "begin", "-")
    check(rc == 1 and "does not parse" in err, "hook: XML that does not parse -> exit 1")
    rc, _ = run("", name, "migrate", "begin", "-")
    check(rc == 0, "hook: other operations exit 0 without reading the XML")


def main():
    env = Env()
    env.daemon_exe, vmsim, env.ctl, env.hook, env.domain_xml, env.ini = sys.argv[1:7]
    root = tempfile.mkdtemp(prefix="vhbd-ctl-")
    env.tmp = os.path.join(root, "run")
    env.sock = os.path.join(env.tmp, "ctl.sock")
    env.port = free_port()
    prefix = "vhbd-ctl-%d" % os.getpid()
    print("test_ctl: guest memory backing: memfd 4 KiB (vmsim guest)")
    parser_refuses_bad_text()
    default_socket(env)
    env.daemon = Daemon(env.daemon_exe, prefix, env.tmp,
                        ["--control", "ctl.sock", "--stats-interval", "1",
                         "--socket", "vm1.sock", "--socket", "vm2.sock,features=stats+deflate-on-oom",
                         "--metrics-listen", "127.0.0.1:%d" % env.port],
                        os.path.join(root, "daemon.log"))
    try:
        check(env.daemon.wait_ready(), "daemon started with --metrics-listen 127.0.0.1:%d" %
              env.port)
        check("metrics on http://127.0.0.1:%d/metrics" % env.port in env.daemon.log_text(),
              "daemon logs the metrics address")
        # A second daemon on the same port: a clear error, exit 1, its sockets removed.
        other = os.path.join(root, "other")
        p = subprocess.run([env.daemon_exe, "-l", "0,1", "--no-huge", "-m", "128", "--no-pci",
                            "--file-prefix", prefix + "-2", "--", "--run-dir", other,
                            "--socket", "x.sock", "--metrics-listen", str(env.port)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode(errors="replace")
        check(p.returncode == 1 and "--metrics-listen 127.0.0.1 port %d: Address already in use"
              % env.port in out and os.listdir(other) == [],
              "--metrics-listen on a port in use: exit 1, named, sockets removed")
        c = Ctl(env.sock)
        client_basics(env, c)
        client_errors(env)
        client_wait(env, c, vmsim)
        hook(env, c)
        check(env.daemon.alive(), "daemon alive at the end")
        c.close()
    finally:
        env.daemon.stop()
        if failures():
            print("---- daemon log ----\n" + env.daemon.log_text()[-5000:])
    remove_eal_dirs(prefix, prefix + "-2")
    if failures() == 0:
        shutil.rmtree(root, ignore_errors=True)
    print("test_ctl: %s" % ("all passed" if failures() == 0 else "%d failures" % failures()))
    return 0 if failures() == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
