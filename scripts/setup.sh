#!/usr/bin/env bash
# Installs what Tachyon's tests and flows need on a Debian/Ubuntu machine: Verilator (co-simulation),
# yosys (synthesis checks and resource figures), Icarus Verilog, a C++ compiler and make.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
need=()
for tool in verilator yosys iverilog g++ make; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "setup: verilator, yosys, iverilog, g++ and make are installed"
  exit 0
fi
pkgs=()
for t in "${need[@]}"; do
  case "$t" in
    g++) pkgs+=(g++) ;;
    *) pkgs+=("$t") ;;
  esac
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install ${pkgs[*]}"; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${pkgs[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
echo "setup: done ($(verilator --version), $(yosys -V))"
