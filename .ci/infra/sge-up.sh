#!/usr/bin/env bash
# Grid Engine (SGE 8.1.9, Debian bookworm) on this host for the GridEngineProvider tests:
# qmaster + execd, queue all.q (nproc slots, bash, unix_behavior) and parallel environment smp.
#
#   bash .ci/infra/sge-up.sh          install if needed, start, wait until all.q is usable
#   bash .ci/infra/sge-up.sh down     stop both daemons (by pid file)
#   then, in every shell:  export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
#
# gridengine-client owns /usr/bin/qsub, as Slurm's Torque wrappers (slurm-wlm-torque) do:
# installing it makes apt remove them. .ci/after.d/50-gridengine.sh swaps them back afterwards.
# Idempotent: a second run only checks (about a second).
set -euo pipefail
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
HOST=$(hostname -s)
SLOTS=${SGE_SLOTS:-$(nproc)}
COMMON=$SGE_ROOT/$SGE_CELL/common
QMASTER_PID=/var/spool/gridengine/qmaster/qmaster.pid

alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }
stop_pidfile() {
  if alive "$2"; then
    local pid; pid=$(cat "$2"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
      sleep 0.1
    done
    echo "stopped $1 (pid $pid)"
  fi
}

if [ "${1:-up}" = down ]; then
  for f in /var/spool/gridengine/execd/*/execd.pid; do [ -e "$f" ] && stop_pidfile sge_execd "$f"; done
  stop_pidfile sge_qmaster "$QMASTER_PID"
  exit 0
fi

t0=$(date +%s.%N)
export DEBIAN_FRONTEND=noninteractive
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
if ! installed gridengine-master || ! installed gridengine-exec || ! installed gridengine-client; then
  # Preseed, or the postinst leaves the cell without a qmaster name.
  debconf-set-selections <<DEB
gridengine-common shared/gridenginemaster string $HOST
gridengine-common shared/gridenginecell string default
gridengine-common shared/gridengineconfig boolean true
DEB
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    gridengine-master gridengine-exec gridengine-client >/dev/null
fi

echo "$HOST" > "$COMMON/act_qmaster"
# 127.0.0.1 reverse-resolves to "localhost" here, the clients call themselves $HOST: without
# the alias every q-command fails with "commlib error: access denied".
echo "$HOST localhost" > "$COMMON/host_aliases"
mkdir -p /var/run/gridengine /var/spool/gridengine/execd
chown sgeadmin:sgeadmin /var/run/gridengine /var/spool/gridengine/execd

alive "$QMASTER_PID" || /usr/sbin/sge_qmaster
for _ in $(seq 100); do qstat >/dev/null 2>&1 && break; sleep 0.1; done
qstat >/dev/null

# Configuration through qconf; the interactive editors are replaced by sed scripts.
ED=$(mktemp -d)
trap 'rm -rf "$ED"' EXIT
printf '#!/bin/sh\nsed -i -e "s/^min_uid .*/min_uid 0/" -e "s/^min_gid .*/min_gid 0/" "$1"\n' > "$ED/conf"
printf '#!/bin/sh\nsed -i -e "s/^schedule_interval .*/schedule_interval 0:0:1/" -e "s/^flush_submit_sec .*/flush_submit_sec 1/" -e "s/^flush_finish_sec .*/flush_finish_sec 1/" "$1"\n' > "$ED/sched"
cat > "$ED/queue" <<Q
#!/bin/sh
sed -i -e 's/^qname .*/qname all.q/' -e 's/^hostlist .*/hostlist @allhosts/' \
  -e 's/^slots .*/slots $SLOTS/' -e 's/^load_thresholds .*/load_thresholds NONE/' \
  -e 's#^shell .*#shell /bin/bash#' -e 's/^shell_start_mode .*/shell_start_mode unix_behavior/' \
  -e 's/^pe_list .*/pe_list smp/' "\$1"
Q
chmod +x "$ED/conf" "$ED/sched" "$ED/queue"
# root may run jobs (jobs of uid < 1000 otherwise fail "before job")
qconf -sconf global | grep -q '^min_uid *0$' || EDITOR=$ED/conf qconf -mconf global >/dev/null
# schedule every second instead of every 15
qconf -ssconf | grep -q '^schedule_interval *0:0:1$' || EDITOR=$ED/sched qconf -msconf >/dev/null
qconf -ss 2>/dev/null | grep -qx "$HOST" || qconf -as "$HOST" >/dev/null
if ! qconf -sel 2>/dev/null | grep -qx "$HOST"; then
  printf 'hostname %s\nload_scaling NONE\ncomplex_values NONE\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' "$HOST" > "$ED/exechost"
  qconf -Ae "$ED/exechost" >/dev/null
fi
if ! qconf -shgrpl 2>/dev/null | grep -qx '@allhosts'; then
  printf 'group_name @allhosts\nhostlist %s\n' "$HOST" > "$ED/hgrp"
  qconf -Ahgrp "$ED/hgrp" >/dev/null
fi
if ! qconf -spl 2>/dev/null | grep -qx smp; then
  printf 'pe_name smp\nslots 999\nuser_lists NONE\nxuser_lists NONE\nstart_proc_args NONE\nstop_proc_args NONE\nallocation_rule $pe_slots\ncontrol_slaves TRUE\njob_is_first_task TRUE\nurgency_slots min\naccounting_summary FALSE\nqsort_args NONE\n' > "$ED/pe"
  qconf -Ap "$ED/pe" >/dev/null
fi
qconf -sql 2>/dev/null | grep -qx all.q || EDITOR=$ED/queue qconf -aq all.q >/dev/null

# The execd reads min_uid only when it starts: start it after the configuration.
running=0
for f in /var/spool/gridengine/execd/*/execd.pid; do alive "$f" && running=1; done
[ "$running" = 1 ] || /usr/sbin/sge_execd
ok=0
for _ in $(seq 150); do
  if qstat -f -q all.q 2>/dev/null | grep -q 'all.q@' && \
     ! qstat -f -q all.q | grep 'all.q@' | grep -qE ' (u|au|E|d)$'; then ok=1; break; fi
  sleep 0.2
done
qmod -c all.q >/dev/null 2>&1 || true   # clear an error state an earlier failed job left
t1=$(date +%s.%N)
echo "sge up in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s: export SGE_ROOT=$SGE_ROOT SGE_CELL=$SGE_CELL"
[ "$ok" = 1 ] || { qstat -f -q all.q >&2 || true; echo "all.q is not usable" >&2; exit 1; }
