#!/usr/bin/env bash
# A real Slurm 22.05 cluster on this one host for the provider tests (root, no systemd).
#
#   bash .ci/infra/slurm-up.sh          install if needed, start, wait until every node is idle
#   bash .ci/infra/slurm-up.sh down     stop every daemon this script started (by pid file)
#   bash .ci/infra/slurm-up.sh status   exit 0 if the cluster answers with all nodes usable
#
# Defaults give the cluster the tests expect; override with the environment:
#   SLURM_NODES=3       virtual nodes n1..nN (one slurmd each, ports 17001..); 1 = one node
#                       named `hostname -s`
#   SLURM_ACCOUNTING=1  MariaDB + slurmdbd so `sacct` works (0: sacct exits 1, "accounting
#                       storage is disabled", which is what drives the squeue path)
#   SLURM_TORQUE=1      Slurm's Torque wrappers (qsub/qstat/qdel, package slurm-wlm-torque) and
#                       spank_pbs. They own /usr/bin/qsub, as gridengine-client does: apt removes
#                       whichever of the two was there before.
#   SLURM_CPUS          CPUs advertised per node (default nproc)
#   SLURM_STATE         state, logs and pid files (default /tmp/slurm-state)
#
# Idempotent: daemons whose pid file names a live process are kept; the config is rewritten
# and daemons restart only when it changed. A second run takes well under a second.
# $SLURM_STATE/up.env records what is running (sourced by the tests).
set -euo pipefail

STATE=${SLURM_STATE:-/tmp/slurm-state}
NNODES=${SLURM_NODES:-3}
ACCT=${SLURM_ACCOUNTING:-1}
TORQUE=${SLURM_TORQUE:-1}
CPUS=${SLURM_CPUS:-$(nproc)}
HOST=$(hostname -s)
PLUGDIR=/usr/lib/x86_64-linux-gnu/slurm-wlm

if [ "$NNODES" -gt 1 ]; then
  NODES=$(seq -f 'n%g' 1 "$NNODES" | tr '\n' ' ')
  PART_NODES="n[1-$NNODES]"
else
  NODES=$HOST
  PART_NODES=$HOST
fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }
stop_pidfile() {  # name pidfile; waits for the process to go (PID 1 here reaps late)
  if alive "$2"; then
    local pid; pid=$(cat "$2"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break   # zombie: gone for us
      sleep 0.1
    done
    echo "stopped $1 (pid $pid)"
  fi
  rm -f "$2"
}
stop_slurmds() {
  local f
  for f in "$STATE"/slurmd-*.pid; do [ -e "$f" ] && stop_pidfile "$(basename "$f" .pid)" "$f"; done
  return 0
}
nodes_ready() {  # every configured node is usable (idle, mixed, allocated, planned, completing)
  local states; states=$(sinfo -h -N -o '%T' 2>/dev/null) || return 1
  [ "$(printf '%s\n' "$states" | grep -c .)" -ge "$NNODES" ] || return 1
  ! printf '%s\n' "$states" | grep -qvE '^(idle|mixed|allocated|planned|completing)$'
}

case "${1:-up}" in
  down)
    stop_slurmds
    stop_pidfile slurmctld "$STATE/slurmctld.pid"
    stop_pidfile slurmdbd "$STATE/slurmdbd.pid"
    stop_pidfile mariadbd /run/mysqld/mysqld.pid
    stop_pidfile munged /run/munge/munged.pid
    rm -f "$STATE/up.env"
    exit 0 ;;
  status)
    command -v sinfo >/dev/null && nodes_ready && exit 0
    exit 1 ;;
  up) ;;
  *) echo "usage: $0 [up|down|status]" >&2; exit 2 ;;
esac

t0=$(date +%s.%N)
export DEBIAN_FRONTEND=noninteractive

# --- packages -------------------------------------------------------------------------
want=(slurmctld slurmd slurm-client munge)
[ "$ACCT" = 1 ] && want+=(slurmdbd mariadb-server)
[ "$TORQUE" = 1 ] && want+=(slurm-wlm-torque)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -qq
  # "invoke-rc.d: policy-rc.d denied execution of start" from the postinst scripts is harmless.
  # Other setup steps may hold the dpkg lock: wait for it rather than fail.
  apt_install() { apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@"; }
  apt_install "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=300 update -qq && apt_install "${missing[@]}" >/dev/null; }
fi

# --- munge ----------------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge && chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge
if ! alive /run/munge/munged.pid; then
  rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
  runuser -u munge -- /usr/sbin/munged
fi
for _ in $(seq 50); do munge -n </dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
munge -n </dev/null | unmunge >/dev/null

# --- slurm.conf -----------------------------------------------------------------------
# RealMemory must not exceed what slurmd detects, or the node drains ("Low RealMemory").
MEM=$(awk -v n="$NNODES" '/MemTotal/ {printf "%d", $2 / 1024 * 0.9 / n}' /proc/meminfo)
if [ "$NNODES" -gt 1 ]; then
  NODE_LINE="NodeName=n[1-$NNODES] NodeHostname=$HOST NodeAddr=127.0.0.1 Port=[17001-$((17000 + NNODES))] CPUs=$CPUS RealMemory=$MEM State=UNKNOWN"
else
  NODE_LINE="NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN"
fi
if [ "$ACCT" = 1 ]; then
  ACCT_LINES="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=6819
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30"
else
  ACCT_LINES="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi
mkdir -p "$STATE/ctld" /etc/slurm/plugstack.conf.d
cat > "$STATE/slurm.conf.new" <<EOF
# written by parslcore .ci/infra/slurm-up.sh (nodes=$NNODES accounting=$ACCT torque=$TORQUE)
ClusterName=local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
$ACCT_LINES
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d-%n
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd-%n.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldPort=6817
SlurmdPort=6818
# Quick turnaround for tests: schedule every second, kill quickly, keep finished jobs visible
# to squeue -t all for 5 minutes.
SchedulerParameters=sched_interval=1
MessageTimeout=10
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=2
Waittime=0
$NODE_LINE
PartitionName=debug Nodes=$PART_NODES Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
CHANGED=0
cmp -s "$STATE/slurm.conf.new" /etc/slurm/slurm.conf || CHANGED=1
mv "$STATE/slurm.conf.new" /etc/slurm/slurm.conf
if [ "$TORQUE" = 1 ]; then
  echo "optional $PLUGDIR/spank_pbs.so" > /etc/slurm/plugstack.conf.d/pbs.conf
else
  rm -f /etc/slurm/plugstack.conf.d/pbs.conf
fi

# --- accounting: MariaDB + slurmdbd -------------------------------------------------------
if [ "$ACCT" = 1 ]; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  if ! alive /run/mysqld/mysqld.pid; then
    setsid /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql --skip-networking=0 \
      --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid \
      --bind-address=127.0.0.1 >"$STATE/mariadb.log" 2>&1 </dev/null &
  fi
  for _ in $(seq 150); do mariadb -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
  mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  cat > "$STATE/slurmdbd.conf.new" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=slurmpw
LogFile=$STATE/slurmdbd.log
PidFile=$STATE/slurmdbd.pid
EOF
  if ! cmp -s "$STATE/slurmdbd.conf.new" /etc/slurm/slurmdbd.conf; then
    stop_pidfile slurmdbd "$STATE/slurmdbd.pid"
  fi
  mv "$STATE/slurmdbd.conf.new" /etc/slurm/slurmdbd.conf
  chmod 600 /etc/slurm/slurmdbd.conf    # slurmdbd refuses a readable config
  alive "$STATE/slurmdbd.pid" || /usr/sbin/slurmdbd
  for _ in $(seq 100); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.1; done
  sacctmgr -n list cluster format=cluster | grep -qw local || sacctmgr -i add cluster local >/dev/null
else
  stop_pidfile slurmdbd "$STATE/slurmdbd.pid"
fi

# --- slurmctld and one slurmd per node ----------------------------------------------------
# scontrol reconfigure does not apply accounting or node-list changes: restart instead.
if [ "$CHANGED" = 1 ]; then
  stop_slurmds
  stop_pidfile slurmctld "$STATE/slurmctld.pid"
  rm -f "$STATE"/ctld/node_state*
fi
alive "$STATE/slurmctld.pid" || /usr/sbin/slurmctld
for n in $NODES; do
  alive "$STATE/slurmd-$n.pid" || /usr/sbin/slurmd -N "$n"
done

ok=0
for i in $(seq 300); do
  if nodes_ready; then ok=1; break; fi
  # Nodes an earlier run left DOWN or DRAINED come back once resumed.
  [ "$i" = 20 ] && { scontrol update NodeName="$PART_NODES" State=RESUME >/dev/null 2>&1 || true; }
  sleep 0.1
done
cat > "$STATE/up.env" <<EOF
SLURM_NODES=$NNODES
SLURM_ACCOUNTING=$ACCT
SLURM_TORQUE=$TORQUE
SLURM_NODE_NAMES="$NODES"
EOF
t1=$(date +%s.%N)
echo "slurm up in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s: $(sinfo -h -N -o '%N=%T' | tr '\n' ' ')" \
     "accounting=$ACCT torque=$TORQUE; logs in $STATE"
[ "$ok" = 1 ] || { echo "nodes not ready; see $STATE/slurmctld.log and $STATE/slurmd-*.log" >&2; exit 1; }
