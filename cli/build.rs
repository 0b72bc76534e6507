//! The `elite` binary links LightGBM's shared library (PyPI's lightgbm 4.7.0 wheel, see
//! pipelines/lgbm/sys): record where it is (`LIGHTGBM_LIB_DIR`, set by .cargo/config.toml to the
//! checkout's .tools/lib) as the binary's run path, so `elite` runs outside `cargo run`.
fn main() {
    println!("cargo:rerun-if-env-changed=LIGHTGBM_LIB_DIR");
    if let Ok(dir) = std::env::var("LIGHTGBM_LIB_DIR") {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{dir}");
    }
}
