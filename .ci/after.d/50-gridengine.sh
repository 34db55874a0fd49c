#!/usr/bin/env bash
# Grid Engine tests. SGE's qsub replaces Slurm's Torque wrappers (/usr/bin/qsub), so they run
# after the main test run: start SGE, run the tests marked `gridengine`, then stop SGE and
# put the Torque wrappers back (slurm-up.sh reinstalls them) so the machine is as setup left it.
set -euo pipefail
cd "$(dirname "$0")/../.."

restore() {
  bash .ci/infra/sge-up.sh down || true
  SLURM_NODES="${SLURM_NODES:-3}" SLURM_ACCOUNTING="${SLURM_ACCOUNTING:-1}" SLURM_TORQUE="${SLURM_TORQUE:-1}" \
    bash .ci/infra/slurm-up.sh >/dev/null || echo "could not restore the Slurm Torque wrappers" >&2
}
trap restore EXIT

bash .ci/infra/sge-up.sh
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default PARSL_TEST_SGE=1
hatch test -- -m gridengine packages/providers/tests
