"""The address a request came from, for failed-login throttling and rate limits.

X-Forwarded-For is written by whoever sends the request, so it is read only when settings say how many
proxies in front of Berth append to it (BERTH_TRUSTED_PROXIES): then the address the outermost trusted
proxy saw is that many entries from the right, and whatever a client wrote before those entries is
ignored. Without trusted proxies the header is ignored and the address is the connection's.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote_addr = request.META.get("REMOTE_ADDR")
    proxies = settings.BERTH_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies < 1 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    # Fewer entries than trusted proxies: the request skipped one, so the leftmost is the best known.
    return hops[-min(proxies, len(hops))] or remote_addr
