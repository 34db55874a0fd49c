#!/usr/bin/env bash
# A private OpenSSH server for the tests: 127.0.0.1:$SSHD_PORT, public keys only, root allowed.
# Nothing under /etc/ssh or ~/.ssh is touched; everything lives in $SSHD_DIR.
#
#   bash .ci/infra/sshd-up.sh        install (if needed), make keys, start, check it answers
#   bash .ci/infra/sshd-up.sh down   stop it by its pid file
#
# $SSHD_DIR (default /tmp/parsl-sshd) then holds:
#   id_ed25519[.pub]  a client key authorized for root      known_hosts  for strict checking
#   ssh_config        `ssh -F $SSHD_DIR/ssh_config testhost CMD` works
set -euo pipefail
dir=${SSHD_DIR:-/tmp/parsl-sshd}
port=${SSHD_PORT:-2222}

running() { [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; }

if [ "${1:-up}" = down ]; then
  running && kill "$(cat "$dir/sshd.pid")"
  exit 0
fi

if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v rsync >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
  # rsync must exist on both ends of rsync-over-ssh; it is not preinstalled.
  apt-get install -y -qq --no-install-recommends openssh-server openssh-client rsync >/dev/null
fi

mkdir -p "$dir" /run/sshd
chmod 700 "$dir"
chmod 755 /run/sshd              # sshd's privilege-separation directory must exist
for kind in ed25519 rsa; do
  [ -f "$dir/host_$kind" ] || ssh-keygen -q -t "$kind" -N '' -f "$dir/host_$kind"
done
[ -f "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C parsl-tests -f "$dir/id_ed25519"
install -m 600 "$dir/id_ed25519.pub" "$dir/authorized_keys"
: > "$dir/known_hosts"
for kind in ed25519 rsa; do
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_$kind.pub")" >> "$dir/known_hosts"
done

cat > "$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519
HostKey $dir/host_rsa
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The keys live under /tmp, which StrictModes would refuse.
StrictModes no
AllowTcpForwarding yes
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 100
CONF
/usr/sbin/sshd -t -f "$dir/sshd_config"
# sshd re-executes itself, so it must be started by absolute path; it daemonizes.
running || /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"

cat > "$dir/ssh_config" <<CONF
Host testhost
  HostName 127.0.0.1
  Port $port
  User root
  IdentityFile $dir/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
CONF

for _ in $(seq 50); do
  [ "$(ssh -F "$dir/ssh_config" -o ConnectTimeout=2 testhost echo ok 2>/dev/null)" = ok ] && {
    echo "sshd on 127.0.0.1:$port (ssh -F $dir/ssh_config testhost)"; exit 0; }
  sleep 0.1
done
echo "sshd did not answer; see $dir/sshd.log" >&2
exit 1
