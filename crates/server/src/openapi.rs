//! `GET /openapi.json`: the endpoint described with every media type (OpenAPI 3.0).

use std::sync::LazyLock;

use actix_web::HttpResponse;
use serde_json::{Value, json};

use agentgate_codec::{RequestType, ResponseType};
use agentgate_negotiation::Essence as _;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| build().to_string());

fn build() -> Value {
    let request = json!({
        "type": "object",
        "required": ["OldPassword", "NewPassword"],
        "properties": {
            "OldPassword": { "type": "string" },
            "NewPassword": { "type": "string" }
        }
    });
    let form = json!({
        "type": "object",
        "required": ["OldPassword", "NewPassword"],
        "properties": {
            "OldPassword": { "type": "string" },
            "NewPassword": { "type": "string" },
            "XSRF_TOKEN": { "type": "string" }
        }
    });
    // RFC 6902 applied to {"OldPassword": null, "NewPassword": null}: only these two paths
    // can lead to a result of two strings (SPEC §2 also takes them without the slash and in
    // any case; the document names the canonical form).
    let pointer = json!({ "type": "string", "enum": ["/OldPassword", "/NewPassword"] });
    let patch = json!({
        "type": "array",
        "items": {
            "type": "object",
            "required": ["op", "path"],
            "properties": {
                "op": { "type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"] },
                "path": pointer,
                "from": pointer,
                "value": { "type": "string" }
            }
        }
    });
    let mut request_content = serde_json::Map::new();
    for media in RequestType::ALL {
        let schema = match media {
            RequestType::FormUrlEncoded => form.clone(),
            RequestType::JsonPatch => patch.clone(),
            RequestType::Json
            | RequestType::TextJson
            | RequestType::Xml
            | RequestType::TextXml
            | RequestType::MergePatch => request.clone(),
        };
        request_content.insert(media.essence().to_owned(), json!({ "schema": schema }));
    }
    let mut bool_content = serde_json::Map::new();
    for media in ResponseType::SERVER_ORDER {
        let schema = if media.syntax() == agentgate_codec::Syntax::Xml {
            json!({ "type": "boolean", "xml": { "name": "boolean", "namespace": "http://schemas.microsoft.com/2003/10/Serialization/" } })
        } else {
            json!({ "type": "boolean" })
        };
        bool_content.insert(media.essence().to_owned(), json!({ "schema": schema }));
    }
    bool_content.insert(
        "text/html".to_owned(),
        json!({ "schema": { "type": "string" } }),
    );
    let error_schema = json!({
        "type": "object",
        "properties": {
            "Message": { "type": "string" },
            "MessageDetail": { "type": "string" },
            "ErrorType": { "type": "string" }
        },
        "xml": { "name": "Error" }
    });
    let problem_schema = json!({
        "type": "object",
        "properties": {
            "type": { "type": "string" },
            "title": { "type": "string" },
            "status": { "type": "integer" },
            "detail": { "type": "string" },
            "errorType": { "type": "string" }
        },
        "xml": { "name": "problem", "namespace": "urn:ietf:rfc:7807" }
    });
    let mut error_content = serde_json::Map::new();
    for media in ResponseType::SERVER_ORDER {
        error_content.insert(
            media.essence().to_owned(),
            json!({ "schema": error_schema }),
        );
    }
    error_content.insert(
        "text/html".to_owned(),
        json!({ "schema": { "type": "string" } }),
    );
    for media in ResponseType::PROBLEM {
        error_content.insert(
            media.essence().to_owned(),
            json!({ "schema": problem_schema }),
        );
    }
    let error = |description: &str| json!({ "description": description, "content": error_content });
    let reason_header = json!({
        "X-Reason": {
            "description": "Why the change was refused",
            "schema": { "type": "string", "enum": [
                "old-password-mismatch", "password-too-short", "password-too-long",
                "password-too-weak", "password-unchanged"
            ] }
        }
    });
    let mut describe_content = serde_json::Map::new();
    for media in ResponseType::SERVER_ORDER {
        describe_content.insert(
            media.essence().to_owned(),
            json!({ "schema": { "type": "object" } }),
        );
    }
    let language_headers = json!([
        { "name": "Accept-Language", "in": "header", "schema": { "type": "string" } },
        { "name": "SO-Language", "in": "header", "schema": { "type": "string" } },
        { "name": "SO-Culture", "in": "header", "schema": { "type": "string" } },
        { "name": "SO-TimeZone", "in": "header", "schema": { "type": "string" } }
    ]);
    let mut post_parameters = vec![json!({
        "name": "$select", "in": "query", "required": false,
        "schema": { "type": "string", "pattern": "^[A-Za-z0-9_./, ]*$" }
    })];
    post_parameters.extend(language_headers.as_array().into_iter().flatten().cloned());
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "agentgate",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "SuperOffice WebAPI User agent ChangeOwnPassword, in every format the published page lists."
        },
        "paths": {
            "/api/v1/Agents/User/ChangeOwnPassword": {
                "get": {
                    "operationId": "describeChangeOwnPassword",
                    "summary": "Describe the call",
                    "responses": {
                        "200": { "description": "The description", "content": describe_content },
                        "303": { "description": "Browsers that prefer HTML are sent to /password" },
                        "406": error("Nothing acceptable (strict mode)")
                    }
                },
                "post": {
                    "operationId": "changeOwnPassword",
                    "summary": "Change password for the authenticated user",
                    "security": [ { "basic": [] }, { "soticket": [] }, { "bearer": [] } ],
                    "parameters": post_parameters,
                    "requestBody": { "required": true, "content": request_content },
                    "responses": {
                        "200": { "description": "true when changed; false with X-Reason when refused", "headers": reason_header, "content": bool_content },
                        "400": error("The body is not a valid request"),
                        "401": error("No credentials or bad ones"),
                        "403": error("Partner app or Online without the User agent (upstream mode: the NetServer's 403)"),
                        "406": error("Nothing acceptable (strict mode)"),
                        "409": error("A JSON Patch test operation failed"),
                        "413": error("The body is too large"),
                        "415": error("Unsupported media type or charset"),
                        "429": error("Too many wrong old passwords (upstream mode: also the NetServer's 429)"),
                        "502": error("Upstream mode: the NetServer could not be reached or gave no usable answer"),
                        "503": error("Busy or the user store is unreachable (upstream mode: no free upstream connection within 1 s)"),
                        "504": error("Upstream mode: the NetServer did not answer in time")
                    }
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "responses": {
                        "200": { "description": "The store is reachable", "content": { "text/plain": { "schema": { "type": "string" } } } },
                        "503": { "description": "The store is unreachable, or (upstream mode) the upstream accepted no connection for 10 s", "content": { "text/plain": { "schema": { "type": "string" } } } }
                    }
                }
            }
        },
        "components": {
            "securitySchemes": {
                "basic": { "type": "http", "scheme": "basic" },
                "bearer": { "type": "http", "scheme": "bearer" },
                "soticket": { "type": "apiKey", "in": "header", "name": "Authorization", "description": "SOTicket 7T:..." }
            }
        }
    })
}

/// Serves the document, built once.
pub(crate) async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(DOCUMENT.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_media_type_is_described() {
        let doc = build();
        let content = &doc["paths"]["/api/v1/Agents/User/ChangeOwnPassword"]["post"]["requestBody"]
            ["content"];
        for media in RequestType::ALL {
            assert!(content.get(media.essence()).is_some(), "{media:?}");
        }
        assert_eq!(content.as_object().map(|o| o.len()), Some(7));
    }
}
