//! The crate's layout rules, checked on its own source: no cycle in the module import graph, and no
//! source file past the size a reader can hold in their head.
//!
//! The graph has one node per source file (`src/scim/ops.rs` is `scim::ops`). A file depends on
//! every module it names through `crate::…` or `super::…` paths in code (doc comments are ignored,
//! so intra-doc links don't count); a name re-exported by `lib.rs` (`crate::User`) counts as the
//! module it comes from. A parent's `mod child;` declaration is not an import; `pub use child::X`
//! is. A file's `#[cfg(test)] mod tests` is left out: unit tests may reach anywhere. The test
//! prints every cycle it finds.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The most lines a source file may have (the project aims for ~600; this leaves a little slack).
const MAX_LINES: usize = 650;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("src/ is readable").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/scim/ops.rs` → `scim::ops`; `src/scim/mod.rs` → `scim`; `src/lib.rs` → `` (the root).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("file under src/");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts.join("::")
}

/// The code of a file without comments and string contents, so only real paths remain.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < bytes.len() && bytes[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == '*' && bytes[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            // Skip a plain string literal (raw strings in this crate hold no `crate::` paths).
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next.is_some_and(|n| n != '\\') && bytes.get(i + 2) == Some(&'\'') {
            // A char literal such as '"' or '{'.
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Expands `use` trees into full paths: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand_use_tree(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(&tree);
        return vec![path.split("as").next().unwrap_or(path).to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len().saturating_sub(1)];
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|item| !item.is_empty())
        .flat_map(expand_use_tree)
        .map(|rest| if rest == "self" { prefix.trim_end_matches("::").to_string() } else { format!("{prefix}{rest}") })
        .collect()
}

/// Every path a file names: the expanded `use` statements and `crate::…` / `super::…` paths in code.
fn named_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let boundary = at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        rest = &rest[at + 4..];
        if !boundary {
            continue;
        }
        if let Some(end) = rest.find(';') {
            paths.extend(expand_use_tree(&rest[..end]));
        }
    }
    for anchor in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(anchor) {
            let start = from + at;
            let end = code[start..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| start + e);
            paths.push(code[start..end].trim_end_matches(':').to_string());
            from = end.max(start + anchor.len());
        }
    }
    paths
}

/// Resolves a path named in `module` to the module it points into, if it is a crate module.
fn resolve(
    path: &str,
    module: &str,
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Option<String> {
    let mut segments: Vec<String> = Vec::new();
    let mut parts = path.split("::").peekable();
    match parts.peek().copied() {
        Some("crate") => {
            parts.next();
        }
        Some("super") => {
            segments = module.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
            while parts.peek() == Some(&"super") {
                parts.next();
                segments.pop();
            }
        }
        Some("self") => {
            parts.next();
            segments = module.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
        }
        _ => return None,
    }
    let rest: Vec<&str> = parts.collect();
    // `crate::User` names a root re-export: count the module it comes from.
    if segments.is_empty() {
        if let Some(first) = rest.first() {
            if !modules.contains(*first) {
                return reexports.get(*first).cloned();
            }
        }
    }
    let mut best = segments.join("::");
    for part in rest {
        segments.push(part.to_string());
        let candidate = segments.join("::");
        if modules.contains(&candidate) {
            best = candidate;
        } else {
            break;
        }
    }
    Some(best)
}

struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
}

fn build_graph() -> (Graph, Vec<(String, usize)>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let lib = code_only(&fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let mut reexports = BTreeMap::new();
    for path in named_paths(&lib) {
        let target = resolve(&format!("crate::{path}"), "", &modules, &BTreeMap::new());
        if let (Some(target), Some(name)) = (target, path.rsplit("::").next()) {
            if !target.is_empty() {
                reexports.insert(name.to_string(), target);
            }
        }
    }
    let mut edges = BTreeMap::new();
    let mut sizes = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = fs::read_to_string(file).expect("source file");
        sizes.push((file.strip_prefix(&src).unwrap_or(file).display().to_string(), text.lines().count()));
        // Unit tests may use anything; the graph is about the code that ships.
        let shipped = text.find("#[cfg(test)]\nmod tests").map_or(text.as_str(), |at| &text[..at]);
        let code = code_only(shipped);
        let deps: BTreeSet<String> = named_paths(&code)
            .iter()
            .filter_map(|p| resolve(p, &module, &modules, &reexports))
            // A file's own submodules (its unit tests, its children) are part of it.
            .filter(|d| d != &module && !d.starts_with(&format!("{module}::")) && !(module.is_empty()))
            .collect();
        edges.insert(module, deps);
    }
    (Graph { edges }, sizes)
}

/// Every strongly connected component with more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.graph.edges.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.edges.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

#[test]
fn the_module_graph_has_no_cycle() {
    let (graph, _) = build_graph();
    let found = cycles(&graph);
    let mut report = String::new();
    for component in &found {
        report.push_str(&format!("cycle of {} modules: {}\n", component.len(), component.join(", ")));
        for module in component {
            let inside: Vec<&String> = graph.edges[module].iter().filter(|d| component.contains(d)).collect();
            report.push_str(&format!("  {module} -> {inside:?}\n"));
        }
    }
    assert!(found.is_empty(), "the module import graph has cycles:\n{report}");
}

#[test]
fn no_source_file_is_too_long() {
    let (_, sizes) = build_graph();
    let long: Vec<String> =
        sizes.iter().filter(|(_, lines)| *lines > MAX_LINES).map(|(f, n)| format!("{f}: {n} lines")).collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines:\n{}", long.join("\n"));
}

#[test]
fn the_checker_sees_paths_and_cycles() {
    // The checker itself: a `use` tree expands fully, and a two-module loop is reported.
    let mut paths = expand_use_tree("crate::{a::{B, c::D}, e}");
    paths.sort();
    assert_eq!(paths, ["crate::a::B", "crate::a::c::D", "crate::e"]);
    let code = code_only("// crate::commented\nlet x = crate::real::thing(); let s = \"crate::in_string\";");
    assert_eq!(named_paths(&code), ["crate::real::thing"]);
    let mut edges = BTreeMap::new();
    edges.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    edges.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    edges.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&Graph { edges }), vec![vec!["a".to_string(), "b".to_string()]]);
}
