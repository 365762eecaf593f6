//! Compiled CI configurations by git blob SHA, so that a trigger call on an unchanged
//! `.gitlab-ci.yml` does not parse it again on the writer thread (YAML parsing and validation
//! were ~10 % of the server's CPU for a 5-job file).
//!
//! The key is the blob's SHA-1 of its content: a blob never changes, so nothing is ever
//! invalidated; the compilation depends on nothing else (fixed [`Limits`]). Only valid
//! configurations are kept (an invalid one is an error path, compiled each time). At most
//! [`CAPACITY`] entries; when full, the cache starts over (configurations are small and few).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::ci::{self, CiConfig, ConfigErrors, Limits};

/// The most compiled configurations kept.
pub const CAPACITY: usize = 256;

fn cache() -> &'static Mutex<HashMap<String, Arc<CiConfig>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<CiConfig>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The compiled configuration of the blob `sha` whose content is `content`.
pub fn compiled(sha: &str, content: &[u8]) -> Result<Arc<CiConfig>, ConfigErrors> {
    let lock = || cache().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(hit) = lock().get(sha) {
        return Ok(Arc::clone(hit));
    }
    let text = std::str::from_utf8(content)
        .map_err(|_| ConfigErrors(vec!["Invalid configuration format".into()]))?;
    let config = Arc::new(ci::compile(text, &Limits::default())?);
    let mut map = lock();
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(sha.to_string(), Arc::clone(&config));
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_compiled_once_and_errors_are_not_kept() {
        let yaml = b"build:\n  script: make\n";
        let a = compiled("cache-test-sha-1", yaml).unwrap();
        let b = compiled("cache-test-sha-1", b"not even read on a hit").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(compiled("cache-test-sha-2", b"build: [").is_err());
        assert!(compiled("cache-test-sha-2", yaml).is_ok(), "an error is not cached");
        assert!(compiled("cache-test-sha-3", &[0xff, 0xfe]).is_err());
    }
}
