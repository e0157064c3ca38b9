//! The `convex` binary: everything lives in the library so tests, fuzz targets
//! and benchmarks can reach it.
fn main() -> std::process::ExitCode {
    convex_cli::main()
}
