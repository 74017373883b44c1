# English messages of agentgate, the reference catalog: every other language has exactly
# these ids with exactly these variables (a unit test in src/i18n.rs checks it).
# Numbers ($min, $max, $limit, $seconds) arrive as numbers, formatted by the caller's culture;
# $until arrives as a local date and time, already formatted.

## ChangeOwnPassword outcomes (SPEC §4)

SR_OLD_PASSWORD_MISMATCH = The current password is not correct.
SR_PASSWORD_TOO_SHORT = The new password must be at least { $min } { $min ->
        [one] character
       *[other] characters
    } long.
SR_PASSWORD_TOO_LONG = The new password can be at most { $max } { $max ->
        [one] character
       *[other] characters
    } long.
SR_PASSWORD_TOO_WEAK = The new password is too easy to guess. Use a longer password or more unusual words.
SR_PASSWORD_UNCHANGED = The new password must be different from the current one.
SR_PASSWORD_CHANGED = Your password has been changed.
SR_THROTTLED = Too many wrong passwords. Try again after { $until }.

## Authentication and authorization (SPEC §4, §5)

SR_UNAUTHORIZED = Authorization has been denied for this request.
SR_XSRF_INVALID = The request is missing a valid XSRF token.
SR_PARTNER_APP_FORBIDDEN = User management is not allowed for partner apps.
SR_ONLINE_FORBIDDEN = The User agent is not available in Online.

## Request and response negotiation (SPEC §1-§3)

SR_UNSUPPORTED_MEDIA_TYPE = The request entity's media type is not supported for this resource.
SR_UNSUPPORTED_CHARSET = The request's character set is not supported.
SR_MISSING_CONTENT_TYPE = The request has a body but no Content-Type.
SR_EMPTY_BODY = The request body is empty.
SR_BAD_REQUEST = The request is invalid.
SR_PATCH_TEST_FAILED = A test operation in the patch failed.
SR_PAYLOAD_TOO_LARGE = The request body is larger than { $limit } { $limit ->
        [one] byte
       *[other] bytes
    }.
SR_NOT_ACCEPTABLE = None of the requested media types or character sets can be produced.
SR_METHOD_NOT_ALLOWED = The requested resource does not support http method '{ $method }'.
SR_NOT_FOUND = No HTTP resource was found that matches the request URI.
SR_INVALID_SELECT = The $select parameter is not a valid list of properties.

## Server state (SPEC §4)

SR_BUSY = The server is busy. Please try again in { $seconds } { $seconds ->
        [one] second
       *[other] seconds
    }.
SR_STORE_UNAVAILABLE = The user store is not available right now. Nothing was changed.
SR_INTERNAL_ERROR = An internal error occurred. Nothing was changed.

## Browser pages (SPEC §6)

SR_PAGE_LOGIN_TITLE = Sign in
SR_PAGE_USERNAME = User name
SR_PAGE_PASSWORD = Password
SR_PAGE_LOG_IN = Sign in
# The same text for an unknown user and a wrong password.
SR_PAGE_LOGIN_FAILED = The user name or password is not correct.
SR_PAGE_LOG_OUT = Sign out
SR_PAGE_CHANGE_TITLE = Change password
SR_PAGE_SIGNED_IN_AS = Signed in as { $username }
SR_PAGE_CURRENT_PASSWORD = Current password
SR_PAGE_NEW_PASSWORD = New password
SR_PAGE_CHANGE_BUTTON = Change password
SR_PAGE_POLICY = Use { $min } to { $max } characters. Long passphrases of unrelated words are best; the new password must differ from the current one.
SR_PAGE_TRY_AGAIN = Try again
SR_PAGE_BACK = Back
SR_PAGE_RESULT_TITLE = Password change

## SOAP faults (SPEC §9)

SR_SOAP_BAD_ENVELOPE = The message is not a valid SOAP 1.1 envelope.
SR_SOAP_ACTION_MISMATCH = The SOAPAction header does not match the operation.
SR_SOAP_UNKNOWN_OPERATION = The operation is not known to this service.
SR_SOAP_MUST_UNDERSTAND = A header is required to be understood but is not supported.
