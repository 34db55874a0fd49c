#!/usr/bin/env bash
# Slurm 22.05 with 3 virtual nodes, sacct (slurmdbd + MariaDB) and the Torque wrappers
# (qsub/qstat/qdel) for the provider, launcher and HTEX-on-Slurm tests.
exec env SLURM_NODES="${SLURM_NODES:-3}" SLURM_ACCOUNTING="${SLURM_ACCOUNTING:-1}" \
  SLURM_TORQUE="${SLURM_TORQUE:-1}" bash "$(dirname "$0")/../infra/slurm-up.sh"
