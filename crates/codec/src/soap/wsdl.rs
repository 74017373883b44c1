//! The service description: a WSDL 1.1 template (`wsdl.xml`, a file one can read and diff
//! against SuperOffice's own) with the version's namespace, action and address put in.

use super::write::push_escaped;
use super::{action, namespace};

/// The template; `{{NAMESPACE}}`, `{{ACTION}}` and `{{LOCATION}}` are replaced.
const TEMPLATE: &str = include_str!("wsdl.xml");

/// The WSDL 1.1 of `ChangeOwnPassword` in a version: document/literal wrapped, one SOAP 1.1
/// binding, `soap:address` at `address`.
///
/// The request headers `ApplicationToken`, `Credentials` and `TimeZone` and the reply headers
/// `ExceptionInfo` and `Succeeded` are declared as `soap:header` parts, as NetServer's own
/// WSDL does, so generated clients (WCF, zeep) can send and read them.
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// let wsdl = soap::wsdl(86, "http://gw.example/Remote/Services86/User.svc");
/// assert!(wsdl.contains(r#"<soap:address location="http://gw.example/Remote/Services86/User.svc"/>"#));
/// assert!(wsdl.contains(r#"soapAction="http://www.superoffice.net/ws/crm/NetServer/Services86/User/ChangeOwnPassword""#));
/// ```
pub fn wsdl(version: u8, address: &str) -> String {
    let mut location = String::with_capacity(address.len());
    push_escaped(&mut location, address);
    TEMPLATE
        .replace("{{NAMESPACE}}", &namespace(version))
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
    fn every_placeholder_is_filled() {
        let wsdl = wsdl(88, "http://h/Remote/Services88/User.svc");
        assert!(!wsdl.contains("{{"), "{wsdl}");
    }
}
