#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The README's main-job command in its short form: usertools/demo.sh --quick, with the built
daemon and vmsim, once on memfd guests and once on hugetlbfs guests (when hugepages exist).
Checks the exit status and what it prints: the before/after tables, every VM's actual equal
to its target, the backend's regained total equal to the balloon sizes asked, clean exits.
Then demo.sh --quick --policy (memfd): the balancing policy at work (docs/policy.md).

usage: test_demo.py REPO_ROOT VHOST_BALLOON VMSIM
"""
import os
import re
import subprocess
import sys

failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures += 1


def table(out, title):
    """Rows of the table printed after the line `title`: name -> columns."""
    lines = out.split("\n")
    i = lines.index(title)
    rows = {}
    for ln in lines[i + 2:]:
        if not ln.startswith("  vm"):
            break
        cols = re.split(r"\s{2,}", ln.strip())
        rows[cols[0]] = cols
    return rows


def run(root, daemon, vmsim, memfd):
    env = dict(os.environ, VHB_DAEMON=daemon, VHB_VMSIM=vmsim)
    if memfd:
        env["VHB_DEMO_MEMFD"] = "1"
    p = subprocess.run([os.path.join(root, "usertools", "demo.sh"), "--quick"], cwd=root, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = p.stdout.decode(errors="replace")
    m = re.search(r"^demo: backing (.*), (\d+) VMs: (.*)$", out, re.M)
    backing = m.group(1) if m else "?"
    print("test_demo: guest memory backing: %s" % backing)
    check(p.returncode == 0, "demo --quick exits 0 (%d)" % p.returncode)
    check(m is not None and m.group(3) == "OK", "last line says OK")
    check(backing == ("memfd 4 KiB" if memfd else "hugetlbfs 2 MiB") or
          (not memfd and backing == "memfd 4 KiB"), "backing as asked (%s)" % backing)
    try:
        before = table(out, "before:")
        after = table(out, "after inflate:")
        deflated = table(out, "after deflate:")
        check(sorted(before) == ["vm1", "vm2", "vm3"], "three VMs in the before table")
        check(all(r[4] == "0 MiB" and r[5] == "0 MiB" for r in before.values()),
              "before: targets and actuals 0")
        check(all(r[1] == "running" and r[4] != "0 MiB" and r[4] == r[5] == r[6]
                  for r in after.values()), "after inflate: actual = in balloon = target > 0")
        check(deflated["vm1"][4] == deflated["vm1"][5] == "0 MiB", "vm1 deflated to 0")
    except (ValueError, KeyError, IndexError) as e:
        check(False, "tables present (%s)" % e)
    m = re.search(r"backend regained: (\S+ MiB) of (\S+ MiB) asked", out)
    check(m is not None and m.group(1) == m.group(2), "backend regained what was asked")
    if "hugetlbfs" in backing:
        m = re.search(r"host hugepages free: before (\d+), after inflate (\d+)", out)
        check(m is not None, "host hugepages before/after printed")
    check(out.count(": exit 0") == 4, "3 guests and the daemon exit 0")
    if failures:
        print(out[-5000:])


def run_policy(root, daemon, vmsim):
    """demo.sh --quick --policy on memfd guests: advisory, on, settled, given back."""
    env = dict(os.environ, VHB_DAEMON=daemon, VHB_VMSIM=vmsim, VHB_DEMO_MEMFD="1")
    p = subprocess.run([os.path.join(root, "usertools", "demo.sh"), "--quick", "--policy"],
                       cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=300)
    out = p.stdout.decode(errors="replace")
    print("test_demo: --policy: guest memory backing: memfd 4 KiB")
    check(p.returncode == 0 and re.search(r"^demo: backing memfd 4 KiB, 3 VMs: OK$", out, re.M),
          "demo --quick --policy exits 0, last line OK (%d)" % p.returncode)
    adv = out[out.find("advisory (targets computed, none set):"):]
    check(re.search(r"^  vm1  reclaim .*host short: took", adv, re.M) is not None,
          "advisory: vm1's reclaim shown with its reason")
    check("settled: host within the watermarks" in out, "on: settled within the watermarks")
    check("given back: host plenty" in out and
          all(re.search(r"^  %s  hold .*at its max" % n, out, re.M) for n in ("vm1", "vm2", "vm3")),
          "relief: every guest back at its max")
    check(out.count(": exit 0") == 4, "3 guests and the daemon exit 0")
    if failures:
        print(out[-5000:])


def main():
    root, daemon, vmsim = sys.argv[1:4]
    run(root, os.path.abspath(daemon), os.path.abspath(vmsim), True)
    hp = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
    free = int(open(hp).read()) if os.path.exists(hp) else 0
    if free >= 128:
        run(root, os.path.abspath(daemon), os.path.abspath(vmsim), False)
    else:
        print("test_demo: hugetlbfs run skipped: %d free 2 MiB hugepages (< 128)" % free)
    run_policy(root, os.path.abspath(daemon), os.path.abspath(vmsim))
    print("test_demo: %s" % ("all passed" if failures == 0 else "%d failures" % failures))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
