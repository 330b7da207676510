"""Fakes of platform APIs: small aiohttp servers on 127.0.0.1, ephemeral ports, recording every request."""
