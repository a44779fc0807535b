#!/usr/bin/env bash
# Stop the single-node SLURM that ci/slurm/start.sh started: cancel its jobs, then stop slurmd,
# slurmctld and munged (by the pids in their pid files). Safe to call when nothing runs.
set -uo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
PATH=$PATH:/usr/sbin:/sbin
say() { echo "ci/slurm/stop.sh: $*"; }

alive() {
  local pid state
  pid=$($SUDO cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] && [ "$state" != X ]
}

stop() {  # stop NAME PIDFILE: SIGTERM, wait up to 10 s, then SIGKILL
  local name=$1 pidfile=$2 pid
  alive "$pidfile" || return 0
  pid=$($SUDO cat "$pidfile")
  say "stopping $name ($pid)"
  $SUDO kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do alive "$pidfile" || break; sleep 0.1; done
  if alive "$pidfile"; then $SUDO kill -KILL "$pid" 2>/dev/null || true; fi
  $SUDO rm -f "$pidfile"
}

if alive /run/slurmctld.pid; then
  jobs=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    say "cancelling jobs $jobs"
    # shellcheck disable=SC2086
    $SUDO scancel $jobs 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  fi
fi
stop slurmd /run/slurmd.pid
stop slurmctld /run/slurmctld.pid
stop munged /run/munge/munged.pid
exit 0
