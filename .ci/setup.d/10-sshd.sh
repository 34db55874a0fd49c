#!/usr/bin/env bash
# sshd on 127.0.0.1:2222 for the SSH channel, rsync staging and Slurm-over-SSH tests.
exec bash "$(dirname "$0")/../infra/sshd-up.sh"
