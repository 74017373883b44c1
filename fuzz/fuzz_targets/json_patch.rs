//! `decode` of `JsonPatch` never panics and succeeds only with a consistent result.

#![no_main]

use agentgate_codec::RequestType;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::check(RequestType::JsonPatch, data, common::json_patch);
});
