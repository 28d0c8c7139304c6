"""The one hardened HTTP client for every outbound call of the project.

Every request we make to an address someone else chose (a subscriber's endpoint, a shop, an
API, a certificate URL) goes through here, under the same rules: a timeout on every call, no
redirects followed, a cap on how much of a response is read, and in production (without
WEBHOOKS_ALLOW_PRIVATE_URLS) no private, loopback, link-local or reserved address, checked on
the address actually connected to so that DNS rebinding cannot slip past a check made earlier.

- `guard`: which addresses and URLs are allowed.
- `client`: blocking calls (requests-hardened), for the API clients and one-off sends.
- `concurrent`: many requests in flight from one process (aiohttp on a background event
  loop), for the delivery engine.
- `result`: what a send returns instead of raising.
"""
