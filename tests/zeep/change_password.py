#!/usr/bin/env python3
"""A generated SOAP client against agentgate: zeep reads the served WSDL of
/Remote/ServicesNN/User.svc and calls ChangeOwnPassword with a ticket in the Credentials
header, twice: OLD -> NEW (which must succeed), then OLD -> NEW again (OLD is now wrong, so
it must be refused). Prints one line per call:

    changed: succeeded=true response=true exception_type=
    refused: succeeded=false response=false exception_type=old-password-mismatch message=...

Usage: change_password.py BASE_URL TICKET OLD NEW [VERSION]   (VERSION defaults to 88)
Driven by the black-box test `soap` (tests/soap.rs); runs alone against `agentgate demo` too.
"""

import sys

import zeep


def call(service, ticket, old, new):
    result = service.ChangeOwnPassword(
        OldPassword=old,
        NewPassword=new,
        _soapheaders={"Credentials": {"Ticket": ticket}},
    )
    # With reply headers in the binding, zeep returns the body and the headers apart.
    # A nil ExceptionInfo (all went well) reads as None or as an object of None fields.
    info = result.header.ExceptionInfo
    return {
        "succeeded": str(result.header.Succeeded).lower(),
        "response": str(result.body.Response).lower(),
        "exception_type": getattr(info, "ExceptionType", None) or "",
        "message": getattr(info, "Message", None) or "",
    }


def show(label, outcome):
    fields = " ".join(f"{key}={value}" for key, value in outcome.items() if key != "message")
    print(f"{label}: {fields} message={outcome['message']}", flush=True)


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    base_url, ticket, old, new = argv[1:5]
    version = argv[5] if len(argv) == 6 else "88"
    wsdl = f"{base_url.rstrip('/')}/Remote/Services{version}/User.svc?wsdl"
    client = zeep.Client(wsdl)
    print(f"wsdl: {wsdl} address={client.service._binding_options['address']}", flush=True)
    show("changed", call(client.service, ticket, old, new))
    show("refused", call(client.service, ticket, old, new))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
