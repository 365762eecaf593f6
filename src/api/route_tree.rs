//! The API's routes as a tree of scopes by path segment. actix matches the services of a scope in
//! order, one pattern each: registered as one flat list, a request tried every route registered
//! before its own (about 70 regexes for a pipeline read, 15 % of its server CPU; BENCHMARKS.md,
//! round four). As a tree it tries a few static prefixes and two or three patterns.
//!
//! [`plan`] is pure (route paths in, tree out); [`mount`] turns a plan into actix scopes. The tree
//! must answer every request exactly as the flat list did, which `tests` checks by sending the
//! same requests to both: a scope that matches a path's prefix never falls back to its siblings,
//! so a scope is made only where no sibling could match the same path.

use actix_web::{Resource, Route, Scope, web};

/// One place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// The route registered `index`-th, at `path` relative to its enclosing scopes.
    Route { index: usize, path: String },
    /// A scope at `prefix` (relative to its enclosing scopes) whose `children` match in order.
    Scope { prefix: String, children: Vec<Node> },
}

/// What the first segment of a path is, for grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    /// Literal text: `pipelines`, `latest`, or empty (a trailing slash).
    Static(&'a str),
    /// `{name}`: any one segment.
    Param(&'a str),
    /// Anything else (`{file_path:.+}` may span segments): never grouped.
    Opaque,
}

fn classify(segment: &str) -> Segment<'_> {
    if !segment.contains(['{', '}']) {
        return Segment::Static(segment);
    }
    match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(name) if !name.is_empty() && !name.contains(['{', '}', ':']) => Segment::Param(name),
        _ => Segment::Opaque,
    }
}

/// Plans the tree for route `paths` (each `""` or starting with `/`), given in match order.
pub fn plan(paths: &[&str]) -> Vec<Node> {
    let entries: Vec<(usize, &str)> = paths.iter().copied().enumerate().collect();
    plan_level(&entries)
}

/// One level: `entries` are `(index, rest)` with `rest` relative to this level.
///
/// - A route whose rest is empty matches only the level itself: it comes first (no other route
///   here can match an empty rest).
/// - The others are grouped by their first segment. Two static segments never match the same
///   path, so when every group is static, each group becomes a scope of its own.
/// - One `{param}` group next to static ones: the static routes are listed one by one (a scope
///   would swallow paths the parameter should get), then the parameter's group as a scope.
/// - More than one parameter group, or a segment that may span several (`{path:.+}`): nothing at
///   this level is grouped; the routes stay in registration order.
fn plan_level(entries: &[(usize, &str)]) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut groups: Vec<(Segment<'_>, Vec<(usize, &str)>)> = Vec::new();
    // The routes below this level, in registration order, with their first segment.
    let mut below: Vec<(usize, &str, Segment<'_>)> = Vec::new();
    let mut opaque = false;
    for &(index, rest) in entries {
        let Some(tail) = rest.strip_prefix('/') else {
            nodes.push(Node::Route { index, path: rest.to_string() });
            continue;
        };
        let (first, remaining) = match tail.find('/') {
            Some(at) => (&tail[..at], &tail[at..]),
            None => (tail, ""),
        };
        let segment = classify(first);
        below.push((index, rest, segment));
        opaque |= segment == Segment::Opaque;
        match groups.iter_mut().find(|(s, _)| *s == segment && segment != Segment::Opaque) {
            Some((_, members)) => members.push((index, remaining)),
            None => groups.push((segment, vec![(index, remaining)])),
        }
    }
    let params = groups.iter().filter(|(s, _)| matches!(s, Segment::Param(_))).count();
    if opaque || params > 1 {
        nodes.extend(below.iter().map(|&(index, rest, _)| Node::Route { index, path: rest.to_string() }));
        return nodes;
    }
    if params == 1 {
        // The static routes one by one, in registration order, then the parameter's group.
        for &(index, rest, segment) in &below {
            if !matches!(segment, Segment::Param(_)) {
                nodes.push(Node::Route { index, path: rest.to_string() });
            }
        }
        groups.retain(|(s, _)| matches!(s, Segment::Param(_)));
    }
    for (segment, members) in groups {
        let name = match segment {
            Segment::Static(s) => s.to_string(),
            Segment::Param(p) => format!("{{{p}}}"),
            Segment::Opaque => continue, // excluded above
        };
        nodes.extend(group(&name, &members));
    }
    nodes
}

/// The routes sharing first segment `name`: one route, or a scope at `/name`. The empty segment
/// of a trailing slash, which a scope's prefix cannot express, keeps its routes one by one.
fn group(name: &str, members: &[(usize, &str)]) -> Vec<Node> {
    if members.len() == 1 || name.is_empty() {
        let route =
            |&(index, remaining): &(usize, &str)| Node::Route { index, path: format!("/{name}{remaining}") };
        return members.iter().map(route).collect();
    }
    vec![Node::Scope { prefix: format!("/{name}"), children: plan_level(members) }]
}

/// Adds `nodes` to `scope`: `resource(index, path)` builds the resource of a route, and `fallback`
/// answers a request that enters a nested scope and matches none of its routes (actix would
/// otherwise give it the application's default service, not the enclosing scope's).
pub fn mount(
    mut scope: Scope,
    nodes: Vec<Node>,
    resource: &mut impl FnMut(usize, &str) -> Option<Resource>,
    fallback: &impl Fn() -> Route,
) -> Scope {
    for node in nodes {
        scope = match node {
            Node::Route { index, path } => match resource(index, &path) {
                Some(r) => scope.service(r),
                None => scope,
            },
            Node::Scope { prefix, children } => {
                let nested = mount(web::scope(&prefix), children, resource, fallback);
                scope.service(nested.default_service(fallback()))
            }
        };
    }
    scope
}

#[cfg(test)]
#[path = "route_tree_tests.rs"]
mod tests;
