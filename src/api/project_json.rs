//! GitLab's Project JSON: `BasicProjectDetails` ([`basic_project_json`]) and `ProjectDetails`
//! ([`project_json`]), which every project endpoint returns.

use serde_json::{Value, json};

use crate::db::projects::ProjectView;

/// GitLab's `BasicProjectDetails`: the project fields every project entity starts with (the job
/// token allowlist shows exactly these).
pub fn basic_project_json(p: &crate::db::projects::ProjectRow, base: &str) -> Value {
    let full_path = p.path_with_namespace();
    let web_url = format!("{base}/{full_path}");
    json!({
        "id": p.id,
        "description": p.description,
        "name": p.name,
        "name_with_namespace": p.name_with_namespace(),
        "path": p.path,
        "path_with_namespace": full_path,
        "created_at": p.created_at,
        "default_branch": p.default_branch,
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": format!("git@{}:{full_path}.git", ssh_host(base)),
        "http_url_to_repo": format!("{web_url}.git"),
        "web_url": web_url,
        "readme_url": null,
        "avatar_url": null,
        "forks_count": 0,
        "star_count": 0,
        "last_activity_at": p.updated_at,
        "namespace": {
            "id": p.namespace_id,
            "name": p.namespace_short_name,
            "path": p.namespace_path,
            "kind": p.namespace_kind,
            "full_path": p.namespace,
            "parent_id": p.namespace_parent_id,
            "avatar_url": null,
            "web_url": super::namespaces::web_url(base, &p.namespace_kind, &p.namespace),
        },
    })
}

/// GitLab's project JSON (`ProjectDetails`). `permissions` only for an authenticated viewer.
pub fn project_json(v: &ProjectView, base: &str, with_permissions: bool) -> Value {
    let p = &v.project;
    let mut out = basic_project_json(p, base);
    if let Value::Object(map) = &mut out {
        let more = json!({
            "updated_at": p.updated_at,
            "visibility": p.visibility,
            "empty_repo": v.empty_repo,
            "archived": false,
            "creator_id": p.creator_id,
            "open_issues_count": 0,
            "jobs_enabled": true,
            "builds_access_level": "enabled",
            "ci_config_path": null,
        });
        if let Value::Object(more) = more {
            map.extend(more);
        }
        // GitLab shows `owner` for projects in a personal namespace only.
        if let Some(owner) = &v.owner {
            map.insert("owner".into(), json!(super::entities::UserBasic::new(owner, base)));
        }
    }
    if with_permissions && let Value::Object(map) = &mut out {
        let access = |level: Option<i64>| match level {
            Some(level) => json!({"access_level": level, "notification_level": 3}),
            None => Value::Null,
        };
        map.insert(
            "permissions".into(),
            json!({"project_access": access(v.caller_direct_level), "group_access": access(v.caller_group_level)}),
        );
    }
    out
}

/// The host part of the base URL, for `git@host:…` (no scheme, port or path).
fn ssh_host(base: &str) -> &str {
    let authority = base.split_once("://").map_or(base, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.split(':').next().unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ssh_host_drops_scheme_and_port() {
        assert_eq!(ssh_host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(ssh_host("https://git.example.com"), "git.example.com");
        assert_eq!(ssh_host("http://[::1]:80/x"), "::1");
    }
}
