//! The closed sets of media types: what a request body may be, what a response body may be.

/// A media type known by its essence, `type/subtype` (RFC 9110 §8.3.1).
///
/// Negotiation is generic over what is offered: it ranks any `T: Essence` against `Accept`
/// and recognises any `T: Essence` in a `Content-Type`, and hands back the `T` it chose, not
/// a string. [`RequestType`] and [`ResponseType`] implement it; the server implements it for
/// its own offer type, which adds `text/html`.
///
/// # Contract
///
/// - `essence` returns the `type/subtype` in lower case, without parameters or whitespace,
///   and both halves are RFC 9110 tokens (`application/json`, never `Application/JSON` or
///   `application/json; charset=utf-8`).
/// - It is a pure function of the value: the same value always gives the same essence.
/// - Two values that a caller offers side by side have different essences; negotiation
///   cannot tell apart two offers of one essence, and picks the first.
///
/// # Examples
///
/// ```
/// use agentgate_media::{Essence, ResponseType};
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// enum Offer {
///     Api(ResponseType),
///     Html,
/// }
///
/// impl Essence for Offer {
///     fn essence(self) -> &'static str {
///         match self {
///             Offer::Api(media_type) => media_type.essence(),
///             Offer::Html => "text/html",
///         }
///     }
/// }
///
/// assert_eq!(Offer::Api(ResponseType::TextXml).essence(), "text/xml");
/// assert_eq!(Offer::Html.essence(), "text/html");
/// ```
pub trait Essence: Copy {
    /// The essence, `type/subtype` in lower case (see the contract above).
    fn essence(self) -> &'static str;
}

/// Whether a body is JSON or XML: what the encoders switch on.
///
/// # Examples
///
/// ```
/// use agentgate_media::{ResponseType, Syntax};
///
/// assert_eq!(ResponseType::MergePatch.syntax(), Syntax::Json);
/// assert_eq!(ResponseType::TextXml.syntax(), Syntax::Xml);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// JSON (RFC 8259).
    Json,
    /// XML 1.0.
    Xml,
}

/// A media type a request body may have (SPEC §2).
///
/// Only the essence is represented; the `charset` parameter is a [`Charset`](crate::Charset)
/// beside it, and every other parameter is ignored.
///
/// # Examples
///
/// ```
/// use agentgate_media::{Essence, RequestType};
///
/// assert_eq!(RequestType::from_essence("application/JSON"), Some(RequestType::Json));
/// assert_eq!(RequestType::FormUrlEncoded.as_str(), "application/x-www-form-urlencoded");
/// assert_eq!(RequestType::JsonPatch.essence(), "application/json-patch+json");
/// assert_eq!(RequestType::from_essence("application/problem+json"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestType {
    /// `application/json`
    Json,
    /// `text/json`
    TextJson,
    /// `application/xml`
    Xml,
    /// `text/xml`
    TextXml,
    /// `application/x-www-form-urlencoded`
    FormUrlEncoded,
    /// `application/json-patch+json` (RFC 6902)
    JsonPatch,
    /// `application/merge-patch+json` (RFC 7396)
    MergePatch,
}

impl RequestType {
    /// The seven request body types in the order of SPEC §2, the order of `Accept-Post`.
    pub const ALL: [RequestType; 7] = [
        RequestType::Json,
        RequestType::TextJson,
        RequestType::Xml,
        RequestType::TextXml,
        RequestType::FormUrlEncoded,
        RequestType::JsonPatch,
        RequestType::MergePatch,
    ];

    /// The essence in lower case, as written in a `Content-Type` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::RequestType;
    ///
    /// assert_eq!(RequestType::MergePatch.as_str(), "application/merge-patch+json");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            RequestType::Json => "application/json",
            RequestType::TextJson => "text/json",
            RequestType::Xml => "application/xml",
            RequestType::TextXml => "text/xml",
            RequestType::FormUrlEncoded => "application/x-www-form-urlencoded",
            RequestType::JsonPatch => "application/json-patch+json",
            RequestType::MergePatch => "application/merge-patch+json",
        }
    }

    /// The request type of an essence (`type/subtype`, no parameters), compared
    /// case-insensitively (RFC 9110 §8.3.1); surrounding whitespace is ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::RequestType;
    ///
    /// assert_eq!(RequestType::from_essence(" Text/XML "), Some(RequestType::TextXml));
    /// assert_eq!(RequestType::from_essence("application/json; charset=utf-8"), None);
    /// ```
    pub fn from_essence(essence: &str) -> Option<RequestType> {
        let essence = essence.trim_matches([' ', '\t']);
        RequestType::ALL
            .into_iter()
            .find(|media_type| media_type.as_str().eq_ignore_ascii_case(essence))
    }

    /// The response type of the same essence, if this is one: ASP.NET Web API 2 answers in the
    /// request's media type when nothing in `Accept` fits (SPEC §3, compatibility mode), and
    /// a form is not a response type.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::{RequestType, ResponseType};
    ///
    /// assert_eq!(RequestType::JsonPatch.as_response(), Some(ResponseType::JsonPatch));
    /// assert_eq!(RequestType::FormUrlEncoded.as_response(), None);
    /// ```
    pub const fn as_response(self) -> Option<ResponseType> {
        match self {
            RequestType::Json => Some(ResponseType::Json),
            RequestType::TextJson => Some(ResponseType::TextJson),
            RequestType::Xml => Some(ResponseType::Xml),
            RequestType::TextXml => Some(ResponseType::TextXml),
            RequestType::FormUrlEncoded => None,
            RequestType::JsonPatch => Some(ResponseType::JsonPatch),
            RequestType::MergePatch => Some(ResponseType::MergePatch),
        }
    }
}

impl Essence for RequestType {
    fn essence(self) -> &'static str {
        self.as_str()
    }
}

/// A media type a response body may have (SPEC §3), `text/html` aside.
///
/// # Examples
///
/// ```
/// use agentgate_media::{ResponseType, Syntax};
///
/// assert_eq!(ResponseType::from_essence("application/problem+xml"), Some(ResponseType::ProblemXml));
/// assert_eq!(ResponseType::ProblemXml.syntax(), Syntax::Xml);
/// assert!(ResponseType::ProblemJson.is_problem());
/// assert_eq!(ResponseType::from_essence("application/x-www-form-urlencoded"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    /// `application/json`
    Json,
    /// `text/json`
    TextJson,
    /// `application/xml`
    Xml,
    /// `text/xml`
    TextXml,
    /// `application/json-patch+json` (RFC 6902)
    JsonPatch,
    /// `application/merge-patch+json` (RFC 7396)
    MergePatch,
    /// `application/problem+json` (RFC 9457 §3), for error bodies only.
    ProblemJson,
    /// `application/problem+xml` (RFC 9457 Appendix B), for error bodies only.
    ProblemXml,
}

impl ResponseType {
    /// The six response types of SPEC §3 in server order: with no preference, or a tie in
    /// `Accept`, the first wins.
    pub const SERVER_ORDER: [ResponseType; 6] = [
        ResponseType::Json,
        ResponseType::TextJson,
        ResponseType::Xml,
        ResponseType::TextXml,
        ResponseType::JsonPatch,
        ResponseType::MergePatch,
    ];

    /// The RFC 9457 problem types, chosen for error bodies only when `Accept` names them.
    pub const PROBLEM: [ResponseType; 2] = [ResponseType::ProblemJson, ResponseType::ProblemXml];

    /// All eight: [`SERVER_ORDER`](Self::SERVER_ORDER), then [`PROBLEM`](Self::PROBLEM).
    pub const ALL: [ResponseType; 8] = [
        ResponseType::Json,
        ResponseType::TextJson,
        ResponseType::Xml,
        ResponseType::TextXml,
        ResponseType::JsonPatch,
        ResponseType::MergePatch,
        ResponseType::ProblemJson,
        ResponseType::ProblemXml,
    ];

    /// The essence in lower case, as written in a `Content-Type` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::ResponseType;
    ///
    /// assert_eq!(ResponseType::ProblemJson.as_str(), "application/problem+json");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            ResponseType::Json => "application/json",
            ResponseType::TextJson => "text/json",
            ResponseType::Xml => "application/xml",
            ResponseType::TextXml => "text/xml",
            ResponseType::JsonPatch => "application/json-patch+json",
            ResponseType::MergePatch => "application/merge-patch+json",
            ResponseType::ProblemJson => "application/problem+json",
            ResponseType::ProblemXml => "application/problem+xml",
        }
    }

    /// The response type of an essence, compared case-insensitively; surrounding whitespace
    /// is ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::ResponseType;
    ///
    /// assert_eq!(ResponseType::from_essence("TEXT/json"), Some(ResponseType::TextJson));
    /// assert_eq!(ResponseType::from_essence("text/html"), None);
    /// ```
    pub fn from_essence(essence: &str) -> Option<ResponseType> {
        let essence = essence.trim_matches([' ', '\t']);
        ResponseType::ALL
            .into_iter()
            .find(|media_type| media_type.as_str().eq_ignore_ascii_case(essence))
    }

    /// Whether the body is written as JSON or as XML.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::{ResponseType, Syntax};
    ///
    /// assert_eq!(ResponseType::Xml.syntax(), Syntax::Xml);
    /// assert_eq!(ResponseType::JsonPatch.syntax(), Syntax::Json);
    /// ```
    pub const fn syntax(self) -> Syntax {
        match self {
            ResponseType::Json
            | ResponseType::TextJson
            | ResponseType::JsonPatch
            | ResponseType::MergePatch
            | ResponseType::ProblemJson => Syntax::Json,
            ResponseType::Xml | ResponseType::TextXml | ResponseType::ProblemXml => Syntax::Xml,
        }
    }

    /// Whether this is one of the RFC 9457 problem types.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::ResponseType;
    ///
    /// assert!(ResponseType::ProblemXml.is_problem());
    /// assert!(!ResponseType::Xml.is_problem());
    /// ```
    pub const fn is_problem(self) -> bool {
        match self {
            ResponseType::Json
            | ResponseType::TextJson
            | ResponseType::Xml
            | ResponseType::TextXml
            | ResponseType::JsonPatch
            | ResponseType::MergePatch => false,
            ResponseType::ProblemJson | ResponseType::ProblemXml => true,
        }
    }
}

impl Essence for ResponseType {
    fn essence(self) -> &'static str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_types_follow_spec_section_2() {
        let essences = RequestType::ALL.map(RequestType::as_str);
        assert_eq!(
            essences,
            [
                "application/json",
                "text/json",
                "application/xml",
                "text/xml",
                "application/x-www-form-urlencoded",
                "application/json-patch+json",
                "application/merge-patch+json",
            ]
        );
    }

    #[test]
    fn response_types_follow_spec_section_3() {
        assert_eq!(
            ResponseType::SERVER_ORDER.map(ResponseType::as_str),
            [
                "application/json",
                "text/json",
                "application/xml",
                "text/xml",
                "application/json-patch+json",
                "application/merge-patch+json",
            ]
        );
        assert_eq!(
            ResponseType::PROBLEM.map(ResponseType::as_str),
            ["application/problem+json", "application/problem+xml"]
        );
        let all: Vec<_> = ResponseType::SERVER_ORDER
            .into_iter()
            .chain(ResponseType::PROBLEM)
            .collect();
        assert_eq!(all, ResponseType::ALL);
        for media_type in ResponseType::ALL {
            assert_eq!(
                media_type.is_problem(),
                ResponseType::PROBLEM.contains(&media_type)
            );
        }
    }

    #[test]
    fn essences_read_back_in_any_case_and_are_lower_case_tokens() {
        for media_type in RequestType::ALL {
            let essence = media_type.essence();
            assert_eq!(RequestType::from_essence(essence), Some(media_type));
            assert_eq!(
                RequestType::from_essence(&essence.to_ascii_uppercase()),
                Some(media_type)
            );
            assert_eq!(essence, essence.to_ascii_lowercase());
            assert_eq!(essence.matches('/').count(), 1, "{essence}");
        }
        for media_type in ResponseType::ALL {
            let essence = media_type.essence();
            assert_eq!(ResponseType::from_essence(essence), Some(media_type));
            assert_eq!(
                ResponseType::from_essence(&essence.to_ascii_uppercase()),
                Some(media_type)
            );
            assert_eq!(essence, essence.to_ascii_lowercase());
        }
    }

    #[test]
    fn a_request_type_answers_in_its_own_essence_when_it_can() {
        for media_type in RequestType::ALL {
            match media_type.as_response() {
                Some(response) => assert_eq!(response.as_str(), media_type.as_str()),
                None => assert_eq!(
                    ResponseType::from_essence(media_type.as_str()),
                    None,
                    "{media_type:?}"
                ),
            }
        }
    }

    #[test]
    fn syntax_follows_the_structured_suffix() {
        for media_type in ResponseType::ALL {
            let expected = if media_type.as_str().ends_with("xml") {
                Syntax::Xml
            } else {
                Syntax::Json
            };
            assert_eq!(media_type.syntax(), expected, "{media_type:?}");
        }
    }
}
