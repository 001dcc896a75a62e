//! The `tachyon` command (see the library, `tachyon::main`).

fn main() {
    std::process::exit(tachyon::main(std::env::args_os()));
}
