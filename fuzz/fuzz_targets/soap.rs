//! `soap::decode_request` never panics; a success is consistent and an error says nothing
//! of the body.
//!
//! The first byte picks the charset parameter (as for the other targets), the second the
//! service version among `soap::VERSIONS`, the rest is the envelope. A request read is
//! written again as a plain envelope by this target's own writer, in the same version, and
//! must read back to the same passwords, ticket, application token and time zone.

#![no_main]

use agentgate_codec::{Limits, soap};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn field(name: &str, value: &Option<String>) -> String {
    match value {
        Some(value) => format!("<{name}>{}</{name}>", common::xml_escape(value)),
        None => String::new(),
    }
}

fn envelope(request: &soap::Request) -> String {
    let ns = soap::namespace(request.version);
    let credentials = request
        .ticket
        .as_ref()
        .map(|t| format!(r#"<Credentials xmlns="{ns}"><Ticket>{}</Ticket></Credentials>"#, common::xml_escape(t)))
        .unwrap_or_default();
    let token = request
        .application_token
        .as_ref()
        .map(|t| format!(r#"<ApplicationToken xmlns="{ns}">{}</ApplicationToken>"#, common::xml_escape(t)))
        .unwrap_or_default();
    let zone = request
        .time_zone
        .as_ref()
        .map(|z| format!(r#"<TimeZone xmlns="{ns}"><SoTimeZoneLocationCode>{}</SoTimeZoneLocationCode></TimeZone>"#, common::xml_escape(z)))
        .unwrap_or_default();
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{credentials}{token}{zone}</s:Header><s:Body><ChangeOwnPassword xmlns="{ns}">{}{}</ChangeOwnPassword></s:Body></s:Envelope>"#,
        field("OldPassword", &request.old_password),
        field("NewPassword", &request.new_password),
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((charset, rest)) = common::split(data) else {
        return;
    };
    let Some((&pick, body)) = rest.split_first() else {
        return;
    };
    let version = soap::VERSIONS[usize::from(pick) % soap::VERSIONS.len()];
    let limits = Limits { max_bytes: 1 << 16, ..Limits::default() };
    match soap::decode_request(body, charset, version, &limits) {
        Ok(request) => {
            assert_eq!(request.version, version);
            let again = envelope(&request);
            let big = Limits { max_bytes: usize::MAX, ..Limits::default() };
            let decoded = soap::decode_request(again.as_bytes(), None, version, &big)
                .unwrap_or_else(|e| panic!("re-encoded request refused: {e}\n{again}"));
            assert_eq!(decoded.old_password, request.old_password);
            assert_eq!(decoded.new_password, request.new_password);
            assert_eq!(decoded.ticket, request.ticket);
            assert_eq!(decoded.application_token, request.application_token);
            // A zone read from SoTimeZoneId is written back as a location code: same text.
            assert_eq!(decoded.time_zone, request.time_zone);
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty());
            let _ = error.fault_code();
        }
    }
});
