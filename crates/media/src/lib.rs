//! The vocabulary agentgate's libraries share: which media types a request body may have
//! (SPEC §2), which a response body may have (SPEC §3), and the charsets of both.
//!
//! `agentgate-codec` reads and writes bodies of these types, `agentgate-negotiation` chooses
//! among them from headers; neither depends on the other, and both re-export these types, as
//! hyper and axum re-export `http`'s. The sets are closed enums and every `match` on them in
//! the workspace is exhaustive, so adding a media type is a compile error everywhere it must
//! be handled.
//!
//! You will notably *not* find here: parsing of headers or bodies, or `text/html`, which only
//! the server writes (it offers its own type, implementing [`Essence`], to negotiation).
//! This crate has no dependencies.
//!
//! # Examples
//!
//! ```
//! use agentgate_media::{Charset, Essence, RequestType, ResponseType, Syntax};
//!
//! let request = RequestType::from_essence("Text/XML").unwrap();
//! assert_eq!(request, RequestType::TextXml);
//! // Web API 2 answers in the request's type when nothing in Accept fits.
//! assert_eq!(request.as_response(), Some(ResponseType::TextXml));
//! assert_eq!(RequestType::FormUrlEncoded.as_response(), None);
//! assert_eq!(ResponseType::ProblemXml.syntax(), Syntax::Xml);
//! assert_eq!(ResponseType::Json.essence(), "application/json");
//!
//! assert_eq!(Charset::from_label("UTF16"), Some(Charset::Utf16));
//! assert_eq!(Charset::from_label("koi8-r"), None);
//! ```

mod charset;
mod media_type;

pub use crate::charset::Charset;
pub use crate::media_type::{Essence, RequestType, ResponseType, Syntax};
