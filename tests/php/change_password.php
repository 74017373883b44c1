<?php
// ChangeOwnPassword through PHP's built-in SoapClient in WSDL mode, as a legacy PHP
// integration calls NetServer: the proxy is built from the WSDL the gateway serves, and the
// headers are those of SuperOffice's PHP samples, an ApplicationToken (empty on-site) and
// Credentials/Ticket.
//
//   php change_password.php WSDL_URL TICKET|- OLD_PASSWORD NEW_PASSWORD
//
// Prints one line: response=true|false succeeded=true|false exception_type=... message=...
// A SOAP fault prints "fault: CODE MESSAGE" and exits 1. With PHP_SOAP_DUMP set, the request
// as sent goes to stderr.

ini_set('soap.wsdl_cache_enabled', '0');
ini_set('default_socket_timeout', '30');

if (count($argv) !== 5) {
    fwrite(STDERR, "usage: php change_password.php WSDL_URL TICKET|- OLD_PASSWORD NEW_PASSWORD\n");
    exit(2);
}
[, $wsdl, $ticket, $old, $new] = $argv;

if (!preg_match('~/Services(\d\d)/~i', $wsdl, $match)) {
    fwrite(STDERR, "the WSDL URL names no ServicesNN: $wsdl\n");
    exit(2);
}
$namespace = "http://www.superoffice.net/ws/crm/NetServer/Services{$match[1]}";

$client = new SoapClient($wsdl, [
    'soap_version' => SOAP_1_1,
    'cache_wsdl' => WSDL_CACHE_NONE,
    'trace' => true,
    'exceptions' => true,
]);

$headers = [new SoapHeader($namespace, 'ApplicationToken', '')];
if ($ticket !== '-') {
    $headers[] = new SoapHeader($namespace, 'Credentials', ['Ticket' => $ticket]);
}
$client->__setSoapHeaders($headers);

$output = [];
try {
    $result = $client->__soapCall(
        'ChangeOwnPassword',
        [['OldPassword' => $old, 'NewPassword' => $new]],
        null,
        null,
        $output
    );
} catch (SoapFault $fault) {
    echo "fault: {$fault->faultcode} {$fault->getMessage()}\n";
    fwrite(STDERR, (string) $client->__getLastRequest() . "\n" . (string) $client->__getLastResponse() . "\n");
    exit(1);
}
if (getenv('PHP_SOAP_DUMP')) {
    fwrite(STDERR, (string) $client->__getLastRequest());
}

$info = $output['ExceptionInfo'] ?? null;
printf(
    "response=%s succeeded=%s exception_type=%s message=%s\n",
    var_export($result->Response ?? null, true),
    var_export($output['Succeeded'] ?? null, true),
    $info->ExceptionType ?? '',
    $info->Message ?? ''
);
