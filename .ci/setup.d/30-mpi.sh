#!/usr/bin/env bash
# OpenMPI (mpiexec, mpicc) for the HTEX MPI-mode tests (packages/executor-htex/tests/test_mpi_*.py).
# mpi4py itself comes from PyPI into the test environment (a binary wheel, about a second).
# Idempotent: does nothing when OpenMPI is already installed.
set -euo pipefail
if command -v mpiexec >/dev/null 2>&1 && command -v mpicc >/dev/null 2>&1; then
  echo "OpenMPI present: $(mpiexec --version 2>&1 | head -1)"
  exit 0
fi
ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=300 update -qq
# Other setup steps may hold the dpkg lock: wait for it rather than fail.
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
  openmpi-bin libopenmpi-dev >/dev/null \
  || { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
       DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
         --no-install-recommends openmpi-bin libopenmpi-dev >/dev/null; }
echo "OpenMPI installed: $(mpiexec --version 2>&1 | head -1)"
