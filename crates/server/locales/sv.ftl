# Svenska. Samma id:n och variabler som en.ftl.

## ChangeOwnPassword outcomes (SPEC §4)

SR_OLD_PASSWORD_MISMATCH = Det nuvarande lösenordet stämmer inte.
SR_PASSWORD_TOO_SHORT = Det nya lösenordet måste vara minst { $min } tecken långt.
SR_PASSWORD_TOO_LONG = Det nya lösenordet får vara högst { $max } tecken långt.
SR_PASSWORD_TOO_WEAK = Det nya lösenordet är för lätt att gissa. Använd ett längre lösenord eller ovanligare ord.
SR_PASSWORD_UNCHANGED = Det nya lösenordet måste skilja sig från det nuvarande.
SR_PASSWORD_CHANGED = Ditt lösenord har ändrats.
SR_THROTTLED = För många felaktiga lösenord. Försök igen efter { $until }.

## Authentication and authorization (SPEC §4, §5)

SR_UNAUTHORIZED = Åtkomst nekades för den här begäran.
SR_XSRF_INVALID = Begäran saknar en giltig XSRF-token.
SR_PARTNER_APP_FORBIDDEN = Användarhantering är inte tillåten för partnerappar.
SR_ONLINE_FORBIDDEN = User-agenten är inte tillgänglig i Online.

## Request and response negotiation (SPEC §1-§3)

SR_UNSUPPORTED_MEDIA_TYPE = Begärans medietyp stöds inte för den här resursen.
SR_UNSUPPORTED_CHARSET = Begärans teckenuppsättning stöds inte.
SR_MISSING_CONTENT_TYPE = Begäran har innehåll men saknar Content-Type.
SR_EMPTY_BODY = Begärans innehåll är tomt.
SR_BAD_REQUEST = Begäran är ogiltig.
SR_PATCH_TEST_FAILED = En testoperation i patchen misslyckades.
SR_PAYLOAD_TOO_LARGE = Begärans innehåll är större än { $limit } byte.
SR_NOT_ACCEPTABLE = Ingen av de begärda medietyperna eller teckenuppsättningarna kan levereras.
SR_METHOD_NOT_ALLOWED = Den begärda resursen stöder inte HTTP-metoden '{ $method }'.
SR_NOT_FOUND = Ingen HTTP-resurs hittades som matchar begärans URI.
SR_INVALID_SELECT = Parametern $select är inte en giltig lista med egenskaper.

## Server state (SPEC §4)

SR_BUSY = Servern är upptagen. Försök igen om { $seconds } { $seconds ->
        [one] sekund
       *[other] sekunder
    }.
SR_STORE_UNAVAILABLE = Användarregistret är inte tillgängligt just nu. Inget har ändrats.
SR_INTERNAL_ERROR = Ett internt fel uppstod. Inget har ändrats.

## Browser pages (SPEC §6)

SR_PAGE_LOGIN_TITLE = Logga in
SR_PAGE_USERNAME = Användarnamn
SR_PAGE_PASSWORD = Lösenord
SR_PAGE_LOG_IN = Logga in
SR_PAGE_LOGIN_FAILED = Användarnamnet eller lösenordet stämmer inte.
SR_PAGE_LOG_OUT = Logga ut
SR_PAGE_CHANGE_TITLE = Byt lösenord
SR_PAGE_SIGNED_IN_AS = Inloggad som { $username }
SR_PAGE_CURRENT_PASSWORD = Nuvarande lösenord
SR_PAGE_NEW_PASSWORD = Nytt lösenord
SR_PAGE_CHANGE_BUTTON = Byt lösenord
SR_PAGE_POLICY = Använd { $min } till { $max } tecken. Långa lösenfraser av ord som inte hör ihop är bäst; det nya lösenordet måste skilja sig från det nuvarande.
SR_PAGE_TRY_AGAIN = Försök igen
SR_PAGE_BACK = Tillbaka
SR_PAGE_RESULT_TITLE = Lösenordsbyte

## SOAP faults (SPEC §9)

SR_SOAP_BAD_ENVELOPE = Meddelandet är inte ett giltigt SOAP 1.1-kuvert.
SR_SOAP_ACTION_MISMATCH = SOAPAction-huvudet matchar inte operationen.
SR_SOAP_UNKNOWN_OPERATION = Operationen är okänd för den här tjänsten.
SR_SOAP_MUST_UNDERSTAND = Ett huvud måste förstås men stöds inte.
