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
#   usertools/demo.sh [--quick] [--policy]
#
#   --quick   small guests and one inflate/deflate round (CI runs it as a test)
#   --policy  instead of setting targets by hand, let the balancing policy do it
#             (docs/policy.md): a played host runs short of memory, the policy takes
#             it from the guests that can spare it (advisory first, then on), then
#             gives it back when the host has memory again
#
# Environment: VHB_BUILD (build dir, default build), VHB_DAEMON / VHB_VMSIM (use these
# binaries and skip the build), VHB_DEMO_VMS (number of VMs, default 3), VHB_DEMO_MEMFD=1
# (memfd guests and --no-huge EAL even when hugepages exist).
set -eu

cd "$(dirname "$0")/.."

quick=0
policy=0
for a in "$@"; do
	case "$a" in
	--quick) quick=1 ;;
	--policy) policy=1 ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	*) echo "usage: $0 [--quick] [--policy]" >&2; exit 2 ;;
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
python3 - "$daemon" "$vmsim" "$run" "$quick" "$hp" "$policy" <<'PY'
import json, os, re, signal, socket, subprocess, sys, time

daemon, vmsim, run, quick, hp = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
policy = sys.argv[6] == '1'
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


# --policy: a played host (meminfo and PSI files in the run dir) whose available memory is a
# base the demo chooses plus every balloon; watermarks around the guests' total memory.
nguests = min(nvms, 3)
host_low = nguests * mem // 2
host_high = nguests * mem * 3 // 4
meminfo = os.path.join(run, "meminfo")


def play_host(base, balloons):
    with open(meminfo + ".tmp", "w") as f:
        f.write("MemTotal:  %d kB\nMemAvailable:  %d kB\n" % (
            4 * nguests * mem // 1024, (base + balloons) // 1024))
    os.replace(meminfo + ".tmp", meminfo)


def policy_table(ctl, title):
    r = ctl("show policy")
    say("%s host %s" % (title, r["host_reason"]))
    for v in r["vms"]:
        say("  %-4s %-9s balloon %8s -> %8s  available %8s  %s" % (
            v["name"], v["action"], mib(v["target_bytes"]), mib(v["chosen_bytes"]),
            mib(v["available_bytes"]), v["reason"]))


def policy_watch(ctl, names, base, done, timeout):
    """Play the host (base + every balloon) each half second and print a line each second,
    until done(devices) holds and no target moved for three lines in a row."""
    t0 = time.monotonic()
    ok = 0
    last = None
    while time.monotonic() - t0 < timeout:
        devs = {d["name"]: d for d in ctl("show devices")["devices"] if d["name"] in names}
        play_host(base, sum(d["actual_bytes"] for d in devs.values()))
        time.sleep(0.5)
        devs = {d["name"]: d for d in ctl("show devices")["devices"] if d["name"] in names}
        r = ctl("show policy")
        say("  %4.1f s  host %-6s %9s available   %s" % (
            time.monotonic() - t0, r["host"], mib(r["host_available_bytes"]), "  ".join(
                "%s %s/%s" % (n, mib(devs[n]["target_bytes"]), mib(devs[n]["actual_bytes"]))
                for n in names)))
        now = [devs[n]["target_bytes"] for n in names]
        ok = ok + 1 if done(devs) and now == last else 0
        last = now
        if ok == 3:
            return True
        time.sleep(0.5)
    return False


def run_policy(ctl, names):
    """The policy at work: advisory, on under host pressure, settled, then relief."""
    short = host_low - nguests * mem // 8
    step("the host runs short: %s available (low watermark %s, high %s)" % (
        mib(short), mib(host_low), mib(host_high)))
    play_host(short, 0)
    end = time.monotonic() + 30
    while time.monotonic() < end and ctl("show policy")["host"] != "short":
        time.sleep(0.2)
    time.sleep(1.2)
    policy_table(ctl, "advisory (targets computed, none set):")
    if any(d["target_bytes"] for d in ctl("show devices")["devices"]):
        failed.append("advisory set a target")
    step("set policy on: balloon target/actual per VM follow the host")
    say("  " + json.dumps(ctl("set policy on")))

    def settled(devs):
        return all(devs[n]["target_bytes"] == devs[n]["actual_bytes"] for n in names)
    if not policy_watch(ctl, names, short, settled, 120):
        failed.append("policy: the targets did not settle under pressure")
    policy_table(ctl, "settled:")
    devs = {d["name"]: d for d in ctl("show devices")["devices"]}
    if not devs[names[0]]["target_bytes"] > devs[names[1]]["target_bytes"]:
        failed.append("policy: the idle guest did not give more than the busy one")
    for n in names:
        if devs[n]["guest_mem_bytes"] - devs[n]["target_bytes"] < devs[n]["guest_mem_bytes"] // 4:
            failed.append("policy: %s below its min" % n)
    step("the host has memory again: given back gradually")
    if not policy_watch(ctl, names, host_high + nguests * mem,
                        lambda devs: all(devs[n]["actual_bytes"] == 0 for n in names), 120):
        failed.append("policy: the memory was not given back")
    policy_table(ctl, "given back:")
    say("  " + json.dumps(ctl("set policy off")))
    table(ctl, "\nafter the policy:")


config = "config/vhost-balloon.ini"
if policy:
    # The packaged config with the played host and knobs sized for these guests.
    with open(config) as f:
        text = f.read()
    knobs = ("[policy]\nmeminfo = %s\npsi = %s\ninterval-ms = 500\nhost-low = %dM\n"
             "host-high = %dM\nstep = %dM\ngive-back = %dM\nhold-s = 2\n" % (
                 meminfo, os.path.join(run, "psi"), host_low // MiB, host_high // MiB,
                 mem // 8 // MiB, mem // 8 // MiB))
    config = os.path.join(run, "demo.ini")
    with open(config, "w") as f:
        f.write(text.replace("[policy]\n", knobs, 1))
    with open(os.path.join(run, "psi"), "w") as f:
        f.write("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    play_host(host_high + nguests * mem, 0)

step("daemon (%s config, sockets in %s)" % ("demo policy" if policy else "default", run))
eal = ["-l", "0,1", "--no-pci", "--file-prefix", prefix, "--log-level", "lib.vhost.*:warning"]
eal += ["--huge-dir", hugedir, "-m", "64"] if hugedir else ["--no-huge", "-m", "128"]
dlog = open(os.path.join(run, "daemon.log"), "w")
cmd = [daemon] + eal + ["--", "--config", config, "--run-dir", run, "--stats-interval", "1"]
if policy:
    cmd += ["--policy", "advisory"]
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

    if policy:
        names = names[:nguests]
    step("simulated guests: %d x %s, backing %s" % (len(names), mib(mem), backing))
    # --policy: what each guest reports as available: idle, busy, in between.
    avail_share = [70, 15, 40]
    for i, n in enumerate(names):
        sock = os.path.join(run, n + ".sock")
        argv = [vmsim, "--socket", sock, "--mem", "%dM" % (mem // MiB)]
        argv += ["--backing", "hugetlbfs" if hugedir else "memfd"]
        if policy:
            a = mem * avail_share[i] // 100 // 4096 * 4096
            argv += ["--stats-values", "available=%d,caches=%d,free=%d" % (a, a // 2, a // 4)]
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

    if policy:
        run_policy(ctl, names)
        raise StopIteration
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
except StopIteration:          # --policy: its own steps are done
    pass
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
