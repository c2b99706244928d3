//! The dependency rule of ARCHITECTURE.md, checked: no import cycle between the
//! top-level modules of the server (`backend/src/<module>/` or `backend/src/<module>.rs`).
//!
//! An edge is a `crate::<module>` path written in a file of another module (comment
//! lines aside). A cycle is reported with the files that close it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Edges = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../backend/src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("backend/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `from module → to module → files of `from` naming `to``.
fn module_edges() -> Edges {
    let root = source_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut edges = Edges::new();
    for file in files {
        let relative = file.strip_prefix(&root).expect("under backend/src");
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a file name");
        let from = first.trim_end_matches(".rs").to_owned();
        let text = std::fs::read_to_string(&file).expect("a source file");
        for line in text.lines() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                let to: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !to.is_empty() && to != from {
                    edges
                        .entry(from.clone())
                        .or_default()
                        .entry(to)
                        .or_default()
                        .insert(relative.display().to_string());
                }
            }
        }
    }
    edges
}

/// A path from `start` back to itself, if there is one.
fn cycle_through(edges: &Edges, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in edges.get(&node).into_iter().flat_map(|m| m.keys()) {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_owned());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let edges = module_edges();
    assert!(
        edges.contains_key("orders") && edges.contains_key("pages"),
        "the scan found the feature folders"
    );
    let mut cycles = Vec::new();
    for module in edges.keys() {
        if let Some(cycle) = cycle_through(&edges, module) {
            let files: Vec<String> = cycle
                .windows(2)
                .map(|pair| {
                    let named = &edges[&pair[0]][&pair[1]];
                    format!(
                        "{} → {} ({})",
                        pair[0],
                        pair[1],
                        named.iter().next().unwrap()
                    )
                })
                .collect();
            cycles.push(files.join(", "));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_scan_sees_a_cycle_when_there_is_one() {
    let mut edges = module_edges();
    // `orders` uses `ledger`; a back edge closes a cycle the check must report.
    assert!(edges["orders"].contains_key("ledger"));
    edges
        .entry("ledger".to_owned())
        .or_default()
        .entry("orders".to_owned())
        .or_default()
        .insert("ledger/invented.rs".to_owned());
    assert!(cycle_through(&edges, "ledger").is_some());
}
