//! `GET /api/v4/openapi.json`: the hand-written OpenAPI 3.1 document of every route
//! (`openapi/openapi.json`), served verbatim to anyone.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;

/// The document, embedded at build time.
pub const DOCUMENT: &str = include_str!("../../openapi/openapi.json");

pub fn configure(r: &mut super::Routes) {
    r.resource("/openapi.json", |m| m.get(document));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(DOCUMENT)
}
