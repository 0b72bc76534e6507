//! `tests/dev doctor` checks each native prerequisite by what the build links and loads, not by a
//! loose glob. LightGBM is linked from PyPI's lightgbm 4.7.0 wheel (the C API the committed
//! bindings were generated from): a file of that name that is not a shared object, or a library
//! of another LightGBM release, must be reported missing before a build fails on it. Here the
//! check runs against fixture `.tools` trees (`tests/dev doctor TOOLS_DIR`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn dev() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("dev")
}

/// The doctor's line for `name`, against the `.tools` directory `tools` (None: the checkout's).
fn doctor_line(tools: Option<&Path>, name: &str) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(dev()).arg("doctor");
    if let Some(t) = tools {
        cmd.arg(t);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("no {name} line in:\n{text}"))
        .to_string()
}

/// A fixture `.tools/lib/lib_lightgbm.so` linked to `target` (relative to the fixture root),
/// whose content is `body`.
fn fixture(root: &Path, target: &str, body: &[u8]) -> PathBuf {
    let t = root.join(target);
    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
    std::fs::write(&t, body).unwrap();
    let tools = root.join(".tools");
    std::fs::create_dir_all(tools.join("lib")).unwrap();
    std::os::unix::fs::symlink(&t, tools.join("lib/lib_lightgbm.so")).unwrap();
    tools
}

#[test]
fn lightgbm_must_be_the_wheels_shared_object() {
    let real = doctor_line(None, "lightgbm 4.7.0");
    assert!(real.starts_with("ok"), "{real}");
    let lib = real.split_whitespace().last().unwrap().to_string();
    let bytes = std::fs::read(&lib).unwrap();

    // Missing altogether.
    let tmp = tempfile::tempdir().unwrap();
    let line = doctor_line(Some(tmp.path()), "lightgbm 4.7.0");
    assert!(
        line.starts_with("MISSING") && line.contains("tests/dev setup"),
        "{line}"
    );

    // The right name and place, but not a shared object (a stub, a failed download).
    let tmp = tempfile::tempdir().unwrap();
    let tools = fixture(
        tmp.path(),
        "lightgbm-4.7.0/lib_lightgbm.so",
        b"not a library",
    );
    let line = doctor_line(Some(&tools), "lightgbm 4.7.0");
    assert!(line.starts_with("MISSING"), "{line}");

    // A real library, but of another LightGBM release: the bindings would not match.
    let tmp = tempfile::tempdir().unwrap();
    let tools = fixture(tmp.path(), "lightgbm-4.6.0/lib_lightgbm.so", &bytes);
    let line = doctor_line(Some(&tools), "lightgbm 4.7.0");
    assert!(line.starts_with("MISSING"), "{line}");

    // The wheel's library: found, with where.
    let tmp = tempfile::tempdir().unwrap();
    let tools = fixture(tmp.path(), "lightgbm-4.7.0/lib_lightgbm.so", &bytes);
    let line = doctor_line(Some(&tools), "lightgbm 4.7.0");
    assert!(
        line.starts_with("ok") && line.contains("lightgbm-4.7.0/lib_lightgbm.so"),
        "{line}"
    );
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
