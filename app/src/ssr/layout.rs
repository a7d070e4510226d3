//! The server-side layout, checked on every test run.
//!
//! Every file under `src/ssr/` is parsed (with `syn`) and every path it
//! names that starts with `crate::`, `super::` or `self::` (in `use`
//! declarations, expressions, types and attributes outside test modules)
//! is resolved to the module file it reaches. On that graph:
//!
//! 1. there is no import cycle among the server-side modules;
//! 2. nothing server-side names `crate::pages` or `crate::components`;
//! 3. dependencies between domains run one way:
//!    `ops → reports → notify → veeam → jobs → accounts → infra`;
//! 4. no domain reads another domain's `store` (its tables' SQL), and
//!    neither do the server functions in `src/api/` nor the `server`
//!    crate outside its tests (routes, handlers, scheduler, CLI).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use syn::visit::Visit;

/// The domains, lowest first: a module may depend on its own domain and
/// on lower ones only.
const DOMAINS: [&str; 7] = ["infra", "accounts", "jobs", "veeam", "notify", "reports", "ops"];

type ModPath = Vec<String>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `src/ssr/jobs/store.rs` → `[ssr, jobs, store]`.
fn module_of(file: &Path) -> ModPath {
    let relative = file.strip_prefix(src()).unwrap_or(file).with_extension("");
    relative.iter().map(|part| part.to_string_lossy().into_owned()).collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr.parse_args::<syn::Meta>().is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

/// Collects the absolute module paths a file names.
struct Names {
    /// The module the visitor is in (the file's, plus inline modules).
    here: ModPath,
    found: Vec<ModPath>,
    /// Reading another crate: only paths through `app::` count, as `crate::` here.
    through_app: bool,
}

impl Names {
    fn resolve(&self, segments: &[String]) -> Option<ModPath> {
        let (first, rest) = segments.split_first()?;
        if self.through_app {
            return (first == "app").then(|| rest.to_vec());
        }
        let mut base = match first.as_str() {
            "crate" => vec![],
            "self" => self.here.clone(),
            "super" => {
                let mut up = self.here.clone();
                up.pop();
                up
            }
            _ => return None,
        };
        let mut rest = rest.iter().peekable();
        while rest.peek().is_some_and(|s| *s == "super") {
            base.pop();
            rest.next();
        }
        base.extend(rest.cloned());
        Some(base)
    }

    fn add(&mut self, segments: Vec<String>) {
        if let Some(path) = self.resolve(&segments) {
            self.found.push(path);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                if n.ident != "self" {
                    path.push(n.ident.to_string());
                }
                self.add(path);
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                if r.ident != "self" {
                    path.push(r.ident.to_string());
                }
                self.add(path);
            }
            syn::UseTree::Glob(_) => self.add(prefix.clone()),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if is_test_only(&item.attrs) || item.content.is_none() {
            return;
        }
        self.here.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.here.pop();
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if !is_test_only(&item.attrs) {
            self.use_tree(&mut vec![], &item.tree);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.add(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }
}

/// Every module a file names, resolved to the longest known module.
fn names_in(file: &Path, modules: &BTreeSet<ModPath>) -> BTreeSet<ModPath> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
    let mut names = Names { here: module_of(file), found: vec![], through_app: false };
    names.visit_file(&parsed);
    names
        .found
        .into_iter()
        .map(|path| {
            (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains(prefix))
                .unwrap_or_else(|| path.iter().take(1).cloned().collect())
        })
        .collect()
}

struct Graph {
    /// module → the server-side modules it names.
    edges: BTreeMap<ModPath, BTreeSet<ModPath>>,
    /// module → the other (non-server) modules it names.
    outside: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

fn graph() -> Graph {
    let mut files = vec![src().join("ssr.rs")];
    rust_files(&src().join("ssr"), &mut files);
    let mut all = vec![];
    rust_files(&src(), &mut all);
    let modules: BTreeSet<ModPath> = all.iter().map(|f| module_of(f)).collect();
    let mut edges = BTreeMap::new();
    let mut outside = BTreeMap::new();
    for file in &files {
        let here = module_of(file);
        let (inside, other): (BTreeSet<_>, BTreeSet<_>) = names_in(file, &modules)
            .into_iter()
            .filter(|m| *m != here && !m.is_empty())
            .partition(|m| m.first().is_some_and(|s| s == "ssr"));
        edges.insert(here.clone(), inside);
        outside.insert(here, other);
    }
    Graph { edges, outside }
}

fn name(module: &ModPath) -> String {
    module.join("::")
}

fn domain(module: &ModPath) -> Option<usize> {
    module.get(1).and_then(|d| DOMAINS.iter().position(|x| x == d))
}

/// The cycles of the graph (Tarjan's strongly connected components with
/// more than one module, or a module naming itself).
fn cycles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        found: Vec<Vec<ModPath>>,
    }
    fn connect<'a>(s: &mut State<'a>, v: &'a ModPath) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            let Some((w, _)) = edges.get_key_value(w) else { continue };
            if !s.index.contains_key(w) {
                connect(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = vec![];
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on_stack: BTreeSet::new(),
        found: vec![],
    };
    for v in edges.keys() {
        if !state.index.contains_key(v) {
            connect(&mut state, v);
        }
    }
    state.found
}

#[test]
fn there_is_no_import_cycle_among_the_server_side_modules() {
    let graph = graph();
    assert!(graph.edges.len() > 30, "the server-side modules were found ({})", graph.edges.len());
    let found: Vec<String> =
        cycles(&graph.edges).iter().map(|c| c.iter().map(name).collect::<Vec<_>>().join(" ↔ ")).collect();
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn nothing_server_side_imports_the_ui() {
    let graph = graph();
    let offending: Vec<String> = graph
        .outside
        .iter()
        .flat_map(|(from, to)| to.iter().map(move |t| (from, t)))
        .filter(|(_, to)| matches!(to.first().map(String::as_str), Some("pages" | "components")))
        .map(|(from, to)| format!("{} names {}", name(from), name(to)))
        .collect();
    assert!(offending.is_empty(), "server-side code imports the UI:\n{}", offending.join("\n"));
}

#[test]
fn domains_depend_one_way_and_keep_their_stores_to_themselves() {
    let graph = graph();
    let mut wrong = vec![];
    for (from, targets) in &graph.edges {
        for to in targets {
            let (Some(a), Some(b)) = (domain(from), domain(to)) else { continue };
            if a < b {
                wrong.push(format!("{} (a lower domain) names {}", name(from), name(to)));
            }
            if a != b && to.get(2).is_some_and(|m| m == "store") {
                wrong.push(format!("{} reads another domain's store: {}", name(from), name(to)));
            }
        }
    }
    // The server functions call services, never stores.
    let mut api = vec![];
    rust_files(&src().join("api"), &mut api);
    api.push(src().join("api.rs"));
    let mut all = vec![];
    rust_files(&src(), &mut all);
    let modules: BTreeSet<ModPath> = all.iter().map(|f| module_of(f)).collect();
    for file in &api {
        for to in names_in(file, &modules) {
            if to.first().is_some_and(|s| s == "ssr") && to.get(2).is_some_and(|m| m == "store") {
                wrong.push(format!("{} reads a store: {}", name(&module_of(file)), name(&to)));
            }
        }
    }
    // Nor does the server crate, outside its tests.
    let mut server = vec![];
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src"), &mut server);
    assert!(!server.is_empty(), "the server crate's sources were found");
    for file in &server {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let parsed =
            syn::parse_file(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let mut names = Names { here: vec![], found: vec![], through_app: true };
        names.visit_file(&parsed);
        for to in names.found {
            if to.first().is_some_and(|s| s == "ssr") && to.get(2).is_some_and(|m| m == "store") {
                wrong.push(format!("{} reads a store: {}", file.display(), name(&to)));
            }
        }
    }
    assert!(wrong.is_empty(), "layout rules broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_checker_sees_a_cycle_when_there_is_one() {
    let m = |s: &str| s.split("::").map(str::to_owned).collect::<ModPath>();
    let edges: BTreeMap<ModPath, BTreeSet<ModPath>> = [
        (m("ssr::a"), [m("ssr::b")].into()),
        (m("ssr::b"), [m("ssr::c")].into()),
        (m("ssr::c"), [m("ssr::a")].into()),
        (m("ssr::d"), [m("ssr::a")].into()),
    ]
    .into();
    let found = cycles(&edges);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].len(), 3);
    let names = Names { here: m("ssr::jobs::store::runs"), found: vec![], through_app: false };
    assert_eq!(names.resolve(&m("super::jobs::JobRow")), Some(m("ssr::jobs::store::jobs::JobRow")));
    assert_eq!(names.resolve(&m("super::super::ingest")), Some(m("ssr::jobs::ingest")));
    assert_eq!(names.resolve(&m("crate::ssr::infra::db::Db")), Some(m("ssr::infra::db::Db")));
    assert_eq!(names.resolve(&m("chrono::Utc")), None);
}
