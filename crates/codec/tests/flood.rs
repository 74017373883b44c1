//! SPEC §2: XML is read in time linear in its size. A 64 KiB body of one element with ~9,700
//! attributes (issue 21, finding 1: ~110 ms of CPU each before) is refused at its 33rd
//! attribute, in about the time a normal body of the same size takes to read, measured in
//! the same run so a slow or busy machine slows both alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

use agentgate_codec::{Error, Limits, RequestType, decode, soap};

const SIZE: usize = 64 * 1024 - 64;

/// `<r a="" b="" …>` up to `SIZE` bytes, and `</r>`: distinct names (`a` to `Z`, then `aa`,
/// `ab`, …), so only the count can refuse it.
fn flood(open: &str, close: &str) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let name = |mut i: usize| {
        let mut name = Vec::new();
        loop {
            name.push(LETTERS[i % LETTERS.len()]);
            i /= LETTERS.len();
            if i == 0 {
                break;
            }
            i -= 1;
        }
        String::from_utf8(name).unwrap()
    };
    let mut body = open.to_owned();
    let mut i = 0;
    while body.len() < SIZE - close.len() - 12 {
        body.push_str(&format!(" {}=\"\"", name(i)));
        i += 1;
    }
    body.push('>');
    body.push_str(close);
    body
}

/// A valid request of the same size: the passwords, and text to skip.
fn normal(open: &str, passwords: &str, close: &str) -> String {
    let padding = SIZE - open.len() - passwords.len() - close.len() - "<Pad></Pad>".len() - 1;
    format!(
        "{open}>{passwords}<Pad>{}</Pad>{close}",
        "x".repeat(padding)
    )
}

/// The median of `rounds` timings of each, taken in turns.
fn medians(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let (mut times_a, mut times_b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        a();
        times_a.push(start.elapsed());
        let start = Instant::now();
        b();
        times_b.push(start.elapsed());
    }
    times_a.sort();
    times_b.sort();
    (times_a[rounds / 2], times_b[rounds / 2])
}

/// The flood may cost at most this many times a normal body of its size. Before the limit it
/// cost about a thousand times as much.
const RATIO: u32 = 4;

fn assert_linear(name: &str, flood: Duration, normal: Duration) {
    eprintln!("{name}: flood {flood:?}, normal body {normal:?}");
    assert!(
        flood < normal * RATIO + Duration::from_micros(200),
        "{name}: a 64 KiB attribute flood took {flood:?}, a normal 64 KiB body {normal:?}"
    );
}

#[test]
fn an_attribute_flood_costs_what_a_normal_body_costs() {
    let flood = flood("<r", "</r>");
    let normal = normal(
        "<r",
        "<OldPassword>o</OldPassword><NewPassword>n</NewPassword>",
        "</r>",
    );
    assert!(flood.len() <= 65_536 && normal.len() <= 65_536);
    assert!(flood.matches("=\"\"").count() > 9_000);
    let limits = Limits::default();
    assert!(matches!(
        decode(RequestType::Xml, None, flood.as_bytes(), &limits),
        Err(Error::TooManyAttributes {
            limit: 32,
            line: 1,
            column: 1
        })
    ));
    assert!(decode(RequestType::Xml, None, normal.as_bytes(), &limits).is_ok());
    let (flood_time, normal_time) = medians(
        21,
        || {
            let _ = black_box(decode(RequestType::Xml, None, flood.as_bytes(), &limits));
        },
        || {
            let _ = black_box(decode(RequestType::Xml, None, normal.as_bytes(), &limits));
        },
    );
    assert_linear("application/xml", flood_time, normal_time);
}

#[test]
fn an_attribute_flood_in_an_envelope_costs_what_a_normal_envelope_costs() {
    let open = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ChangeOwnPassword xmlns="http://www.superoffice.net/ws/crm/NetServer/Services88""#;
    let close = "</ChangeOwnPassword></s:Body></s:Envelope>";
    let flood = flood(open, close);
    let normal = normal(
        open,
        "<OldPassword>o</OldPassword><NewPassword>n</NewPassword>",
        close,
    );
    let limits = Limits::default();
    assert!(matches!(
        soap::decode_request(flood.as_bytes(), None, 88, &limits),
        Err(soap::Error::Xml(Error::TooManyAttributes { limit: 32, .. }))
    ));
    assert!(soap::decode_request(normal.as_bytes(), None, 88, &limits).is_ok());
    let (flood_time, normal_time) = medians(
        21,
        || {
            let _ = black_box(soap::decode_request(flood.as_bytes(), None, 88, &limits));
        },
        || {
            let _ = black_box(soap::decode_request(normal.as_bytes(), None, 88, &limits));
        },
    );
    assert_linear("SOAP", flood_time, normal_time);
}
