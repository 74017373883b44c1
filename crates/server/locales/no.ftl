# Norsk (bokmål). Samme id-er og variabler som en.ftl.

## ChangeOwnPassword outcomes (SPEC §4)

SR_OLD_PASSWORD_MISMATCH = Det nåværende passordet er ikke riktig.
SR_PASSWORD_TOO_SHORT = Det nye passordet må være minst { $min } tegn langt.
SR_PASSWORD_TOO_LONG = Det nye passordet kan være høyst { $max } tegn langt.
SR_PASSWORD_TOO_WEAK = Det nye passordet er for lett å gjette. Bruk et lengre passord eller mer uvanlige ord.
SR_PASSWORD_UNCHANGED = Det nye passordet må være forskjellig fra det nåværende.
SR_PASSWORD_CHANGED = Passordet ditt er endret.
SR_THROTTLED = For mange feil passord. Prøv igjen etter { $until }.

## Authentication and authorization (SPEC §4, §5)

SR_UNAUTHORIZED = Tilgang er nektet for denne forespørselen.
SR_XSRF_INVALID = Forespørselen mangler et gyldig XSRF-token.
SR_PARTNER_APP_FORBIDDEN = Brukeradministrasjon er ikke tillatt for partnerapper.
SR_ONLINE_FORBIDDEN = User-agenten er ikke tilgjengelig i Online.

## Request and response negotiation (SPEC §1-§3)

SR_UNSUPPORTED_MEDIA_TYPE = Forespørselens medietype støttes ikke for denne ressursen.
SR_UNSUPPORTED_CHARSET = Forespørselens tegnsett støttes ikke.
SR_MISSING_CONTENT_TYPE = Forespørselen har innhold, men ingen Content-Type.
SR_EMPTY_BODY = Innholdet i forespørselen er tomt.
SR_BAD_REQUEST = Forespørselen er ugyldig.
SR_PATCH_TEST_FAILED = En testoperasjon i patchen mislyktes.
SR_PAYLOAD_TOO_LARGE = Innholdet i forespørselen er større enn { $limit } byte.
SR_NOT_ACCEPTABLE = Ingen av de forespurte medietypene eller tegnsettene kan leveres.
SR_METHOD_NOT_ALLOWED = Den forespurte ressursen støtter ikke HTTP-metoden '{ $method }'.
SR_NOT_FOUND = Fant ingen HTTP-ressurs som samsvarer med URI-en i forespørselen.
SR_INVALID_SELECT = Parameteren $select er ikke en gyldig liste over egenskaper.

## Server state (SPEC §4)

SR_BUSY = Serveren er opptatt. Prøv igjen om { $seconds } { $seconds ->
        [one] sekund
       *[other] sekunder
    }.
SR_STORE_UNAVAILABLE = Brukerregisteret er ikke tilgjengelig akkurat nå. Ingenting ble endret.
SR_INTERNAL_ERROR = Det oppstod en intern feil. Ingenting ble endret.

## Browser pages (SPEC §6)

SR_PAGE_LOGIN_TITLE = Logg inn
SR_PAGE_USERNAME = Brukernavn
SR_PAGE_PASSWORD = Passord
SR_PAGE_LOG_IN = Logg inn
SR_PAGE_LOGIN_FAILED = Brukernavnet eller passordet er ikke riktig.
SR_PAGE_LOG_OUT = Logg ut
SR_PAGE_CHANGE_TITLE = Endre passord
SR_PAGE_SIGNED_IN_AS = Logget inn som { $username }
SR_PAGE_CURRENT_PASSWORD = Nåværende passord
SR_PAGE_NEW_PASSWORD = Nytt passord
SR_PAGE_CHANGE_BUTTON = Endre passord
SR_PAGE_POLICY = Bruk { $min } til { $max } tegn. Lange passfraser av ord som ikke hører sammen, er best; det nye passordet må være forskjellig fra det nåværende.
SR_PAGE_TRY_AGAIN = Prøv igjen
SR_PAGE_BACK = Tilbake
SR_PAGE_RESULT_TITLE = Passordendring

## SOAP faults (SPEC §9)

SR_SOAP_BAD_ENVELOPE = Meldingen er ikke en gyldig SOAP 1.1-konvolutt.
SR_SOAP_ACTION_MISMATCH = SOAPAction-headeren samsvarer ikke med operasjonen.
SR_SOAP_UNKNOWN_OPERATION = Operasjonen er ukjent for denne tjenesten.
SR_SOAP_MUST_UNDERSTAND = En header må forstås, men støttes ikke.
