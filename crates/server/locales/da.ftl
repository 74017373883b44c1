# Dansk. Samme id'er og variabler som en.ftl.

## ChangeOwnPassword outcomes (SPEC §4)

SR_OLD_PASSWORD_MISMATCH = Den nuværende adgangskode er ikke korrekt.
SR_PASSWORD_TOO_SHORT = Den nye adgangskode skal være på mindst { $min } tegn.
SR_PASSWORD_TOO_LONG = Den nye adgangskode må højst være på { $max } tegn.
SR_PASSWORD_TOO_WEAK = Den nye adgangskode er for let at gætte. Brug en længere adgangskode eller mere usædvanlige ord.
SR_PASSWORD_UNCHANGED = Den nye adgangskode skal være forskellig fra den nuværende.
SR_PASSWORD_CHANGED = Din adgangskode er blevet ændret.
SR_THROTTLED = For mange forkerte adgangskoder. Prøv igen efter { $until }.

## Authentication and authorization (SPEC §4, §5)

SR_UNAUTHORIZED = Adgang er nægtet for denne anmodning.
SR_XSRF_INVALID = Anmodningen mangler et gyldigt XSRF-token.
SR_PARTNER_APP_FORBIDDEN = Brugeradministration er ikke tilladt for partnerapps.
SR_ONLINE_FORBIDDEN = User-agenten er ikke tilgængelig i Online.

## Request and response negotiation (SPEC §1-§3)

SR_UNSUPPORTED_MEDIA_TYPE = Anmodningens medietype understøttes ikke for denne ressource.
SR_UNSUPPORTED_CHARSET = Anmodningens tegnsæt understøttes ikke.
SR_MISSING_CONTENT_TYPE = Anmodningen har indhold, men ingen Content-Type.
SR_EMPTY_BODY = Anmodningens indhold er tomt.
SR_BAD_REQUEST = Anmodningen er ugyldig.
SR_PATCH_TEST_FAILED = En testoperation i patchen mislykkedes.
SR_PAYLOAD_TOO_LARGE = Anmodningens indhold er større end { $limit } byte.
SR_NOT_ACCEPTABLE = Ingen af de ønskede medietyper eller tegnsæt kan leveres.
SR_METHOD_NOT_ALLOWED = Den ønskede ressource understøtter ikke HTTP-metoden '{ $method }'.
SR_NOT_FOUND = Der blev ikke fundet nogen HTTP-ressource, der matcher anmodningens URI.
SR_INVALID_SELECT = Parameteren $select er ikke en gyldig liste over egenskaber.

## Server state (SPEC §4)

SR_BUSY = Serveren er optaget. Prøv igen om { $seconds } { $seconds ->
        [one] sekund
       *[other] sekunder
    }.
SR_STORE_UNAVAILABLE = Brugerregistret er ikke tilgængeligt lige nu. Intet blev ændret.
SR_INTERNAL_ERROR = Der opstod en intern fejl. Intet blev ændret.

## Browser pages (SPEC §6)

SR_PAGE_LOGIN_TITLE = Log ind
SR_PAGE_USERNAME = Brugernavn
SR_PAGE_PASSWORD = Adgangskode
SR_PAGE_LOG_IN = Log ind
SR_PAGE_LOGIN_FAILED = Brugernavnet eller adgangskoden er ikke korrekt.
SR_PAGE_LOG_OUT = Log ud
SR_PAGE_CHANGE_TITLE = Skift adgangskode
SR_PAGE_SIGNED_IN_AS = Logget ind som { $username }
SR_PAGE_CURRENT_PASSWORD = Nuværende adgangskode
SR_PAGE_NEW_PASSWORD = Ny adgangskode
SR_PAGE_CHANGE_BUTTON = Skift adgangskode
SR_PAGE_POLICY = Brug { $min } til { $max } tegn. Lange kodesætninger af ord, der ikke hænger sammen, er bedst; den nye adgangskode skal være forskellig fra den nuværende.
SR_PAGE_TRY_AGAIN = Prøv igen
SR_PAGE_BACK = Tilbage
SR_PAGE_RESULT_TITLE = Skift af adgangskode

## SOAP faults (SPEC §9)

SR_SOAP_BAD_ENVELOPE = Meddelelsen er ikke en gyldig SOAP 1.1-konvolut.
SR_SOAP_ACTION_MISMATCH = SOAPAction-headeren svarer ikke til operationen.
SR_SOAP_UNKNOWN_OPERATION = Operationen er ukendt for denne tjeneste.
SR_SOAP_MUST_UNDERSTAND = En header skal forstås, men understøttes ikke.
