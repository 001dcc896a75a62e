#!/usr/bin/env bash
# Installs what Tachyon's tests and flows need on a Debian/Ubuntu machine: Verilator (co-simulation),
# yosys (synthesis checks and resource figures), Icarus Verilog, a C++ compiler and make,
# nextpnr-ice40 and fpga-icestorm (icepack) for the open iCE40 bitstream flow, and tclsh (syntax
# check of the generated Vivado scripts), ccache (Verilator's runtime is compiled once, not per
# harness) and clang (compiles Verilator's C++ about twice as fast as g++ at -O0). Idempotent: does
# nothing when everything is already there.
set -euo pipefail
# tool:package
wanted=(verilator:verilator yosys:yosys iverilog:iverilog g++:g++ make:make
        nextpnr-ice40:nextpnr-ice40 icepack:fpga-icestorm tclsh:tcl ccache:ccache clang++:clang)
pkgs=()
for tp in "${wanted[@]}"; do
  command -v "${tp%%:*}" >/dev/null 2>&1 || pkgs+=("${tp#*:}")
done
if [ ${#pkgs[@]} -eq 0 ]; then
  echo "setup: verilator, yosys, iverilog, g++, make, nextpnr-ice40, icepack, tclsh, ccache and clang++ are installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install ${pkgs[*]}"; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${pkgs[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
echo "setup: done ($(verilator --version), $(yosys -V), $(nextpnr-ice40 --version 2>&1 | head -1))"
