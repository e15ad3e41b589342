"""Peer comparison for issue 5, target 1: the small request signed by botocore's SigV4Auth.

    python3 benches/peer/botocore_sigv4.py            # needs `pip install botocore`

Same request shape as benches/signing.rs: GET with 3 query parameters and 4 headers, no
body, static credentials, service execute-api in us-east-1. The signing time is pinned to
the one the Rust benchmarks use (2015-08-30T12:36:00Z), so the Authorization printed here
must equal theirs. Times `SigV4Auth.add_auth` on a request built once (add_auth replaces
the previous signature each time), best of 7 timeit repeats, per call.
"""

import datetime
import sys
import timeit
from unittest import mock

import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/items?limit=10&offset=20&sort=name"
HEADERS = {
    "accept": "application/json",
    "content-type": "application/json",
    "x-api-version": "2024-06-01",
    "x-request-id": "4f1c2a9e-8d6b-4c3e-9a7f-2b5d8e1f0a63",
}
EXPECTED_SIGNED_HEADERS = "accept;content-type;host;x-amz-date;x-api-version;x-request-id"
FIXED = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.timezone.utc)


class FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return FIXED.replace(tzinfo=None)

    @classmethod
    def now(cls, tz=None):
        return FIXED if tz else FIXED.replace(tzinfo=None)


def main():
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    signer = SigV4Auth(credentials, "execute-api", "us-east-1")
    request = AWSRequest(method="GET", url=URL, headers=dict(HEADERS))
    with mock.patch("botocore.auth.datetime.datetime", FixedDatetime):
        signer.add_auth(request)
        authorization = request.headers["Authorization"]
        assert f"SignedHeaders={EXPECTED_SIGNED_HEADERS}," in authorization, authorization

        number = 2000
        best = min(timeit.repeat(lambda: signer.add_auth(request), number=number, repeat=7))
        fresh = min(
            timeit.repeat(
                lambda: signer.add_auth(AWSRequest(method="GET", url=URL, headers=dict(HEADERS))),
                number=number,
                repeat=7,
            )
        )
    print(f"python {sys.version.split()[0]}, botocore {botocore.__version__}")
    print(f"authorization: {authorization}")
    print(f"botocore SigV4Auth.add_auth: {best / number * 1e9:.0f} ns per signature")
    print(f"botocore AWSRequest + add_auth: {fresh / number * 1e9:.0f} ns per signature")


if __name__ == "__main__":
    main()
