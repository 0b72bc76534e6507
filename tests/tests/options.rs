//! Every numeric option is validated when parsed: a bad value is a usage error naming the option
//! (clap's exit code 2, before any work), never a panic, a hang, or orders sent first.

mod common;

use common::elite;

#[test]
fn bad_numeric_options_are_refused_at_parse_time() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let cfg = h.join("cfg.toml");
    std::fs::write(&cfg, "name = \"x\"\n").unwrap();
    let cfg = cfg.to_str().unwrap();
    let cases: &[&[&str]] = &[
        &["run", "signals", "--rate", "0"],
        &["run", "signals", "--rate=-5"],
        &["run", "signals", "--rate", "NaN"],
        &["run", "signals", "--rate", "inf"],
        &["run", "signals", "--commit-every", "0"],
        &["run", "trader", cfg, "--rate", "0"],
        &["run", "trader", cfg, "--commit-every", "0"],
        &["run", "trader", cfg, "--live", "--follow", "0"],
        &["run", "trader", cfg, "--live", "--follow=-1"],
        &["bench", "cycle", "--cycles", "0"],
        &["bench", "cycle", "--assets", "0"],
        &["bench", "cycle", "--lookback", "1"],
        &["bench", "models", "--features", "0"],
        &["bench", "models", "--features", "1"],
        &["bench", "models", "--rows", "0"],
        &["bench", "models", "--iterations", "0"],
        &["bench", "models", "--threads", "0"],
        &["bench", "indicators", "--symbols", "0"],
        &["bench", "indicators", "--bars", "0"],
        &["bench", "signals", "--symbols", "0"],
        &["bench", "signals", "--rounds", "0"],
        &["bench", "backtest", "--symbols", "0"],
        &["bench", "backtest", "--repeat", "0"],
        &["bench", "ingest", "--rows", "0"],
        &["bench", "ingest", "--symbols", "0"],
        &["features", "build", "--horizon", "0"],
        &["signals", "show", "--limit", "0"],
        &[
            "ingest",
            "upstox-feed",
            "--replay",
            ".",
            "--flush-every",
            "0",
        ],
        &["ingest", "upstox-feed", "--keys", "X", "--max-frames", "0"],
    ];
    for args in cases {
        let out = elite(h)
            .args(*args)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let flag = args.iter().rev().find(|a| a.starts_with("--")).unwrap();
        let flag = flag.split('=').next().unwrap();
        assert!(err.contains(flag), "{args:?} does not name {flag}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
