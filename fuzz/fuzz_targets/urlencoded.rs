#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| triggerd_fuzz::urlencoded(data));
