//! Form bodies and query strings of the pages: `application/x-www-form-urlencoded` pairs, read
//! without a schema (each handler takes the fields it knows and ignores the rest).

use actix_web::web::Bytes;

use super::{WebError, WebResult};
use crate::api::params::{ParamLimits, Params};
use crate::config::LimitsConfig;

/// Most fields a page form or query may carry.
const MAX_FIELDS: usize = 100;

/// The decoded `name=value` pairs of a form body or query string.
#[derive(Debug, Clone, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Parses a urlencoded body (`Bytes` is bounded by the server's body limit).
    pub fn from_body(body: &Bytes) -> WebResult<Fields> {
        Self::parse(body)
    }

    /// Parses a query string.
    pub fn from_query(query: &str) -> WebResult<Fields> {
        Self::parse(query.as_bytes())
    }

    fn parse(bytes: &[u8]) -> WebResult<Fields> {
        let mut pairs = Vec::new();
        for (k, v) in form_urlencoded::parse(bytes) {
            if pairs.len() == MAX_FIELDS {
                return Err(WebError::BadRequest("The form has too many fields.".into()));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Fields(pairs))
    }

    /// The first value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of `name` with surrounding whitespace removed; blank counts as absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A value that must be one of `allowed` when present and not blank: otherwise 400.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> WebResult<Option<String>> {
        match self.text(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
            Some(_) => Err(WebError::BadRequest(format!("{name} does not have a valid value"))),
        }
    }

    /// The fields as the API's parameters, so a page checks a form with the API's own rules
    /// (a field sent more than once, like checkboxes, is a list). Leaves out the form token and
    /// the nonce.
    pub fn to_params(&self, limits: &LimitsConfig) -> WebResult<Params> {
        let pairs = self.0.iter().filter(|(k, _)| k != "_csrf" && k != "nonce").cloned();
        Ok(Params::try_from_pairs(pairs, &ParamLimits::from_config(limits))?)
    }

    /// The form's one-time nonce (at most 64 characters): otherwise 400.
    pub fn nonce(&self) -> WebResult<String> {
        match self.text("nonce").filter(|n| n.len() <= 64) {
            Some(n) => Ok(n.to_string()),
            None => {
                Err(WebError::BadRequest("The form is incomplete: reload the page and try again.".into()))
            }
        }
    }

    /// A positive page number (default 1): otherwise 400.
    pub fn page(&self) -> WebResult<i64> {
        match self.text("page") {
            None => Ok(1),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| WebError::BadRequest("page is invalid".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_and_blank_values_count_as_absent() {
        let f = Fields::from_query("description=nightly+build&expires_at=&status=failed&page=2").unwrap();
        assert_eq!(f.get("description"), Some("nightly build"));
        assert_eq!(f.text("expires_at"), None);
        assert_eq!(f.one_of("status", &["failed"]).unwrap().as_deref(), Some("failed"));
        assert!(f.one_of("status", &["success"]).is_err());
        assert_eq!(f.page().unwrap(), 2);
        assert!(Fields::from_query("page=0").unwrap().page().is_err());
        assert!(Fields::from_query("page=x").unwrap().page().is_err());
    }
}
