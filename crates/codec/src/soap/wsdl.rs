//! The service description: a WSDL 1.1 template (`wsdl.xml`, a file one can read and diff
//! against SuperOffice's own `WcfUser.wsdl`) with the version's namespace, action and address
//! put in, and the lines of 8.0 and later kept or dropped.

use super::write::push_escaped;
use super::{action, has_extra_info, namespace};

/// The template: `{{NAMESPACE}}`, `{{ACTION}}` and `{{LOCATION}}` are replaced; a line that
/// starts with `{{80+}}` belongs to the 8.x contract (`ExtraInfo`) and is dropped for 7.x.
const TEMPLATE: &str = include_str!("wsdl.xml");

/// The marker of a line only 8.0 and later declare.
const SINCE_80: &str = "{{80+}}";

/// The WSDL 1.1 of `ChangeOwnPassword` in a version: document/literal wrapped, one SOAP 1.1
/// binding, `soap:address` at `address`.
///
/// As in SuperOffice's published `WcfUser.wsdl`, the request headers `ApplicationToken`,
/// `Credentials` and `TimeZone` and the reply headers `ExceptionInfo`, `ExtraInfo` (8.0 and
/// later, SPEC §9), `Succeeded` and `TimeZone` are declared as `soap:header` parts with their
/// types (`SoCredentials`, `SoTimeZone`, `SoExceptionInfo`, `SoExtraInfo`), so generated
/// clients (WCF, zeep, PHP's `SoapClient`) send and read them.
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// let wsdl = soap::wsdl(86, "http://gw.example/Remote/Services86/User.svc");
/// assert!(wsdl.contains(r#"<soap:address location="http://gw.example/Remote/Services86/User.svc"/>"#));
/// assert!(wsdl.contains(r#"soapAction="http://www.superoffice.net/ws/crm/NetServer/Services86/User/ChangeOwnPassword""#));
/// assert!(wsdl.contains(r#"part="ExtraInfo""#));
/// assert!(!soap::wsdl(75, "http://gw.example/").contains("ExtraInfo"));
/// ```
pub fn wsdl(version: u8, address: &str) -> String {
    let mut location = String::with_capacity(address.len());
    push_escaped(&mut location, address);
    let extra_info = has_extra_info(version);
    let mut out = String::with_capacity(TEMPLATE.len() + 4 * 64 + location.len());
    for line in TEMPLATE.split_inclusive('\n') {
        match line.strip_prefix(SINCE_80) {
            Some(line) if extra_info => out.push_str(line),
            Some(_) => {}
            None => out.push_str(line),
        }
    }
    out.replace("{{NAMESPACE}}", &namespace(version))
        .replace("{{ACTION}}", &action(version))
        .replace("{{LOCATION}}", &location)
}

#[cfg(test)]
mod tests {
    use quick_xml::events::Event;

    use super::*;

    #[test]
    fn the_wsdl_is_well_formed_and_escapes_the_address() {
        let wsdl = wsdl(85, "http://h/Remote/Services85/User.svc?a=1&b=2");
        assert!(wsdl.contains(r#"location="http://h/Remote/Services85/User.svc?a=1&amp;b=2""#));
        let mut reader = quick_xml::Reader::from_str(&wsdl);
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn every_placeholder_is_filled_in_every_version() {
        for version in super::super::VERSIONS {
            let wsdl = wsdl(version, "http://h/Remote/User.svc");
            assert!(!wsdl.contains("{{"), "{version}: {wsdl}");
            assert!(!wsdl.contains("}}"), "{version}: {wsdl}");
            // targetNamespace, xmlns:tns, the schema's targetNamespace and the action.
            assert_eq!(wsdl.matches(&namespace(version)).count(), 4, "{version}");
        }
    }

    /// The `soap:header` parts of the binding's input or output, in order.
    fn header_parts(wsdl: &str, direction: &str) -> Vec<String> {
        let binding = wsdl.find("<wsdl:binding ").unwrap();
        let start = binding
            + wsdl[binding..]
                .find(&format!("<wsdl:{direction} name="))
                .unwrap();
        let end = start + wsdl[start..].find(&format!("</wsdl:{direction}>")).unwrap();
        wsdl[start..end]
            .split("part=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
            .collect()
    }

    #[test]
    fn headers_follow_each_version_s_contract() {
        for version in super::super::VERSIONS {
            let wsdl = wsdl(version, "http://h/");
            assert_eq!(
                header_parts(&wsdl, "input"),
                ["ApplicationToken", "Credentials", "TimeZone"],
                "{version}"
            );
            let output = header_parts(&wsdl, "output");
            if version >= 80 {
                assert_eq!(
                    output,
                    ["ExceptionInfo", "ExtraInfo", "Succeeded", "TimeZone"],
                    "{version}"
                );
                assert!(wsdl.contains(
                    r#"<xs:element name="ExtraInfo" nillable="true" type="tns:SoExtraInfo"/>"#
                ));
            } else {
                assert_eq!(
                    output,
                    ["ExceptionInfo", "Succeeded", "TimeZone"],
                    "{version}"
                );
                assert!(!wsdl.contains("ExtraInfo"), "{version}");
            }
            // Every header part names an element the schema declares, with its type.
            for part in [
                "ApplicationToken",
                "Credentials",
                "TimeZone",
                "ExceptionInfo",
                "Succeeded",
            ] {
                assert!(
                    wsdl.contains(&format!(r#"<xs:element name="{part}" "#)),
                    "{version}: {part}"
                );
            }
        }
    }
}
