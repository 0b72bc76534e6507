//! The code's shape, checked: no import circles between the modules of a crate (a shared type
//! two modules need goes down into a leaf module), and no source file past 1000 lines.
//!
//! A module's edges are the `crate::…` and `super::…` paths in its code (comments and the
//! `#[cfg(test)]` tail left out), resolved to the longest module prefix; a module's own
//! submodules and its ancestors do not count (a parent declares its children).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Module path of a file under `src` (`run/config.rs` → `run::config`, `lib.rs` → ``).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Paths `crate::a::b…` / `super::a…` in `text`, as segment lists relative to the crate.
fn paths(module: &str, text: &str) -> Vec<Vec<String>> {
    let mut out = vec![];
    let bytes = text.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let rest: String = text[from..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segs: Vec<String> = rest
                .split("::")
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            if start == "super::" {
                let mut parent: Vec<String> = module
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                parent.pop();
                parent.extend(segs);
                segs = parent;
            }
            out.push(segs);
        }
    }
    out
}

fn cycles(src: &Path) -> Vec<Vec<String>> {
    let mut files = vec![];
    rust_files(src, &mut files);
    let mods: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, f) in &mods {
        let text = code(&std::fs::read_to_string(f).unwrap());
        let e = edges.entry(m.clone()).or_default();
        for segs in paths(m, &text) {
            for k in (1..=segs.len()).rev() {
                let cand = segs[..k].join("::");
                if mods.contains_key(&cand) {
                    let own_child = m.is_empty() || cand.starts_with(&format!("{m}::"));
                    let ancestor = m.starts_with(&format!("{cand}::"));
                    if cand != *m && !own_child && !ancestor {
                        e.insert(cand);
                    }
                    break;
                }
            }
        }
    }
    // Strongly connected components (Tarjan); any with more than one module is a circle.
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit(t: &mut T<'_>, v: &str) {
        t.index.insert(v.into(), t.next);
        t.low.insert(v.into(), t.next);
        t.next += 1;
        t.stack.push(v.into());
        t.on.insert(v.into());
        let ws: Vec<String> = t.edges[v].iter().cloned().collect();
        for w in ws {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let l = t.low[v].min(t.low[&w]);
                t.low.insert(v.into(), l);
            } else if t.on.contains(&w) {
                let l = t.low[v].min(t.index[&w]);
                t.low.insert(v.into(), l);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = vec![];
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        next: 0,
        out: vec![],
    };
    let all: Vec<String> = edges.keys().cloned().collect();
    for v in all {
        if !t.index.contains_key(&v) {
            visit(&mut t, &v);
        }
    }
    t.out
}

const CRATES: [&str; 12] = [
    "cli/src",
    "jobs/src",
    "collectors/src",
    "sql/src",
    "warehouse/src",
    "warehouse/store/src",
    "pipelines/src",
    "pipelines/trade/src",
    "pipelines/models/src",
    "pipelines/polars/src",
    "pipelines/lgbm/src",
    "pipelines/onnx/src",
];

#[test]
fn no_import_circles_in_any_crate() {
    let mut found = vec![];
    for c in CRATES {
        for comp in cycles(&root().join(c)) {
            found.push(format!("{c}: {}", comp.join(" ↔ ")));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_checker_finds_a_circle() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "// crate::c in a comment is not an edge\npub struct B(crate::a::A);\n",
    )
    .unwrap();
    assert_eq!(cycles(src), vec![vec!["a".to_string(), "b".to_string()]]);
    std::fs::write(src.join("b.rs"), "pub struct B;\n").unwrap();
    assert!(cycles(src).is_empty());
}

#[test]
fn no_source_file_past_a_thousand_lines() {
    let mut long = vec![];
    for c in CRATES {
        let mut files = vec![];
        rust_files(&root().join(c), &mut files);
        for f in files {
            let n = std::fs::read_to_string(&f).unwrap().lines().count();
            if n > 1000 {
                long.push(format!("{} ({n} lines)", f.display()));
            }
        }
    }
    assert!(long.is_empty(), "split these by responsibility: {long:?}");
}
