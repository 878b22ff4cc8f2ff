"""First-run setup: a fresh store gets a local app, one API key and a grant for the demo avatar.

All three are written in one transaction, so a process killed during first start leaves either
nothing (the next start provisions again) or everything. A store left half-provisioned by an
older version (a ``local`` app with no key) is completed on the next start, with a new key.
"""

from __future__ import annotations

from .store import LocalSetup, Store

DEMO_AVATAR_ID = "demo"
LOCAL_APP_NAME = "local"

__all__ = ["DEMO_AVATAR_ID", "LOCAL_APP_NAME", "LocalSetup", "provision_if_empty", "usage_text"]


async def provision_if_empty(store: Store) -> LocalSetup | None:
    """Create (or complete) the local app, its key and the demo grant; None when the store has its apps."""
    await store.open()
    return await store.provision_local(LOCAL_APP_NAME, DEMO_AVATAR_ID)


def usage_text(base_url: str, setup: LocalSetup) -> str:
    """How to use a freshly provisioned server; printed once, because the key cannot be shown again."""
    head = ("Completed the local app an interrupted first start left without a key"
            if setup.recovered else "Created a local app for you")
    return (
        f"{head} (shown once, keep the key secret):\n"
        f"  App ID:  {setup.app_id}\n"
        f"  API key: {setup.api_key}\n"
        f"  allowed avatar: {DEMO_AVATAR_ID}\n\n"
        f"Get a session token (valid 1 h) with:\n"
        f"  curl -s -X POST {base_url}/v1/console/session-tokens \\\n"
        f"       -H 'X-Api-Key: {setup.api_key}' -H 'Content-Type: application/json' \\\n"
        f"       -d \"{{\\\"expireAt\\\": $(( $(date +%s) + 3600 ))}}\"\n\n"
        f"Then in Python: AvatarSDK.initialize('{setup.app_id}', Configuration(custom_endpoint='{base_url}'))\n"
        f"and AvatarSDK.set_session_token(<sessionToken>).\n"
    )
