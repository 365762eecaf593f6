//! The tree of scopes must route every request exactly as the flat route list did: the same
//! route, or the same 405, or the same JSON 404.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use actix_web::http::Method;
use actix_web::test as actix_test;
use actix_web::{App, HttpResponse, Resource, web};

use super::{Node, plan};
use crate::api::{API_PREFIX, OtherMethods, RoutePath, api_scope, build, no_route};

fn route(index: usize, path: &str) -> Node {
    Node::Route { index, path: path.to_string() }
}

#[test]
fn static_siblings_become_scopes_and_a_lone_route_stays_a_route() {
    let nodes = plan(&["/users", "/projects/{id}/jobs", "/projects/{id}/jobs/{job_id}", "/version"]);
    assert_eq!(
        nodes,
        vec![
            route(0, "/users"),
            Node::Scope {
                prefix: "/projects".into(),
                children: vec![Node::Scope {
                    prefix: "/{id}".into(),
                    children: vec![Node::Scope {
                        prefix: "/jobs".into(),
                        children: vec![route(1, ""), route(2, "/{job_id}")],
                    }],
                }],
            },
            route(3, "/version"),
        ]
    );
}

#[test]
fn static_routes_next_to_a_parameter_stay_routes_ahead_of_the_parameters_scope() {
    let nodes = plan(&[
        "/pipelines",
        "/pipelines/latest",
        "/pipelines/{pipeline_id}",
        "/pipelines/{pipeline_id}/jobs",
    ]);
    let Node::Scope { children, .. } = &nodes[0] else { panic!("{nodes:?}") };
    assert_eq!(
        children,
        &vec![
            route(0, ""),
            route(1, "/latest"),
            Node::Scope { prefix: "/{pipeline_id}".into(), children: vec![route(2, ""), route(3, "/jobs")] },
        ]
    );
}

#[test]
fn two_parameters_or_a_segment_spanning_parameter_leave_their_level_in_registration_order() {
    let nodes = plan(&["/users/{id}", "/users/{id}/block", "/users/{user_id}/tokens"]);
    let Node::Scope { children, .. } = &nodes[0] else { panic!("{nodes:?}") };
    assert_eq!(children, &vec![route(0, "/{id}"), route(1, "/{id}/block"), route(2, "/{user_id}/tokens")]);

    let nodes = plan(&["/files/{path:.+}/raw", "/files/{path:.+}"]);
    let Node::Scope { children, .. } = &nodes[0] else { panic!("{nodes:?}") };
    assert_eq!(children, &vec![route(0, "/{path:.+}/raw"), route(1, "/{path:.+}")]);
}

#[test]
fn a_trailing_slash_route_is_never_a_scope() {
    let nodes = plan(&["/runners", "/runners/", "/runners/all"]);
    let Node::Scope { children, .. } = &nodes[0] else { panic!("{nodes:?}") };
    assert_eq!(children, &vec![route(0, ""), route(1, "/"), route(2, "/all")]);
}

/// A registered API route, standing in for its real handlers: each method it has answers with
/// the route's index, and a method it lacks with the same 405 (or fall-through) as the real one.
#[derive(Clone)]
struct Probe {
    index: usize,
    path: String,
    other: OtherMethods,
    methods: Vec<Method>,
}

impl RoutePath for Probe {
    fn path(&self) -> &str {
        &self.path
    }
}

impl Probe {
    fn resource(&self, path: &str) -> Resource {
        let mut resource = self.other.resource(path);
        for method in &self.methods {
            let answer = format!("route {} {method}", self.index);
            resource = resource.route(web::method(method.clone()).to(move || {
                let answer = answer.clone();
                async move { HttpResponse::Ok().body(answer) }
            }));
        }
        if self.other == OtherMethods::NotAllowed {
            let answer = format!("405 from route {}", self.index);
            resource = resource.default_service(web::to(move || {
                let answer = answer.clone();
                async move { HttpResponse::MethodNotAllowed().body(answer) }
            }));
        }
        resource
    }
}

fn probes() -> Vec<Probe> {
    build()
        .api
        .iter()
        .enumerate()
        .map(|(index, r)| Probe {
            index,
            path: r.path.clone(),
            other: r.other,
            methods: r.routes.methods.clone(),
        })
        .collect()
}

/// Paths to try for every route: its pattern with each parameter set to a number, to every literal
/// segment of the API (so `/pipelines/latest` meets `/pipelines/{pipeline_id}`) and to an encoded
/// slash; each also with a trailing slash, one segment more and one segment less.
fn sample_paths(probes: &[Probe]) -> BTreeSet<String> {
    let mut literals: BTreeSet<String> = ["5", "a%2Fb", "a/b", ""].into_iter().map(String::from).collect();
    for p in probes {
        literals.extend(p.path.split('/').filter(|s| !s.contains('{')).map(String::from));
    }
    let mut paths = BTreeSet::new();
    for p in probes {
        let segments: Vec<&str> = p.path.split('/').collect();
        let params: Vec<usize> = (0..segments.len()).filter(|&i| segments[i].contains('{')).collect();
        let fill = |chosen: Option<(usize, &str)>| -> String {
            let filled: Vec<&str> = segments
                .iter()
                .enumerate()
                .map(|(i, s)| match chosen {
                    Some((at, value)) if at == i => value,
                    _ if s.contains('{') => "5",
                    _ => s,
                })
                .collect();
            filled.join("/")
        };
        let mut bases = vec![fill(None)];
        for &at in &params {
            bases.extend(literals.iter().map(|v| fill(Some((at, v)))));
        }
        for base in bases {
            let shorter = base.rsplit_once('/').map(|(head, _)| head.to_string()).unwrap_or_default();
            paths.extend([format!("{base}/"), format!("{base}/extra"), shorter, base]);
        }
    }
    paths.extend(["".to_string(), "/".to_string(), "/nope".to_string()]);
    paths
}

/// The status and body `$service` gives `$method $uri`.
macro_rules! answer {
    ($service:expr, $method:expr, $uri:expr) => {{
        let req = actix_test::TestRequest::default().method($method.clone()).uri($uri).to_request();
        let resp = actix_test::call_service($service, req).await;
        let status = resp.status();
        (status, String::from_utf8(actix_test::read_body(resp).await.to_vec()).unwrap())
    }};
}

#[actix_web::test]
async fn the_tree_of_scopes_answers_every_request_as_the_flat_route_list_does() {
    let probes = probes();
    let flat = probes
        .iter()
        .fold(web::scope(API_PREFIX), |scope, p| scope.service(p.resource(&p.path)))
        .default_service(web::to(no_route));
    let flat = actix_test::init_service(App::new().service(flat)).await;
    let tree = api_scope(probes.clone(), |p, path| p.resource(path));
    let tree = actix_test::init_service(App::new().service(tree)).await;

    let methods = [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    let paths = sample_paths(&probes);
    assert!(paths.len() > 1_000, "{} paths", paths.len());
    let mut routed = BTreeSet::new();
    for path in &paths {
        let uri = format!("{API_PREFIX}{path}");
        for method in &methods {
            let expected = answer!(&flat, method, &uri);
            let got = answer!(&tree, method, &uri);
            assert_eq!(got, expected, "{method} {uri}");
            if expected.1.starts_with("route ") {
                routed.insert(expected.1.split(' ').nth(1).unwrap().to_string());
            }
        }
    }
    // Every route was reached by some sample, so every route's place in the tree was checked.
    assert_eq!(routed.len(), probes.len());
}
