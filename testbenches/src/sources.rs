//! Harness sources for a project folder: the C++ driver and a `build.sh` with the exact
//! Verilator command (the RTL files must exist: whether to lint depends on them), so the
//! harness can be built by hand as well as by `tachyon sim`.

use crate::cosim_error::CosimError;
use crate::interface::TopInterface;
use std::path::{Path, PathBuf};

/// Writes `tachyon_cosim.cpp` and `build.sh` into `dir`; `rtl_files` are given relative to
/// `dir` (e.g. `../rtl/top.v`). Returns the written paths.
pub fn write_harness(rtl_files: &[PathBuf], iface: &TopInterface, dir: &Path) -> Result<Vec<PathBuf>, CosimError> {
    iface.validate()?;
    std::fs::create_dir_all(dir).map_err(CosimError::io(dir))?;
    let cpp = dir.join("tachyon_cosim.cpp");
    std::fs::write(&cpp, crate::harness::harness_cpp(iface)).map_err(CosimError::io(&cpp))?;
    // Linted like `tachyon sim`'s build: `-Wall` unless the design is a hierarchy.
    let in_dir: Vec<PathBuf> = rtl_files.iter().map(|f| dir.join(f)).collect();
    let lint = !crate::verilator::has_hier_blocks(&in_dir)?;
    let args = crate::verilator::build_args(
        Path::new("."),
        rtl_files,
        Path::new("tachyon_cosim.cpp"),
        &iface.top,
        crate::verilator::Flags { jobs: 2, trace: false, optimize: false, lint },
    );
    let quoted: Vec<String> =
        args.iter().map(|a| format!("'{}'", a.to_string_lossy().replace('\'', "'\\''"))).collect();
    let clang: Vec<String> = crate::verilator::CLANG.iter().map(|f| format!("-MAKEFLAGS {f}")).collect();
    let script = format!(
        "#!/bin/sh\n# Builds the Verilator co-simulation harness of `{}` (what `tachyon sim` does).\nset -e\ncd \"$(dirname \"$0\")\"\n\
         # clang++ compiles Verilator's C++ about twice as fast as g++ at -O0: used when installed.\n\
         if command -v clang++ >/dev/null 2>&1; then set -- {}; else set --; fi\n\
         verilator {} \"$@\"\n",
        iface.top,
        clang.join(" "),
        quoted.join(" ")
    );
    let sh = dir.join("build.sh");
    std::fs::write(&sh, script).map_err(CosimError::io(&sh))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&sh, std::fs::Permissions::from_mode(0o755));
    }
    Ok(vec![cpp, sh])
}
