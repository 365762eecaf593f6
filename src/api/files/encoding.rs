//! Git's blob id and the base64 that file contents travel in (the codec is `crate::base64`).

use sha1::{Digest, Sha1};

/// Git's blob id: SHA-1 of `blob <size>\0<content>`.
pub fn blob_sha(content: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    hex::encode(h.finalize())
}

pub use crate::base64::{base64_decode, base64_encode};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_gits() {
        // `git hash-object` of an empty file and of "hello\n".
        assert_eq!(blob_sha(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(blob_sha(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
    }

    #[test]
    fn base64_round_trips_and_refuses_garbage() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0, 255, 128, 7]] {
            let text = base64_encode(data);
            assert_eq!(base64_decode(&text).as_deref(), Some(data), "{text}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8").as_deref(), Some(&b"fo"[..]), "padding may be left out");
        assert_eq!(base64_decode("Zm9v\nYmFy\n").as_deref(), Some(&b"foobar"[..]), "line breaks are skipped");
        for bad in ["Zm9v!", "Z", "Zm8==x", "Zm8===", "Zg=", "@@@@"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }
}
