"""API keys: created from the CLI, shown once, stored as a digest."""

from __future__ import annotations

import hmac

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.models import ApiKey, utcnow
from dialer.security import generate_api_key, hash_api_key, split_api_key
from dialer.vocabulary import Scope

__all__ = ["authenticate", "create_api_key", "list_api_keys", "revoke_api_key"]


async def create_api_key(session: AsyncSession, name: str, scope: Scope = Scope.admin) -> str:
    """Store a new key and return its plaintext, which is never stored."""
    new = generate_api_key()
    session.add(ApiKey(name=name, prefix=new.prefix, key_hash=new.key_hash, scope=scope))
    await session.flush()
    return new.plaintext


async def authenticate(session: AsyncSession, plaintext: str) -> ApiKey | None:
    prefix = split_api_key(plaintext)
    if prefix is None:
        return None
    key = (await session.exec(select(ApiKey).where(ApiKey.prefix == prefix))).first()
    if key is None or key.revoked_at is not None:
        return None
    return key if hmac.compare_digest(key.key_hash, hash_api_key(plaintext)) else None


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.exec(select(ApiKey).order_by(col(ApiKey.id)))).all())


async def revoke_api_key(session: AsyncSession, prefix: str) -> ApiKey | None:
    """Revoke the key with this prefix (the part after `dk_`); None if there is none."""
    key = (await session.exec(select(ApiKey).where(ApiKey.prefix == prefix))).first()
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
