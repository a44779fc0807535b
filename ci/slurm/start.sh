#!/usr/bin/env bash
# A single-node SLURM on this machine for the slurm-marked tests (docs/CLUSTERS.md, "SLURM in CI").
# Installs munge and slurm-wlm (Debian/Ubuntu) when missing, writes a minimal slurm.conf bound to
# 127.0.0.1, starts munged, slurmctld and slurmd without systemd and waits until the node is idle.
# Idempotent: daemons already running are left alone. Needs root (or passwordless sudo).
# Completed jobs are logged by jobcomp/filetxt to $SLURM_JOBCOMP_LOG (no slurmdbd).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}
JOBCOMP_LOG=${SLURM_JOBCOMP_LOG:-/var/log/slurm/jobcomp.log}
MARK="# written by segmark ci/slurm/start.sh"
say() { echo "ci/slurm/start.sh: $*"; }

# A daemon is alive if its pid file names a process that is not a zombie (PID 1 may reap late,
# so `kill -0` alone is not enough).
alive() {
  local pid
  pid=$($SUDO cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  local state
  state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] && [ "$state" != X ]
}

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
  || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing munge and slurm-wlm"
  export DEBIAN_FRONTEND=noninteractive
  install=($SUDO apt-get install -y -q --no-install-recommends munge slurm-wlm)
  if ! "${install[@]}" >/tmp/segmark-slurm-apt.log 2>&1; then
    $SUDO apt-get update -q >>/tmp/segmark-slurm-apt.log 2>&1
    "${install[@]}" >>/tmp/segmark-slurm-apt.log 2>&1 \
      || { tail -20 /tmp/segmark-slurm-apt.log; exit 1; }
  fi
fi
PATH=$PATH:/usr/sbin:/sbin

# 2. slurm.conf: one node (this machine as "localhost", 127.0.0.1), one partition.
cpus=$(nproc)
mem_mib=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
if $SUDO test -e "$CONF" && ! $SUDO grep -qF "$MARK" "$CONF"; then
  say "$CONF exists and was not written by this script; refusing to replace it" >&2
  exit 1
fi
$SUDO mkdir -p "$(dirname "$CONF")" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
$SUDO tee "$CONF.new" >/dev/null <<CONFEOF
$MARK
ClusterName=segmark-ci
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$JOBCOMP_LOG
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=600
MailProg=/bin/true
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mib State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONFEOF
if $SUDO cmp -s "$CONF.new" "$CONF"; then
  $SUDO rm -f "$CONF.new"
else
  if alive /run/slurmctld.pid || alive /run/slurmd.pid; then
    say "slurm.conf changed; restarting the daemons"  # some settings need a restart
    bash "$(dirname "$0")/stop.sh"
  fi
  $SUDO mv "$CONF.new" "$CONF"
fi

# 3. munged, as the munge user, with a private key.
if ! alive /run/munge/munged.pid; then
  $SUDO mkdir -p /run/munge /etc/munge /var/lib/munge /var/log/munge
  if ! $SUDO test -s /etc/munge/munge.key; then
    $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  $SUDO chown -R munge:munge /run/munge /etc/munge /var/lib/munge /var/log/munge
  $SUDO chmod 0700 /etc/munge
  $SUDO chmod 0600 /etc/munge/munge.key
  $SUDO chmod 0755 /run/munge
  say "starting munged"
  $SUDO runuser -u munge -- /usr/sbin/munged --force
fi
for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
munge -n | unmunge >/dev/null || { say "munge does not work" >&2; exit 1; }

# 4. slurmctld, then slurmd (its node name is not the hostname: -N localhost).
if ! alive /run/slurmctld.pid; then
  say "starting slurmctld"
  $SUDO slurmctld -c -f "$CONF"
fi
if ! alive /run/slurmd.pid; then
  say "starting slurmd"
  $SUDO slurmd -N localhost -f "$CONF"
fi

# 5. Wait for the node to be idle (or already running jobs).
for _ in $(seq 150); do
  state=$(SLURM_CONF=$CONF sinfo -h -n localhost -o %T 2>/dev/null || true)
  case "$state" in
    idle | mixed | allocated | completing)
      say "node localhost is $state ($cpus CPUs, ${mem_mib} MiB); jobs are logged to $JOBCOMP_LOG"
      exit 0
      ;;
    *drain* | down*)
      $SUDO scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
      ;;
  esac
  sleep 0.2
done
say "the node did not become idle (sinfo says '${state:-nothing}'); see /var/log/slurm/" >&2
exit 1
