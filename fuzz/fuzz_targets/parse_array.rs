//! Fuzzes the JSON-array body parser used by `POST /v1/events`.
#![no_main]

use custos_core::parse::parse_json_array;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(items) = parse_json_array(text, 10_000, |i| format!("f-{i}")) {
        for item in items {
            if let Err(r) = item.result {
                assert!(r.pointer.starts_with(&format!("/{}", item.index)));
            }
        }
    }
});
