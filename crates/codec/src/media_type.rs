//! The closed set of media types the codec reads or writes.

/// A media type the codec reads (request bodies, SPEC §2) or writes (response bodies, §3).
///
/// Only the essence (`type/subtype`) is represented; the `charset` parameter is a separate
/// [`Charset`](crate::Charset) and every other parameter is ignored by the caller.
///
/// # Examples
///
/// ```
/// use agentgate_codec::MediaType;
///
/// assert_eq!(MediaType::from_essence("Text/XML"), Some(MediaType::TextXml));
/// assert_eq!(MediaType::TextXml.as_str(), "text/xml");
/// assert!(MediaType::TextXml.is_xml());
/// assert_eq!(MediaType::from_essence("text/plain"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `application/json`
    Json,
    /// `text/json`
    TextJson,
    /// `application/xml`
    Xml,
    /// `text/xml`
    TextXml,
    /// `application/x-www-form-urlencoded` (request bodies only)
    FormUrlEncoded,
    /// `application/json-patch+json` (RFC 6902)
    JsonPatch,
    /// `application/merge-patch+json` (RFC 7396)
    MergePatch,
    /// `application/problem+json` (RFC 9457 §3, error bodies only)
    ProblemJson,
    /// `application/problem+xml` (RFC 9457 Appendix B, error bodies only)
    ProblemXml,
}

impl MediaType {
    /// Request body types, in the order of SPEC §2 (the order of `Accept-Post`).
    pub const REQUEST: [MediaType; 7] = [
        MediaType::Json,
        MediaType::TextJson,
        MediaType::Xml,
        MediaType::TextXml,
        MediaType::FormUrlEncoded,
        MediaType::JsonPatch,
        MediaType::MergePatch,
    ];

    /// Response body types in server order (SPEC §3): ties in negotiation go to the first.
    pub const RESPONSE: [MediaType; 6] = [
        MediaType::Json,
        MediaType::TextJson,
        MediaType::Xml,
        MediaType::TextXml,
        MediaType::JsonPatch,
        MediaType::MergePatch,
    ];

    const ALL: [MediaType; 9] = [
        MediaType::Json,
        MediaType::TextJson,
        MediaType::Xml,
        MediaType::TextXml,
        MediaType::FormUrlEncoded,
        MediaType::JsonPatch,
        MediaType::MergePatch,
        MediaType::ProblemJson,
        MediaType::ProblemXml,
    ];

    /// The essence in lower case, as written in a `Content-Type` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_codec::MediaType;
    ///
    /// assert_eq!(MediaType::MergePatch.as_str(), "application/merge-patch+json");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaType::Json => "application/json",
            MediaType::TextJson => "text/json",
            MediaType::Xml => "application/xml",
            MediaType::TextXml => "text/xml",
            MediaType::FormUrlEncoded => "application/x-www-form-urlencoded",
            MediaType::JsonPatch => "application/json-patch+json",
            MediaType::MergePatch => "application/merge-patch+json",
            MediaType::ProblemJson => "application/problem+json",
            MediaType::ProblemXml => "application/problem+xml",
        }
    }

    /// The media type of an essence (`type/subtype`, no parameters), compared
    /// case-insensitively (RFC 9110 §8.3.1); surrounding whitespace is ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_codec::MediaType;
    ///
    /// assert_eq!(MediaType::from_essence("APPLICATION/Json"), Some(MediaType::Json));
    /// assert_eq!(MediaType::from_essence("application/json; charset=utf-8"), None);
    /// ```
    pub fn from_essence(essence: &str) -> Option<MediaType> {
        let essence = essence.trim_matches([' ', '\t']);
        MediaType::ALL
            .into_iter()
            .find(|media_type| media_type.as_str().eq_ignore_ascii_case(essence))
    }

    /// Whether the type is one of the XML family (`application/xml`, `text/xml`,
    /// `application/problem+xml`).
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_codec::MediaType;
    ///
    /// assert!(MediaType::ProblemXml.is_xml());
    /// assert!(!MediaType::JsonPatch.is_xml());
    /// ```
    pub const fn is_xml(self) -> bool {
        matches!(
            self,
            MediaType::Xml | MediaType::TextXml | MediaType::ProblemXml
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_essence_is_case_insensitive_and_inverse_of_as_str() {
        for media_type in MediaType::ALL {
            assert_eq!(
                MediaType::from_essence(media_type.as_str()),
                Some(media_type)
            );
            assert_eq!(
                MediaType::from_essence(&media_type.as_str().to_ascii_uppercase()),
                Some(media_type)
            );
        }
    }

    #[test]
    fn from_essence_refuses_other_types_and_parameters() {
        let cases = [
            "",
            "text/plain",
            "application/soap+xml",
            "application/json;charset=utf-8",
            "application/*",
            "*/*",
            "application/jsonx",
        ];
        for essence in cases {
            assert_eq!(MediaType::from_essence(essence), None, "{essence:?}");
        }
    }

    #[test]
    fn request_and_response_lists_keep_spec_order() {
        let request: Vec<&str> = MediaType::REQUEST.iter().map(|m| m.as_str()).collect();
        assert_eq!(
            request,
            [
                "application/json",
                "text/json",
                "application/xml",
                "text/xml",
                "application/x-www-form-urlencoded",
                "application/json-patch+json",
                "application/merge-patch+json"
            ]
        );
        let response: Vec<&str> = MediaType::RESPONSE.iter().map(|m| m.as_str()).collect();
        assert_eq!(
            response,
            [
                "application/json",
                "text/json",
                "application/xml",
                "text/xml",
                "application/json-patch+json",
                "application/merge-patch+json"
            ]
        );
    }

    #[test]
    fn only_the_xml_family_is_xml() {
        let xml: Vec<MediaType> = MediaType::ALL.into_iter().filter(|m| m.is_xml()).collect();
        assert_eq!(
            xml,
            [MediaType::Xml, MediaType::TextXml, MediaType::ProblemXml]
        );
    }
}
