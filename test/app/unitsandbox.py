#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run a command under the restrictions a systemd unit file sets, without systemd (the test
machine's PID 1 need not be systemd): the unit's Group=, no capabilities (bounding set
emptied, then the uid switch drops the rest), NoNewPrivileges=, UMask=, LimitNOFILE=, and as seccomp
filters the unit's SystemCallFilter= (its groups expanded by `systemd-analyze
syscall-filter`), SystemCallArchitectures=native, RestrictAddressFamilies=,
MemoryDenyWriteExecute=, RestrictNamespaces=, LockPersonality=, RestrictRealtime= and
RestrictSUIDSGID=, modelled on the filters systemd installs. ProtectSystem=strict is emulated in a
private mount namespace: every mount read-only except the --rw paths (the unit's
ReadWritePaths=), with /proc mounted again as ProtectProc= and ProcSubset= mount it. Not
emulated: PrivateTmp=, PrivateDevices=, ProtectHome=, PrivateNetwork= (they hide things;
they do not take a system call away).

A system call outside the allow list kills the process (SIGSYS, logged by the kernel's
audit as type=1326 with its number), where the unit returns SystemCallErrorNumber=:
stricter, so that a test notices a new system call instead of a quietly degraded daemon.
Calls known to be refused harmlessly are named with --refuse; they get the unit's errno.

usage: unitsandbox.py --unit FILE [--unit DROPIN]... --user NAME [--rw PATH]...
                      [--refuse SYSCALL]... [--print] -- CMD [ARGS...]
Must start as root. --print lists the allowed system calls and exits.
"""
import argparse
import ctypes
import ctypes.util
import errno
import grp
import os
import pwd
import resource
import subprocess
import sys

SCMP_ACT_KILL_PROCESS = 0x80000000
SCMP_ACT_ALLOW = 0x7fff0000
SCMP_CMP_NE, SCMP_CMP_EQ, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ = 1, 4, 6, 7
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 38, 24
PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
S_ISUID, S_ISGID = 0o4000, 0o2000
SCHED_FIFO, SCHED_RR = 1, 2
CLONE_NS_FLAGS = (0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 |
                  0x20000000 | 0x40000000 | 0x00000080)   # mnt cgroup uts ipc user pid net time
AF_UNIX, AF_INET, AF_INET6, AF_MAX = 1, 2, 10, 64
FAMILIES = {"AF_UNIX": AF_UNIX, "AF_INET": AF_INET, "AF_INET6": AF_INET6, "AF_NETLINK": 16,
            "AF_PACKET": 17}
# mount(2), mount_setattr(2)
MS_REC, MS_PRIVATE, MS_BIND = 0x4000, 0x40000, 0x1000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
NR_MOUNT_SETATTR, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, 0x8000, 0x1


def errno_act(e):
    return 0x00050000 | (e & 0xffff)


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64),
                ("b", ctypes.c_uint64)]


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


libc = ctypes.CDLL(None, use_errno=True)
scmp = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
scmp.seccomp_init.restype = ctypes.c_void_p
scmp.seccomp_init.argtypes = [ctypes.c_uint32]
scmp.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                        ctypes.c_uint, ctypes.POINTER(ArgCmp)]
scmp.seccomp_load.argtypes = [ctypes.c_void_p]
scmp.seccomp_release.argtypes = [ctypes.c_void_p]
scmp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]


def parse_unit(path):
    """[Service] keys in order; a key may appear more than once."""
    keys, section = [], None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            if section == "Service" and "=" in line:
                k, v = line.split("=", 1)
                keys.append((k.strip(), v.strip()))
    return keys


def last(keys, name, default=None):
    vals = [v for k, v in keys if k == name]
    return vals[-1] if vals else default


def syscall_groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], stdout=subprocess.PIPE,
                         check=True, universal_newlines=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), [])
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.append(line.strip())
    return groups


def expand(items, groups):
    done = set()

    def add(x):
        if x.startswith("@"):
            for y in groups[x]:
                add(y)
        else:
            done.add(x)
    for x in items:
        add(x)
    return done


def allowed_syscalls(keys):
    """SystemCallFilter= as systemd reads it: the first line decides allow-list or deny-list
    mode; later lines add to (or, with ~, take from) the list."""
    groups = syscall_groups()
    allow = None
    for k, v in keys:
        if k != "SystemCallFilter":
            continue
        neg = v.startswith("~")
        names = expand(v.lstrip("~").split(), groups)
        if allow is None:
            if neg:
                raise SystemExit("unitsandbox: deny-list SystemCallFilter= not supported")
            allow = set()
        allow = allow - names if neg else allow | names
    return allow


def families(keys):
    """RestrictAddressFamilies=: the lines add up (a drop-in adds families), an empty one
    resets. None: no restriction."""
    fams = None
    for k, v in keys:
        if k != "RestrictAddressFamilies":
            continue
        if not v:
            fams = None
        elif v.startswith("~"):
            raise SystemExit("unitsandbox: deny-list RestrictAddressFamilies= not supported")
        else:
            fams = (fams or set()) | {FAMILIES[f] for f in v.split()}
    return fams


def rule(ctx, action, name, *cmps):
    nr = scmp.seccomp_syscall_resolve_name(name.encode())
    if nr < 0:
        return      # not a system call on this architecture
    arr = (ArgCmp * max(1, len(cmps)))(*cmps)
    rc = scmp.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
    if rc != 0 and rc != -errno.EEXIST:
        raise SystemExit("unitsandbox: seccomp rule %s: %s" % (name, os.strerror(-rc)))


def load(ctx):
    rc = scmp.seccomp_load(ctx)
    scmp.seccomp_release(ctx)
    if rc != 0:
        raise SystemExit("unitsandbox: seccomp_load: %s" % os.strerror(-rc))


def filter_default(action, add):
    ctx = scmp.seccomp_init(action)
    if not ctx:
        raise SystemExit("unitsandbox: seccomp_init failed")
    add(ctx)
    load(ctx)


def install_filters(keys, refuse):
    ok = families(keys)
    if ok is not None:

        def af(ctx):
            # socket(family) outside the list: EAFNOSUPPORT, as systemd builds it.
            for f in range(AF_MAX + 1):
                if f not in ok:
                    rule(ctx, errno_act(errno.EAFNOSUPPORT), "socket",
                         ArgCmp(0, SCMP_CMP_EQ, f, 0))
            rule(ctx, errno_act(errno.EAFNOSUPPORT), "socket",
                 ArgCmp(0, SCMP_CMP_GT, AF_MAX, 0))
        filter_default(SCMP_ACT_ALLOW, af)
    if last(keys, "MemoryDenyWriteExecute") == "yes":
        def mdwe(ctx):
            wx = PROT_WRITE | PROT_EXEC
            rule(ctx, errno_act(errno.EPERM), "mmap", ArgCmp(2, SCMP_CMP_MASKED_EQ, wx, wx))
            for s in ("mprotect", "pkey_mprotect"):
                rule(ctx, errno_act(errno.EPERM), s,
                     ArgCmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
            rule(ctx, errno_act(errno.EPERM), "shmat",
                 ArgCmp(2, SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC))
        filter_default(SCMP_ACT_ALLOW, mdwe)
    if last(keys, "RestrictNamespaces") == "yes":
        def ns(ctx):
            for s in ("unshare", "clone"):
                for flag in range(32):
                    if CLONE_NS_FLAGS & (1 << flag):
                        rule(ctx, errno_act(errno.EPERM), s,
                             ArgCmp(0, SCMP_CMP_MASKED_EQ, 1 << flag, 1 << flag))
            rule(ctx, errno_act(errno.EPERM), "setns")
            # clone3's flags are in memory a filter cannot read: ENOSYS, glibc falls back.
            rule(ctx, errno_act(errno.ENOSYS), "clone3")
        filter_default(SCMP_ACT_ALLOW, ns)
    if last(keys, "LockPersonality") == "yes":
        # Only PER_LINUX; stricter than systemd, which also lets the query (0xffffffff)
        # through (one rule cannot compare an argument twice).
        filter_default(SCMP_ACT_ALLOW, lambda ctx: rule(
            ctx, errno_act(errno.EPERM), "personality", ArgCmp(0, SCMP_CMP_NE, 0, 0)))
    if last(keys, "RestrictRealtime") == "yes":
        def rt(ctx):
            for pol in (SCHED_FIFO, SCHED_RR):
                rule(ctx, errno_act(errno.EPERM), "sched_setscheduler",
                     ArgCmp(1, SCMP_CMP_EQ, pol, 0))
        filter_default(SCMP_ACT_ALLOW, rt)
    if last(keys, "RestrictSUIDSGID") == "yes":
        def suid(ctx):
            for s, a in (("chmod", 1), ("fchmod", 1), ("fchmodat", 2)):
                for bit in (S_ISUID, S_ISGID):
                    rule(ctx, errno_act(errno.EPERM), s, ArgCmp(a, SCMP_CMP_MASKED_EQ, bit, bit))
        filter_default(SCMP_ACT_ALLOW, suid)
    # The allow list last: loading a filter is not in it.
    allow = allowed_syscalls(keys)
    if allow is not None:
        err = errno_act(getattr(errno, last(keys, "SystemCallErrorNumber", "EPERM")))

        def calls(ctx):
            for s in sorted(allow):
                rule(ctx, SCMP_ACT_ALLOW, s)
            for s in refuse:
                rule(ctx, err, s)
        # A native-only filter: other ABIs fail the architecture check and are killed, as
        # SystemCallArchitectures=native does.
        filter_default(SCMP_ACT_KILL_PROCESS, calls)


def read_only_root(rw, proc_opts):
    """ProtectSystem=strict with ReadWritePaths=: a private mount namespace, every mount
    read-only, then each rw path bind-mounted over itself read-write."""
    if libc.unshare(0x00020000) != 0:
        raise SystemExit("unitsandbox: unshare(CLONE_NEWNS): %s" %
                         os.strerror(ctypes.get_errno()))
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise SystemExit("unitsandbox: make / private: %s" % os.strerror(ctypes.get_errno()))
    if proc_opts:
        if libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      ",".join(proc_opts).encode()) != 0:
            raise SystemExit("unitsandbox: mount /proc %s: %s" %
                             (proc_opts, os.strerror(ctypes.get_errno())))
    for p in rw:
        if libc.mount(p.encode(), p.encode(), None, MS_BIND | MS_REC, None) != 0:
            raise SystemExit("unitsandbox: bind %s: %s" % (p, os.strerror(ctypes.get_errno())))
    syscall = libc.syscall
    ro = MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    if syscall(NR_MOUNT_SETATTR, -100, b"/", AT_RECURSIVE, ctypes.byref(ro),
               ctypes.sizeof(ro)) != 0:
        raise SystemExit("unitsandbox: mount_setattr(/, rdonly): %s" %
                         os.strerror(ctypes.get_errno()))
    rwa = MountAttr(0, MOUNT_ATTR_RDONLY, 0, 0)
    for p in rw:
        if syscall(NR_MOUNT_SETATTR, -100, p.encode(), AT_RECURSIVE, ctypes.byref(rwa),
                   ctypes.sizeof(rwa)) != 0:
            raise SystemExit("unitsandbox: mount_setattr(%s, rw): %s" %
                             (p, os.strerror(ctypes.get_errno())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unit", required=True, action="append",
                    help="the unit, then drop-ins (read in this order)")
    ap.add_argument("--user", required=True)
    ap.add_argument("--rw", action="append", default=[])
    ap.add_argument("--print", action="store_true")
    ap.add_argument("--refuse", action="append", default=[])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    keys = [kv for u in a.unit for kv in parse_unit(u)]
    if a.print:
        print("\n".join(sorted(allowed_syscalls(keys) or [])))
        return 0
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    pw = pwd.getpwnam(a.user)
    group = last(keys, "Group")
    gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
    with open("/proc/sys/kernel/cap_last_cap") as f:    # before /proc is mounted again
        cap_last = int(f.read())
    proc_opts = []
    if last(keys, "ProtectProc"):
        proc_opts.append("hidepid=" + last(keys, "ProtectProc"))
    if last(keys, "ProcSubset"):
        proc_opts.append("subset=" + last(keys, "ProcSubset"))
    if last(keys, "ProtectSystem") == "strict":
        read_only_root(a.rw, proc_opts)
    if last(keys, "CapabilityBoundingSet", "x") == "":
        for cap in range(cap_last + 1):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise SystemExit("unitsandbox: cannot drop capability %d" % cap)
    nofile = last(keys, "LimitNOFILE")
    if nofile:
        # N: soft and hard; SOFT:HARD. Set as root, before the uid switch.
        soft, _, hard = nofile.partition(":")
        resource.setrlimit(resource.RLIMIT_NOFILE, (int(soft), int(hard or soft)))
    umask = last(keys, "UMask")
    if umask:
        os.umask(int(umask, 8))
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)  # no KEEP_CAPS: every capability goes
    if last(keys, "NoNewPrivileges") == "yes":
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise SystemExit("unitsandbox: no_new_privs failed")
    # Without no_new_privs an unprivileged process may not load a filter; systemd would
    # set it for the filters anyway.
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    install_filters(keys, a.refuse)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main())
