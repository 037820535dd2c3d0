#!/usr/bin/env bash
# Installs what vertebra needs on Debian 12 (run as root). Used by .ci/run and the README.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential pkg-config libopenblas-openmp-dev zlib1g-dev libpng-dev check \
    dataset-fashion-mnist libopenmpi-dev openmpi-bin >/dev/null
# Only to regenerate the PyTorch reference fixtures (make fixtures) and for the PyTorch side
# of make bench; CI does not need them:
#   apt-get install python3-torch python3-torchvision python3-numpy
