//! Editing one pipeline trigger token (its owner while Maintainer+, or an admin; anyone else
//! gets 404): the description and the token's policy (`allowed_refs`, `allowed_variables`,
//! `required_variables`, `max_variable_value_bytes`), and Rotate with a grace period, the new
//! token shown once.
//!
//! Both writes are the API's own handlers (`PUT /projects/:id/triggers/:id` and `POST
//! …/rotate`) called with the viewer as the caller, so the policy is parsed and checked by
//! `api::trigger_policy` and the rotation limits are the API's.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use super::session::{MaybeViewer, Viewer};
use super::triggers::{check_form, maintained, token_page};
use super::view::{self, Chrome};
use super::{WebError, WebResult};
use crate::api::access::ProjectAccess;
use crate::api::params::{ParamLimits, Params};
use crate::api::triggers as rules;
use crate::auth;
use crate::db::triggers::{self as store, TriggerRow};
use crate::error::ApiError;
use crate::model;
use crate::state::AppState;

/// The grace periods the rotate form offers (seconds, label); the API accepts 0 to 30 days.
const GRACE_PERIODS: &[(i64, &str)] = &[
    (0, "none: the current token stops working at once"),
    (3600, "1 hour"),
    (86_400, "24 hours"),
    (604_800, "7 days"),
    (2_592_000, "30 days"),
];
/// The API's default grace period (24 hours).
const DEFAULT_GRACE: i64 = 86_400;

/// The policy lists of the form: one entry per line (commas also separate).
const LIST_FIELDS: [&str; 3] = ["allowed_refs", "allowed_variables", "required_variables"];

/// A `<select>` option.
struct GraceOption {
    seconds: i64,
    label: &'static str,
    selected: bool,
}

fn grace_options(selected: i64) -> Vec<GraceOption> {
    GRACE_PERIODS
        .iter()
        .map(|(s, l)| GraceOption { seconds: *s, label: l, selected: *s == selected })
        .collect()
}

#[derive(Template)]
#[template(path = "trigger_edit.html")]
struct EditPage {
    chrome: Chrome,
    path: String,
    id: i64,
    short_token: String,
    description: String,
    allowed_refs: String,
    allowed_variables: String,
    required_variables: String,
    max_variable_value_bytes: String,
    error: Option<String>,
    policy_error: Option<String>,
    nonce: String,
    grace: Vec<GraceOption>,
}

#[derive(Template)]
#[template(path = "trigger_rotate.html")]
struct RotatePage {
    chrome: Chrome,
    path: String,
    id: i64,
    short_token: String,
    description: String,
    nonce: String,
    grace_seconds: i64,
    grace_label: &'static str,
}

/// The trigger if the viewer may edit it: its owner while Maintainer+, or an admin (the API's
/// rule for `PUT /triggers/:id`); anyone else gets 404.
async fn editable(
    state: &AppState,
    viewer: &MaybeViewer,
    req: &HttpRequest,
    path: (String, String, String),
) -> WebResult<(Viewer, ProjectAccess, TriggerRow)> {
    let (ns, project, raw_id) = path;
    let (viewer, pa) = maintained(state, viewer, req, &ns, &project).await?;
    let id = raw_id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let pid = pa.project.id;
    let trigger = state.db.read(move |c| Ok(store::find(c, pid, id)?)).await?.ok_or(WebError::NotFound)?;
    if !(pa.admin || trigger.owner.id == viewer.user.id) {
        return Err(WebError::NotFound);
    }
    Ok((viewer, pa, trigger))
}

/// The form as the trigger is now.
fn edit_page(viewer: &Viewer, pa: &ProjectAccess, t: TriggerRow) -> WebResult<EditPage> {
    Ok(EditPage {
        chrome: viewer.chrome("Update trigger", None),
        path: pa.project.path_with_namespace(),
        id: t.id,
        short_token: t.short_token,
        description: t.description.unwrap_or_default(),
        allowed_refs: t.policy.allowed_refs.join("\n"),
        allowed_variables: t.policy.allowed_variables.join("\n"),
        required_variables: t.policy.required_variables.join("\n"),
        max_variable_value_bytes: t
            .policy
            .max_variable_value_bytes
            .map(|n| n.to_string())
            .unwrap_or_default(),
        error: None,
        policy_error: None,
        nonce: auth::new_nonce()?,
        grace: grace_options(DEFAULT_GRACE),
    })
}

/// `GET /:namespace/:project/-/triggers/:id/edit`
pub async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
) -> WebResult<HttpResponse> {
    let (viewer, pa, trigger) = editable(&state, &viewer, &req, path.into_inner()).await?;
    view::render(&edit_page(&viewer, &pa, trigger)?)
}

/// A policy list as typed (lines or commas) in the API's comma-separated form; blank empties.
fn list_param(raw: &str) -> String {
    raw.split(['\n', ',']).map(str::trim).filter(|e| !e.is_empty()).collect::<Vec<_>>().join(",")
}

/// What an API error says, without JSON quotes.
pub(super) fn api_message(e: &ApiError) -> String {
    match e {
        ApiError::Message(_, serde_json::Value::String(s)) => s.clone(),
        other => other.to_string(),
    }
}

/// `POST /:namespace/:project/-/triggers/:id/edit`: the description and the policy through
/// `PUT /projects/:id/triggers/:id`; a rejected policy re-renders the form with the API's
/// message (422) and changes nothing.
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (viewer, pa, trigger) = editable(&state, &viewer, &req, path.into_inner()).await?;
    let form = viewer.form(&body)?;
    let description = form.text("description").unwrap_or_default().to_string();
    let mut page = edit_page(&viewer, &pa, trigger.clone())?;
    page.description = description.clone();
    page.allowed_refs = form.get("allowed_refs").unwrap_or_default().to_string();
    page.allowed_variables = form.get("allowed_variables").unwrap_or_default().to_string();
    page.required_variables = form.get("required_variables").unwrap_or_default().to_string();
    page.max_variable_value_bytes = form.text("max_variable_value_bytes").unwrap_or_default().to_string();
    let (error, _, _) = check_form(&description, "", model::today());
    if let Some(error) = error {
        page.error = Some(error);
        return view::render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let mut pairs = vec![
        ("description".to_string(), description),
        ("max_variable_value_bytes".to_string(), page.max_variable_value_bytes.clone()),
    ];
    for key in LIST_FIELDS {
        pairs.push((key.to_string(), list_param(form.get(key).unwrap_or_default())));
    }
    let params = Params::try_from_pairs(pairs, &ParamLimits::from_config(&state.config.limits))?;
    let target = web::Path::from((pa.project.id.to_string(), trigger.id.to_string()));
    match rules::update(viewer.caller(), req.clone(), state.clone(), target, params).await {
        Ok(_) => {}
        Err(e) if e.status_code() == StatusCode::BAD_REQUEST => {
            page.policy_error = Some(api_message(&e));
            return view::render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return Err(e.into()),
    }
    let path = pa.project.path_with_namespace();
    Ok(view::see_other(&format!("/{path}/-/settings/ci_cd?flash=trigger_updated#js-pipeline-triggers")))
}

/// `POST /:namespace/:project/-/triggers/:id/rotate`: without `confirm=1` a confirmation page;
/// with it, `POST …/rotate` of the API with `grace_period`, and the new token shown once. The
/// edit form's one-time nonce keeps a reload from rotating again.
pub async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (viewer, pa, trigger) = editable(&state, &viewer, &req, path.into_inner()).await?;
    let form = viewer.form(&body)?;
    let nonce = form.nonce()?;
    let grace = form
        .text("grace_period")
        .map(|g| g.parse::<i64>().ok().and_then(|n| GRACE_PERIODS.iter().find(|(s, _)| *s == n)))
        .unwrap_or_else(|| GRACE_PERIODS.iter().find(|(s, _)| *s == DEFAULT_GRACE))
        .ok_or_else(|| WebError::BadRequest("grace_period does not have a valid value".into()))?;
    let path = pa.project.path_with_namespace();
    if form.get("confirm") != Some("1") {
        let page = RotatePage {
            chrome: viewer.chrome("Rotate trigger token", None),
            path,
            id: trigger.id,
            short_token: trigger.short_token,
            description: trigger.description.unwrap_or_default(),
            nonce,
            grace_seconds: grace.0,
            grace_label: grace.1,
        };
        return view::render(&page);
    }
    if let Some(replayed) = viewer
        .replayed(
            &state,
            &nonce,
            "Token already created",
            format!("/{path}/-/settings/ci_cd#js-pipeline-triggers"),
            "Back to pipeline trigger tokens",
        )
        .await?
    {
        return Ok(replayed);
    }
    let params = Params::try_from_pairs(
        [("grace_period", grace.0.to_string())],
        &ParamLimits::from_config(&state.config.limits),
    )?;
    let target = web::Path::from((pa.project.id.to_string(), trigger.id.to_string()));
    let resp = rules::rotate(viewer.caller(), req.clone(), state.clone(), target, params).await?;
    let body = actix_web::body::to_bytes(resp.into_body())
        .await
        .map_err(|e| WebError::Internal(format!("reading the rotated token: {e}")))?;
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string))
        .ok_or_else(|| WebError::Internal("the rotated token is missing".into()))?;
    let note = if grace.0 == 0 {
        "The previous token stopped working.".to_string()
    } else {
        format!("The previous token keeps working for {}.", grace.1)
    };
    let chrome = viewer.chrome("Pipeline trigger token rotated", None);
    token_page(&req, &state, &pa, chrome, token, trigger.description.unwrap_or_default(), Some(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_lists_may_be_typed_one_per_line_or_with_commas() {
        assert_eq!(list_param("main\r\n release/*\n\n v*, hotfix"), "main,release/*,v*,hotfix");
        assert_eq!(list_param("  \n"), "");
    }

    #[test]
    fn the_default_grace_period_is_offered_and_selected() {
        let options = grace_options(DEFAULT_GRACE);
        assert_eq!(options.iter().filter(|o| o.selected).count(), 1);
        assert!(options.iter().any(|o| o.seconds == 0));
    }
}
