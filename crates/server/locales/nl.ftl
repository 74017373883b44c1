# Nederlands (aanspreekvorm „u”). Dezelfde id's en variabelen als en.ftl.

## ChangeOwnPassword outcomes (SPEC §4)

SR_OLD_PASSWORD_MISMATCH = Het huidige wachtwoord is niet juist.
SR_PASSWORD_TOO_SHORT = Het nieuwe wachtwoord moet minstens { $min } { $min ->
        [one] teken
       *[other] tekens
    } lang zijn.
SR_PASSWORD_TOO_LONG = Het nieuwe wachtwoord mag maximaal { $max } { $max ->
        [one] teken
       *[other] tekens
    } lang zijn.
SR_PASSWORD_TOO_WEAK = Het nieuwe wachtwoord is te makkelijk te raden. Gebruik een langer wachtwoord of minder voor de hand liggende woorden.
SR_PASSWORD_UNCHANGED = Het nieuwe wachtwoord moet verschillen van het huidige.
SR_PASSWORD_CHANGED = Uw wachtwoord is gewijzigd.
SR_THROTTLED = Te veel onjuiste wachtwoorden. Probeer het na { $until } opnieuw.

## Authentication and authorization (SPEC §4, §5)

SR_UNAUTHORIZED = Autorisatie voor deze aanvraag is geweigerd.
SR_XSRF_INVALID = De aanvraag bevat geen geldig XSRF-token.
SR_PARTNER_APP_FORBIDDEN = Gebruikersbeheer is niet toegestaan voor partner-apps.
SR_ONLINE_FORBIDDEN = De User-agent is niet beschikbaar in Online.

## Request and response negotiation (SPEC §1-§3)

SR_UNSUPPORTED_MEDIA_TYPE = Het mediatype van de aanvraag wordt niet ondersteund voor deze resource.
SR_UNSUPPORTED_CHARSET = De tekenset van de aanvraag wordt niet ondersteund.
SR_MISSING_CONTENT_TYPE = De aanvraag heeft inhoud, maar geen Content-Type.
SR_EMPTY_BODY = De inhoud van de aanvraag is leeg.
SR_BAD_REQUEST = De aanvraag is ongeldig.
SR_PATCH_TEST_FAILED = Een testbewerking in de patch is mislukt.
SR_PAYLOAD_TOO_LARGE = De inhoud van de aanvraag is groter dan { $limit } { $limit ->
        [one] byte
       *[other] bytes
    }.
SR_NOT_ACCEPTABLE = Geen van de gevraagde mediatypen of tekensets kan worden geleverd.
SR_METHOD_NOT_ALLOWED = De gevraagde resource ondersteunt de HTTP-methode '{ $method }' niet.
SR_NOT_FOUND = Er is geen HTTP-resource gevonden die overeenkomt met de aanvraag-URI.
SR_INVALID_SELECT = De parameter $select is geen geldige lijst met eigenschappen.

## Server state (SPEC §4)

SR_BUSY = De server is bezet. Probeer het over { $seconds } { $seconds ->
        [one] seconde
       *[other] seconden
    } opnieuw.
SR_STORE_UNAVAILABLE = De gebruikersdatabase is op dit moment niet beschikbaar. Er is niets gewijzigd.
SR_INTERNAL_ERROR = Er is een interne fout opgetreden. Er is niets gewijzigd.

## Browser pages (SPEC §6)

SR_PAGE_LOGIN_TITLE = Aanmelden
SR_PAGE_USERNAME = Gebruikersnaam
SR_PAGE_PASSWORD = Wachtwoord
SR_PAGE_LOG_IN = Aanmelden
SR_PAGE_LOGIN_FAILED = De gebruikersnaam of het wachtwoord is niet juist.
SR_PAGE_LOG_OUT = Afmelden
SR_PAGE_CHANGE_TITLE = Wachtwoord wijzigen
SR_PAGE_SIGNED_IN_AS = Aangemeld als { $username }
SR_PAGE_CURRENT_PASSWORD = Huidig wachtwoord
SR_PAGE_NEW_PASSWORD = Nieuw wachtwoord
SR_PAGE_CHANGE_BUTTON = Wachtwoord wijzigen
SR_PAGE_POLICY = Gebruik { $min } tot { $max } tekens. Lange wachtwoordzinnen van woorden die niets met elkaar te maken hebben, zijn het best; het nieuwe wachtwoord moet verschillen van het huidige.
SR_PAGE_TRY_AGAIN = Opnieuw proberen
SR_PAGE_BACK = Terug
SR_PAGE_RESULT_TITLE = Wachtwoordwijziging

## SOAP faults (SPEC §9)

SR_SOAP_BAD_ENVELOPE = Het bericht is geen geldige SOAP 1.1-envelop.
SR_SOAP_ACTION_MISMATCH = De SOAPAction-header komt niet overeen met de bewerking.
SR_SOAP_UNKNOWN_OPERATION = De bewerking is niet bekend bij deze service.
SR_SOAP_MUST_UNDERSTAND = Een header moet worden begrepen, maar wordt niet ondersteund.
