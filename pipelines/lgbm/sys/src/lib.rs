//! LightGBM 4.7.0's C API (`c_api.h`), as bindgen 0.73.2 generates it for crates.io's
//! `lightgbm3-sys` 1.0.11 (doc comments dropped; they are in `c_api.h`), linked against the
//! shared library of PyPI's `lightgbm` 4.7.0 wheel (see build.rs).
#![allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    unsafe_op_in_unsafe_fn,
    clippy::all
)]

include!("bindings.rs");
