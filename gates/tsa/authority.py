"""Ask a timestamp authority (RFC 3161, over HTTP) to timestamp bytes about to be stored.

Writers call ``Timestamping.stamp`` with an entry's exact envelope bytes before writing
it. The answer is checked like an auditor would check it (pinned chain, our nonce, the
imprint of those bytes, and on the system clock a genTime that agrees with the entry's
time): a TSA that cannot be reached, refuses, or answers anything an auditor would
reject stops the write, so nothing is stored that verification would flag.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from gates.errors import StagegateError
from gates.tsa.chain import TsaChain
from gates.tsa.token import check_token, time_disagreement

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
#: Seconds to wait for the TSA; a writer blocked on it holds up a gate.
TIMEOUT = 10.0
#: A timestamp reply is a few kilobytes; anything this large is not one.
MAX_REPLY = 256 * 1024


class TimestampError(StagegateError):
    """No usable timestamp could be had from the configured TSA; nothing was written."""


@dataclass(frozen=True)
class Timestamping:
    """The TSA a workspace uses: the chain its tokens verify against, and (for writers)
    where to ask for them. Without ``url`` it only verifies."""

    chain: TsaChain
    url: str = ""
    timeout: float = TIMEOUT

    def stamp(
        self,
        envelope: bytes,
        *,
        entry_time: datetime,
        tolerance: timedelta | None,
        what: str,
    ) -> bytes:
        """The TSA's reply (a ``.tsr``) timestamping ``envelope``; TimestampError otherwise.

        ``tolerance``: how far genTime may stray from ``entry_time``; None on a simulated
        clock, whose times are not compared.
        """
        from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

        if not self.url:
            raise TimestampError(f"no timestamp authority URL to timestamp {what} with")
        request = (
            TimestampRequestBuilder()
            .hash_algorithm(HashAlgorithm.SHA256)
            .data(envelope)
            .nonce(nonce=True)
            # The chain comes from the settings; a token without certificates is smaller
            # and parses the same everywhere.
            .cert_request(cert_request=False)
            .build()
        )
        reply = self._post(request.as_bytes(), what)
        check = check_token(reply, envelope, self.chain, nonce=request.nonce)
        if not check.sound:
            raise TimestampError(
                f"refusing to write {what}: the timestamp authority at {self.url} answered "
                f"a token that does not verify: [{check.rule}] {check.problem}",
                hint="check [timestamp] tsa_certificate names this TSA's chain; nothing was written",
            )
        if tolerance is not None and check.gen_time is not None:
            disagreement = time_disagreement(check.gen_time, entry_time, tolerance)
            if disagreement:
                raise TimestampError(
                    f"refusing to write {what}: {disagreement}",
                    hint="this machine's clock or the TSA's is wrong; fix it (NTP) and retry; "
                    "nothing was written",
                )
        return reply

    def _post(self, query: bytes, what: str) -> bytes:
        request = urllib.request.Request(
            self.url,
            data=query,
            method="POST",
            headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                kind = answer.headers.get_content_type()
                body: bytes = answer.read(MAX_REPLY + 1)
        except urllib.error.HTTPError as e:
            raise self._unusable(what, f"it answered HTTP {e.code} {e.reason}") from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise self._unusable(what, f"it is unreachable ({reason})") from e
        if kind != REPLY_TYPE:
            raise self._unusable(what, f"it answered {kind}, not {REPLY_TYPE}")
        if len(body) > MAX_REPLY:
            raise self._unusable(what, f"its answer is larger than {MAX_REPLY} bytes")
        return body

    def _unusable(self, what: str, why: str) -> TimestampError:
        return TimestampError(
            f"cannot timestamp {what}: the timestamp authority at {self.url}: {why}; "
            "nothing was written",
            hint="entries are written only with a token when [timestamp] tsa_url is set; "
            "retry when the TSA is back",
        )
