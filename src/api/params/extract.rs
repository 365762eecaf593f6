//! The actix extractor for [`Params`]: reads the request body within `server.max_body_bytes`
//! and `server.body_read_timeout_secs`, then hands it to [`parse_request_params`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;

use super::{ParamLimits, Params, parse_request_params};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

impl FromRequest for Params {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { parse(req, payload).await })
    }
}

async fn parse(req: HttpRequest, payload: Payload) -> ApiResult<Params> {
    let (body_limit, timeout, limits) = match req.app_data::<web::Data<AppState>>() {
        Some(s) => (
            s.config.server.max_body_bytes,
            s.config.server.body_read_timeout_secs,
            ParamLimits::from_config(&s.config.limits),
        ),
        None => (1024 * 1024, 10, ParamLimits::default()),
    };
    let body = read_body(&req, payload, body_limit, Duration::from_secs(timeout)).await?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    parse_request_params(req.query_string().as_bytes(), content_type, &body, &limits)
}

async fn read_body(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
    timeout: Duration,
) -> ApiResult<Bytes> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge);
    }
    let read = async {
        let mut buf = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::Param(format!("the request body could not be read: {e}")))?;
            if buf.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    };
    // actix-web times out a slow request head but never a slowly dribbled body.
    actix_web::rt::time::timeout(timeout, read).await.map_err(|_| ApiError::RequestTimeout)?
}
