#!/usr/bin/env python3
"""Samples a process tree from one process, for the benchmarks.

    proc_sampler.py trace ROOT_PID TRACE [INTERVAL_S]
        Every INTERVAL_S (default 1) appends "epoch_s name rss_kib cpu_ticks"
        to TRACE for ROOT_PID and each of its descendants, and keeps each
        one's VmHWM and last CPU ticks; when ROOT_PID is gone it writes them
        to TRACE.peaks as "name hwm_kib cpu_ticks" lines and exits.
    proc_sampler.py figures LOG PEAKS
        Prints "name peak_mib cpu_s" per process: from the lines the
        coordinator logs as its workers and itself exit (exact), else from
        PEAKS (the sampler's last sample, for a process the log does not
        name, such as one killed with the run).

A name is the executable's base name, followed by "-ROLE" or "-ORDINAL" when
its command line has --role or --ordinal (sluice-deduper-0; the coordinator
is "sluice"). One Python process reads /proc: the shell loop it replaces ran
pgrep, awk, sed and tr for every process every second and took 18% of the
CPU samples of a 2-shard run on two cores (bench/README.md, 2026-12-08).
"""
import os
import re
import sys
import time


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def parents():
    """pid -> parent pid of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = read(f"/proc/{entry}/stat")
        if stat is None:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        out[int(entry)] = int(rest[1])
    return out


def tree(root):
    children = {}
    for pid, ppid in parents().items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def name_of(pid):
    cmdline = read(f"/proc/{pid}/cmdline")
    if not cmdline:
        return None
    args = [a.decode(errors="replace") for a in cmdline.split(b"\0") if a]
    name = os.path.basename(args[0])
    for i, a in enumerate(args[:-1]):
        if a in ("--role", "--ordinal"):
            name += "-" + args[i + 1]
    return name


def status_kib(pid, field):
    status = read(f"/proc/{pid}/status")
    if status is None:
        return None
    m = re.search(rb"^" + field.encode() + rb":\s+(\d+)", status, re.M)
    return int(m.group(1)) if m else None


def cpu_ticks(pid):
    stat = read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    rest = stat[stat.rfind(b")") + 2:].split()
    return int(rest[11]) + int(rest[12])  # utime + stime


def trace(root, path, interval):
    seen = {}  # pid -> [name, hwm_kib, cpu_ticks]
    with open(path, "a") as out:
        while os.path.exists(f"/proc/{root}"):
            now = int(time.time())
            for pid in tree(root):
                if pid == os.getpid():
                    continue
                name = seen[pid][0] if pid in seen else name_of(pid)
                hwm, rss, ticks = status_kib(pid, "VmHWM"), status_kib(pid, "VmRSS"), cpu_ticks(pid)
                if name is None or hwm is None or ticks is None:
                    continue
                row = seen.setdefault(pid, [name, 0, 0])
                row[1], row[2] = max(row[1], hwm), ticks
                out.write(f"{now} {name} {rss or 0} {ticks}\n")
            out.flush()
            time.sleep(interval)
    with open(path + ".peaks", "w") as peaks:
        for name, hwm, ticks in sorted(seen.values()):
            peaks.write(f"{name} {hwm} {ticks}\n")


EXITED = re.compile(r"worker ([a-z]+)-(\d+) (?:exited with code|killed by signal) -?\d+ after "
                    r"([0-9.]+)s user, ([0-9.]+)s system cpu, peak RSS (\d+) MiB")
COORDINATOR = re.compile(r"coordinator used ([0-9.]+)s user cpu, ([0-9.]+)s system cpu, "
                         r"peak RSS (\d+) MiB")


def figures(log, peaks):
    rows = {}
    ticks = os.sysconf("SC_CLK_TCK")
    if os.path.exists(peaks):
        for line in open(peaks):
            name, hwm, cpu = line.split()
            if name.startswith("sluice"):
                rows[name] = (int(hwm) / 1024, int(cpu) / ticks)
    for line in open(log, errors="replace"):
        m = EXITED.search(line)
        if m:
            role, ordinal, user, system, mib = m.groups()
            rows[f"sluice-{role}-{ordinal}"] = (float(mib), float(user) + float(system))
            continue
        m = COORDINATOR.search(line)
        if m:
            user, system, mib = m.groups()
            rows["sluice"] = (float(mib), float(user) + float(system))
    for name in sorted(rows):
        mib, cpu = rows[name]
        print(f"{name} {mib:.1f} {cpu:.1f}")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "trace":
        trace(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 1.0)
    elif len(sys.argv) == 4 and sys.argv[1] == "figures":
        figures(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
