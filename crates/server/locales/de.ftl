# Deutsch (Anrede mit „Sie“). Dieselben IDs und Variablen wie en.ftl.

## ChangeOwnPassword outcomes (SPEC §4)

SR_OLD_PASSWORD_MISMATCH = Das aktuelle Passwort ist nicht korrekt.
SR_PASSWORD_TOO_SHORT = Das neue Passwort muss mindestens { $min } Zeichen lang sein.
SR_PASSWORD_TOO_LONG = Das neue Passwort darf höchstens { $max } Zeichen lang sein.
SR_PASSWORD_TOO_WEAK = Das neue Passwort ist zu leicht zu erraten. Verwenden Sie ein längeres Passwort oder ungewöhnlichere Wörter.
SR_PASSWORD_UNCHANGED = Das neue Passwort muss sich vom aktuellen unterscheiden.
SR_PASSWORD_CHANGED = Ihr Passwort wurde geändert.
SR_THROTTLED = Zu viele falsche Passwörter. Versuchen Sie es ab { $until } erneut.

## Authentication and authorization (SPEC §4, §5)

SR_UNAUTHORIZED = Die Autorisierung wurde für diese Anforderung verweigert.
SR_XSRF_INVALID = Der Anforderung fehlt ein gültiges XSRF-Token.
SR_PARTNER_APP_FORBIDDEN = Die Benutzerverwaltung ist für Partner-Apps nicht zulässig.
SR_ONLINE_FORBIDDEN = Der User-Agent ist in Online nicht verfügbar.

## Request and response negotiation (SPEC §1-§3)

SR_UNSUPPORTED_MEDIA_TYPE = Der Medientyp der Anforderung wird für diese Ressource nicht unterstützt.
SR_UNSUPPORTED_CHARSET = Der Zeichensatz der Anforderung wird nicht unterstützt.
SR_MISSING_CONTENT_TYPE = Die Anforderung hat einen Inhalt, aber keinen Content-Type.
SR_EMPTY_BODY = Der Inhalt der Anforderung ist leer.
SR_BAD_REQUEST = Die Anforderung ist ungültig.
SR_PATCH_TEST_FAILED = Eine Testoperation im Patch ist fehlgeschlagen.
SR_PAYLOAD_TOO_LARGE = Der Inhalt der Anforderung ist größer als { $limit } Byte.
SR_NOT_ACCEPTABLE = Keiner der angeforderten Medientypen oder Zeichensätze kann geliefert werden.
SR_METHOD_NOT_ALLOWED = Die angeforderte Ressource unterstützt die HTTP-Methode '{ $method }' nicht.
SR_NOT_FOUND = Es wurde keine HTTP-Ressource gefunden, die mit dem Anforderungs-URI übereinstimmt.
SR_INVALID_SELECT = Der Parameter $select ist keine gültige Liste von Eigenschaften.

## Server state (SPEC §4)

SR_BUSY = Der Server ist ausgelastet. Bitte versuchen Sie es in { $seconds } { $seconds ->
        [one] Sekunde
       *[other] Sekunden
    } erneut.
SR_STORE_UNAVAILABLE = Die Benutzerdatenbank ist zurzeit nicht verfügbar. Es wurde nichts geändert.
SR_INTERNAL_ERROR = Es ist ein interner Fehler aufgetreten. Es wurde nichts geändert.

## Browser pages (SPEC §6)

SR_PAGE_LOGIN_TITLE = Anmelden
SR_PAGE_USERNAME = Benutzername
SR_PAGE_PASSWORD = Passwort
SR_PAGE_LOG_IN = Anmelden
SR_PAGE_LOGIN_FAILED = Benutzername oder Passwort ist nicht korrekt.
SR_PAGE_LOG_OUT = Abmelden
SR_PAGE_CHANGE_TITLE = Passwort ändern
SR_PAGE_SIGNED_IN_AS = Angemeldet als { $username }
SR_PAGE_CURRENT_PASSWORD = Aktuelles Passwort
SR_PAGE_NEW_PASSWORD = Neues Passwort
SR_PAGE_CHANGE_BUTTON = Passwort ändern
SR_PAGE_POLICY = Verwenden Sie { $min } bis { $max } Zeichen. Am besten sind lange Passphrasen aus Wörtern, die nichts miteinander zu tun haben; das neue Passwort muss sich vom aktuellen unterscheiden.
SR_PAGE_TRY_AGAIN = Erneut versuchen
SR_PAGE_BACK = Zurück
SR_PAGE_RESULT_TITLE = Passwortänderung

## SOAP faults (SPEC §9)

SR_SOAP_BAD_ENVELOPE = Die Nachricht ist kein gültiger SOAP 1.1-Umschlag.
SR_SOAP_ACTION_MISMATCH = Der SOAPAction-Header passt nicht zur Operation.
SR_SOAP_UNKNOWN_OPERATION = Die Operation ist diesem Dienst nicht bekannt.
SR_SOAP_MUST_UNDERSTAND = Ein Header muss verstanden werden, wird aber nicht unterstützt.
