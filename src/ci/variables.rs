//! An ordered set of variables (`KEY` → value): declaration order is kept, a later `set` of the
//! same key replaces the value in place. Used for YAML variables, for the variables a pipeline is
//! planned against, and for the variables a planned job carries.

use std::collections::HashMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// Variables in declaration order, keys unique. Serializes as a JSON object in that order.
/// Lookups and `set` go through a key index, so building large sets stays linear.
#[derive(Debug, Clone, Default)]
pub struct Variables(Vec<(String, String)>, HashMap<String, usize>);

impl PartialEq for Variables {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Variables {}

impl Serialize for Variables {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Variables {
    pub fn new() -> Self {
        Variables::default()
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.1.get(key).map(|&i| self.0[i].1.as_str())
    }

    /// Sets `key`, replacing an earlier value in place.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.1.get(&key) {
            Some(&i) => self.0[i].1 = value,
            None => {
                self.1.insert(key.clone(), self.0.len());
                self.0.push((key, value));
            }
        }
    }

    /// A copy with every variable of `other` set over these (`other` wins).
    pub fn overlaid(&self, other: &Variables) -> Variables {
        let mut out = self.clone();
        for (k, v) in other.iter() {
            out.set(k, v);
        }
        out
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// GitLab's `ExpandVariables.expand`: `$NAME`, `${NAME}` and `%NAME%` are replaced by the
    /// variable's value, or by nothing when it is not set; one pass (values are not expanded
    /// again). Used for a `trigger:` job's `project` and `branch`.
    pub fn expand(&self, text: &str) -> String {
        let name_len = |s: &str| s.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find(['$', '%']) {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            let (name, used) = if let Some(after) = tail.strip_prefix("${") {
                let n = name_len(after);
                if n > 0 && after[n..].starts_with('}') { (Some(&after[..n]), n + 3) } else { (None, 1) }
            } else if let Some(after) = tail.strip_prefix('$') {
                let n = name_len(after);
                if n > 0 { (Some(&after[..n]), n + 1) } else { (None, 1) }
            } else {
                let after = &tail[1..];
                let n = name_len(after);
                if n > 0 && after[n..].starts_with('%') { (Some(&after[..n]), n + 2) } else { (None, 1) }
            };
            match name {
                Some(name) => out.push_str(self.get(name).unwrap_or("")),
                None => out.push_str(&tail[..1]),
            }
            rest = &tail[used..];
        }
        out.push_str(rest);
        out
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Variables {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut vars = Variables::new();
        for (k, v) in iter {
            vars.set(k, v);
        }
        vars
    }
}
