//! Decode per request format and encode per response format, against raw `serde_json` into a
//! derived struct (the baseline), in the same run.
//!
//! `cargo bench -p agentgate-codec -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use agentgate_codec::{
    Charset, ErrorDocument, Limits, RequestType, ResponseType, decode, encode_bool, encode_error,
};
use criterion::{Criterion, criterion_main};
use serde::Deserialize;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/",
            $name
        ))
    };
}

/// What a plain serde user would write: no case-insensitivity, no duplicate or depth checks.
#[derive(Deserialize)]
struct Baseline {
    #[serde(rename = "OldPassword")]
    old_password: String,
    #[serde(rename = "NewPassword")]
    new_password: String,
}

fn decoding(c: &mut Criterion) {
    let limits = Limits::default();
    let json = fixture!("request-json.json");
    let mut group = c.benchmark_group("decode");
    group.bench_function("baseline serde_json::from_slice", |b| {
        b.iter(|| {
            let request: Baseline = serde_json::from_slice(black_box(json)).unwrap();
            black_box((request.old_password, request.new_password))
        })
    });
    let cases: [(&str, RequestType, Option<Charset>, &[u8]); 9] = [
        ("json", RequestType::Json, None, json),
        (
            "text-json",
            RequestType::TextJson,
            Some(Charset::Utf8),
            fixture!("request-text-json.json"),
        ),
        (
            "xml datacontract",
            RequestType::Xml,
            None,
            fixture!("request-xml-datacontract.xml"),
        ),
        (
            "xml plain",
            RequestType::TextXml,
            None,
            fixture!("request-xml-plain.xml"),
        ),
        (
            "xml utf-16le bom",
            RequestType::TextXml,
            None,
            fixture!("request-xml-utf16le-bom.xml"),
        ),
        (
            "form",
            RequestType::FormUrlEncoded,
            None,
            fixture!("request-form.txt"),
        ),
        (
            "json-patch",
            RequestType::JsonPatch,
            None,
            fixture!("request-json-patch.json"),
        ),
        (
            "merge-patch",
            RequestType::MergePatch,
            None,
            fixture!("request-merge-patch.json"),
        ),
        (
            "json utf-16 bom",
            RequestType::Json,
            Some(Charset::Utf16),
            &utf16(json),
        ),
    ];
    for (name, media_type, charset, body) in cases {
        group.bench_function(name, |b| {
            b.iter(|| decode(media_type, charset, black_box(body), &limits).unwrap())
        });
    }
    group.finish();
}

fn utf16(body: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(body).unwrap();
    [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

fn encoding(c: &mut Criterion) {
    let error = ErrorDocument {
        message: "The request is invalid.",
        message_detail: "the property NewPassword is missing",
        error_type: "BadRequest",
        status: 400,
    };
    let mut group = c.benchmark_group("encode");
    for (name, media_type, charset) in [
        ("bool json", ResponseType::Json, Charset::Utf8),
        ("bool xml", ResponseType::Xml, Charset::Utf8),
        ("bool xml utf-16", ResponseType::TextXml, Charset::Utf16),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| encode_bool(media_type, charset, black_box(true)))
        });
    }
    for (name, media_type, charset) in [
        ("error json", ResponseType::Json, Charset::Utf8),
        ("error xml", ResponseType::Xml, Charset::Utf8),
        (
            "error problem+json",
            ResponseType::ProblemJson,
            Charset::Utf8,
        ),
        ("error problem+xml", ResponseType::ProblemXml, Charset::Utf8),
        ("error json utf-16", ResponseType::Json, Charset::Utf16),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| encode_error(media_type, charset, black_box(&error)))
        });
    }
    group.finish();
}

mod harness {
    #![allow(
        missing_docs,
        reason = "criterion_group! writes an undocumented function"
    )]
    use super::{decoding, encoding};
    use criterion::criterion_group;

    criterion_group!(benches, decoding, encoding);
}

criterion_main!(harness::benches);
