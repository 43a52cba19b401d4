#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The main job, end to end, on a fresh Debian 12 machine (as root, from the repo root):
# install what is missing, build, reserve hugepages, start the daemon with the default
# config and several simulated VMs (separate vhost-balloon-vmsim processes, guest memory
# on hugetlbfs when hugepages exist, else memfd), move their balloon targets through the
# control socket, wait for the guests to follow, print how much host memory came back,
# shut everything down cleanly. Exit 0 only if every step and every guest's integrity
# check passed.
#
#   usertools/demo.sh [--quick]
#
#   --quick   small guests and one inflate/deflate round (CI runs it as a test)
#
# Environment: VHB_BUILD (build dir, default build), VHB_DAEMON / VHB_VMSIM (use these
# binaries and skip the build), VHB_DEMO_VMS (number of VMs, default 3), VHB_DEMO_MEMFD=1
# (memfd guests and --no-huge EAL even when hugepages exist).
set -eu

cd "$(dirname "$0")/.."

quick=0
for a in "$@"; do
	case "$a" in
	--quick) quick=1 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "usage: $0 [--quick]" >&2; exit 2 ;;
	esac
done

step() { printf '\n== %s\n' "$*"; }

build=${VHB_BUILD:-build}
daemon=${VHB_DAEMON:-}
vmsim=${VHB_VMSIM:-}
if [ -z "$daemon" ] || [ -z "$vmsim" ]; then
	step "packages"
	# shellcheck source=usertools/install-deps.sh
	. usertools/install-deps.sh
	vhb_install_deps
	if ! command -v python3 >/dev/null; then
		apt-get install -y -qq --no-install-recommends python3
	fi
	step "build ($build)"
	blog=$(mktemp /tmp/vhost-balloon-build.XXXXXX)
	if ! { [ -f "$build/build.ninja" ] || meson setup "$build"; } >"$blog" 2>&1 ||
			! ninja -C "$build" >>"$blog" 2>&1; then
		cat "$blog" >&2
		echo "demo: build failed" >&2
		exit 1
	fi
	rm -f "$blog"
	echo "built $build/app/vhost-balloon/vhost-balloon and $build/app/vmsim/vhost-balloon-vmsim"
	daemon=$build/app/vhost-balloon/vhost-balloon
	vmsim=$build/app/vmsim/vhost-balloon-vmsim
fi
for b in "$daemon" "$vmsim"; do
	[ -x "$b" ] || { echo "demo: $b is missing" >&2; exit 1; }
done

step "hugepages"
if [ "$quick" -eq 1 ]; then
	hp=$(usertools/setup-hugepages.sh 128 | tail -n 1)
else
	hp=$(usertools/setup-hugepages.sh | tail -n 1)
fi
echo "$hp"

run=$(mktemp -d /tmp/vhost-balloon-demo.XXXXXX)
trap 'rm -rf "$run"' EXIT
python3 - "$daemon" "$vmsim" "$run" "$quick" "$hp" <<'PY'
import json, os, re, signal, socket, subprocess, sys, time

daemon, vmsim, run, quick, hp = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
nvms = int(os.environ.get("VHB_DEMO_VMS", "3"))
MiB = 1 << 20
mem = (64 if quick else 512) * MiB          # guest RAM per VM
m = re.match(r"hugepages: (\d+) x 2048 kB free at (\S+)", hp)
hugedir = m.group(2) if m and int(m.group(1)) * 2 * MiB >= nvms * mem + 64 * MiB else None
if os.environ.get("VHB_DEMO_MEMFD") == "1":
    hugedir = None          # the no-hugepages path, on a machine that has them
if hugedir is None:
    # memfd guests take ordinary RAM: keep them to a third of what is available.
    with open("/proc/meminfo") as f:
        avail = next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:"))
    mem = max(32 * MiB, min(mem, avail // (3 * nvms) // (32 * MiB) * (32 * MiB)))
backing = "hugetlbfs 2 MiB" if hugedir else "memfd 4 KiB"
prefix = "vhb-demo-%d" % os.getpid()
failed = []


def say(*a):
    print(*a, flush=True)


def step(s):
    say("\n== " + s)


def hp_free():
    try:
        with open("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") as f:
            return int(f.read())
    except OSError:
        return 0


def shmem():
    with open("/proc/meminfo") as f:
        for ln in f:
            if ln.startswith("Shmem:"):
                return int(ln.split()[1]) * 1024
    return 0


def host_free():
    """Host memory the guests' backing can give back to: free hugepages, or shmem in use."""
    return hp_free() * 2 * MiB if hugedir else shmem()


class Ctl:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile("rw")

    def __call__(self, line):
        self.f.write(line + "\n")
        self.f.flush()
        r = json.loads(self.f.readline())
        if "error" in r:
            raise RuntimeError("%s: %s" % (line, r["error"]["message"]))
        return r


def mib(b):
    return "%d MiB" % (b // MiB) if b % MiB == 0 else "%.1f MiB" % (b / MiB)


def table(ctl, title):
    devs = ctl("show devices")["devices"]
    say("%s" % title)
    hdr = ("VM", "state", "guest mem", "page", "target", "actual", "in balloon",
           "regained (total)", "host holds now")
    rows = [(d["name"], d["state"], mib(d["guest_mem_bytes"]), mib(d["page_size_bytes"])
             if d["page_size_bytes"] >= MiB else "%d KiB" % (d["page_size_bytes"] // 1024),
             mib(d["target_bytes"]), mib(d["actual_bytes"]), mib(d["in_balloon_bytes"]),
             mib(d["regained_bytes"]), mib(d["host_resident_bytes"])) for d in devs]
    w = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    for r in [hdr] + rows:
        say("  " + "  ".join(str(x).rjust(w[i]) if i > 1 else str(x).ljust(w[i])
                             for i, x in enumerate(r)))
    tot = sum(d["regained_bytes"] for d in devs)
    say("  total regained by the backend (host memory really given back): %s" % mib(tot))
    return devs


def wait_actual(ctl, want, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        devs = {d["name"]: d for d in ctl("show devices")["devices"]}
        if all(devs[n]["actual_bytes"] == want[n] and devs[n]["in_balloon_bytes"] == want[n]
               for n in want):
            return True
        for p in guests:
            if p.poll() is not None:
                return False
        time.sleep(0.2)
    return False


step("daemon (default config, sockets in %s)" % run)
eal = ["-l", "0,1", "--no-pci", "--file-prefix", prefix, "--log-level", "lib.vhost.*:warning"]
eal += ["--huge-dir", hugedir, "-m", "64"] if hugedir else ["--no-huge", "-m", "128"]
dlog = open(os.path.join(run, "daemon.log"), "w")
cmd = [daemon] + eal + ["--", "--config", "config/vhost-balloon.ini", "--run-dir", run,
                        "--stats-interval", "1"]
say(" ".join(cmd))
d = subprocess.Popen(cmd, stdout=dlog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
ctl_path = os.path.join(run, "control.sock")
guests = []
names = []
ctl = None
try:
    end = time.monotonic() + 30
    while not os.path.exists(ctl_path) and d.poll() is None and time.monotonic() < end:
        time.sleep(0.1)
    if not os.path.exists(ctl_path):
        raise RuntimeError("the daemon did not start (see below)")
    ctl = Ctl(ctl_path)
    names = [x["name"] for x in ctl("show devices")["devices"]][:nvms]
    say("daemon up: VMs %s, control socket %s" % (", ".join(names), ctl_path))

    step("simulated guests: %d x %s, backing %s" % (len(names), mib(mem), backing))
    for n in names:
        sock = os.path.join(run, n + ".sock")
        argv = [vmsim, "--socket", sock, "--mem", "%dM" % (mem // MiB)]
        argv += ["--backing", "hugetlbfs" if hugedir else "memfd"]
        glog = open(os.path.join(run, n + ".log"), "w")
        env = dict(os.environ, VHB_HUGETLBFS=hugedir) if hugedir else None
        guests.append(subprocess.Popen(argv, stdout=glog, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env))
        say("  " + " ".join(argv))
    end = time.monotonic() + 30
    while time.monotonic() < end:
        st = [x["state"] for x in ctl("show devices")["devices"][:len(names)]]
        if all(s == "running" for s in st):
            break
        if any(p.poll() is not None for p in guests):
            raise RuntimeError("a guest exited at start")
        time.sleep(0.2)
    else:
        raise RuntimeError("guests did not start: %s" % st)
    time.sleep(1.5)     # first stats round
    before_host = host_free()
    table(ctl, "\nbefore:")

    # Balloon sizes: the first VM gives half its memory, the others a quarter / an eighth.
    shares = [2, 4, 8, 4, 4, 4, 4, 4]
    want = {n: (mem // shares[i]) for i, n in enumerate(names)}
    step("inflate through the control socket")
    for n in names:
        say("  set target %s %s -> %s" % (n, mib(want[n]), ctl("set target %s %dM" % (n, want[n] // MiB))))
    t0 = time.monotonic()
    if not wait_actual(ctl, want, 120):
        failed.append("inflate: actual did not reach the targets")
    say("  guests followed in %.1f s" % (time.monotonic() - t0))
    after_host = host_free()
    devs = table(ctl, "\nafter inflate:")
    gained = (after_host - before_host) if hugedir else (before_host - after_host)
    released = sum(x["regained_bytes"] for x in devs)
    st = ctl("show stats %s" % names[0])
    say("  guest stats of %s (age %.1f s): %s" % (names[0], st["age_s"], ", ".join(
        "%s %s" % (k, mib(v)) for k, v in st["stats"].items()
        if k in ("total-memory", "free-memory", "available-memory"))))

    step("deflate %s back to 0" % names[0])
    ctl("set target %s 0" % names[0])
    want[names[0]] = 0
    if not wait_actual(ctl, want, 120):
        failed.append("deflate: actual did not reach 0")
    table(ctl, "after deflate:")

    say("\nhost memory returned by inflate:")
    if hugedir:
        say("  host hugepages free: before %d, after inflate %d  (+%d pages = %s)" % (
            before_host // (2 * MiB), after_host // (2 * MiB), gained // (2 * MiB), mib(gained)))
    else:
        say("  host shared memory (memfd): before %s, after inflate %s  (-%s)" % (
            mib(before_host), mib(after_host), mib(max(gained, 0))))
    say("  backend regained: %s of %s asked" % (mib(released), mib(sum(mem // shares[i] for i in range(len(names))))))
    if released < sum(mem // shares[i] for i in range(len(names))):
        failed.append("the backend regained less than the balloon size")
except Exception as e:          # report, then still shut down cleanly
    failed.append(str(e))
finally:
    step("shutdown")
    for i, p in enumerate(guests):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for i, p in enumerate(guests):
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "killed"
        say("  guest %d: exit %s%s" % (i + 1, rc, "" if rc == 0 else "  <- FAILED"))
        if rc != 0:
            failed.append("guest %d exited %s (integrity check or protocol failure)" % (i + 1, rc))
            with open(os.path.join(run, "%s.log" % names[i])) as f:
                say(f.read()[-3000:])
    if ctl is not None:
        ctl.s.close()
    if d.poll() is None:
        d.send_signal(signal.SIGTERM)
    try:
        rc = d.wait(60)
    except subprocess.TimeoutExpired:
        d.kill()
        rc = "killed"
    say("  daemon: exit %s" % rc)
    if rc != 0:
        failed.append("daemon exited %s" % rc)
    for base in ("/var/run/dpdk", os.environ.get("XDG_RUNTIME_DIR", "") + "/dpdk"):
        subprocess.run(["rm", "-rf", os.path.join(base, prefix)])
    left = [f for f in os.listdir(run) if f.endswith(".sock")]
    if left:
        failed.append("sockets left behind: %s" % left)
    if failed:
        dlog.close()
        with open(os.path.join(run, "daemon.log")) as f:
            say("---- daemon log (tail) ----\n" + f.read()[-4000:])

say("\ndemo: backing %s, %d VMs: %s" % (backing, len(guests), "FAILED: " + "; ".join(failed)
                                           if failed else "OK"))
sys.exit(1 if failed else 0)
PY
