//! Fuzzes the contract parser with arbitrary NDJSON bytes: it must never
//! panic, and whatever it accepts must survive a serialise/parse round trip.
#![no_main]

use custos_core::parse::{NdjsonReader, parse_event, to_json_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in NdjsonReader::new(data) {
        let Ok(line) = line else { return };
        match line.result {
            Ok(event) => {
                let again = parse_event(&to_json_line(&event), || unreachable!("the id is written"));
                assert_eq!(again.as_ref(), Ok(&event));
            }
            Err(rejection) => assert!(!rejection.reason.is_empty()),
        }
    }
});
