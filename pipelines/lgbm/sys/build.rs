//! Link against `lib_lightgbm.so` from PyPI's `lightgbm` 4.7.0 wheel (found through
//! `LIGHTGBM_LIB_DIR`, which `.cargo/config.toml` sets to `.tools/lib`, where `tests/dev setup`
//! links it). The library is copied into OUT_DIR and linked from there, so `cargo test` and
//! `cargo run` put it on the loader's path; the `elite` binary carries an rpath to
//! `LIGHTGBM_LIB_DIR` (cli/build.rs).
use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=LIGHTGBM_LIB_DIR");
    let Ok(dir) = env::var("LIGHTGBM_LIB_DIR") else {
        panic!(
            "LIGHTGBM_LIB_DIR is not set: run `tests/dev setup` (it links PyPI's lightgbm 4.7.0 \
             library at .tools/lib/lib_lightgbm.so; .cargo/config.toml points LIGHTGBM_LIB_DIR there)"
        );
    };
    let lib = Path::new(&dir).join("lib_lightgbm.so");
    println!("cargo:rerun-if-changed={}", lib.display());
    if !lib.is_file() {
        panic!(
            "{} is missing: run `tests/dev setup` (PyPI's lightgbm 4.7.0 wheel)",
            lib.display()
        );
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let copy = out.join("lib_lightgbm.so");
    if let Err(e) = std::fs::copy(&lib, &copy) {
        panic!("cannot copy {} to {}: {e}", lib.display(), copy.display());
    }
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=dylib=_lightgbm");
}
