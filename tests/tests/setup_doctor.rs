//! `tests/dev doctor` checks each native prerequisite by what the build loads, not by a loose
//! glob. The trap it must not fall into (seen on a fresh machine): the system library directory
//! holds `libclang-cpp.so.14` (LLVM's C++ library, from another package) and no libclang, so a
//! check like `ls <libdir>/libclang*.so*` passes and bindgen fails 25 minutes into the build.
//! Here the detection runs against fixture directory trees (`tests/dev doctor ROOT` applies ROOT
//! to the libclang and clang-header checks).

use std::path::{Path, PathBuf};
use std::process::Command;

fn dev() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("dev")
}

/// A fixture file: shared objects start with the ELF magic (as the loader requires), headers
/// are empty.
fn touch(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let body: &[u8] = if rel.contains(".so") {
        b"\x7fELF\x02\x01\x01\x00"
    } else {
        b""
    };
    std::fs::write(p, body).unwrap();
}

/// The doctor's lines for libclang and the clang headers, against `root`.
fn doctor(root: &Path) -> (String, String) {
    let out = Command::new("bash")
        .arg(dev())
        .arg("doctor")
        .arg(root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name} line in:\n{text}"))
            .to_string()
    };
    (line("libclang (bindgen)"), line("clang headers"))
}

#[test]
fn libclang_cpp_alone_is_not_libclang() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // The fresh machine: only LLVM's C++ library, in both places it is installed.
    touch(root, "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14");
    touch(root, "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    touch(root, "usr/lib/llvm-14/lib/libLLVM-14.so");
    let (lib, headers) = doctor(root);
    assert!(lib.starts_with("MISSING"), "{lib}");
    assert!(lib.contains("apt-get install libclang-dev"), "{lib}");
    assert!(headers.starts_with("MISSING"), "{headers}");
}

#[test]
fn what_bindgen_loads_is_found_with_where() {
    // Debian's libclang1-14 (runtime library, versioned name) + libclang-common-14-dev (headers).
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    touch(root, "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14");
    touch(root, "usr/lib/llvm-14/lib/libclang.so.1");
    touch(root, "usr/lib/llvm-14/lib/clang/14.0.6/include/stddef.h");
    // A name clang-sys accepts that is not a shared object (a stub, a bind-mounted /dev/null).
    std::fs::create_dir_all(root.join("usr/lib/llvm-13/lib")).unwrap();
    std::fs::write(
        root.join("usr/lib/llvm-13/lib/libclang.so"),
        b"not a library",
    )
    .unwrap();
    let (lib, headers) = doctor(root);
    assert!(lib.starts_with("ok"), "{lib}");
    assert!(lib.contains("usr/lib/llvm-14/lib/libclang.so.1"), "{lib}");
    assert!(!lib.contains("libclang-cpp"), "{lib}");
    assert!(
        headers.starts_with("ok") && headers.contains("14.0.6/include"),
        "{headers}"
    );

    // The other names clang-sys accepts: libclang-N.so (versioned, unsuffixed) and libclang.so.
    for name in [
        "usr/lib/x86_64-linux-gnu/libclang-16.so",
        "usr/local/lib/libclang.so",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        touch(tmp.path(), name);
        let (lib, _) = doctor(tmp.path());
        assert!(lib.starts_with("ok") && lib.contains(name), "{name}: {lib}");
    }
}

#[test]
fn this_machine_has_every_prerequisite() {
    // What CI and the README commands rely on after `tests/dev setup`: every line ok.
    let out = Command::new("bash")
        .arg(dev())
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tests/dev doctor:\n{text}");
    assert!(!text.contains("MISSING"), "{text}");
}
