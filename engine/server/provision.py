"""First-run setup: a fresh store gets a local app, one API key and a grant for the demo avatar."""

from __future__ import annotations

import attrs

from .store import Store

DEMO_AVATAR_ID = "demo"
LOCAL_APP_NAME = "local"


@attrs.frozen
class LocalSetup:
    app_id: str
    key_id: str
    api_key: str  # shown once; only its hash is stored


def provision_if_empty(store: Store) -> LocalSetup | None:
    """Create the local app, its key and the demo grant when the store has no apps; else None."""
    if store.list_apps():
        return None
    app_id = store.create_app(LOCAL_APP_NAME)
    key_id, api_key = store.create_key(app_id)
    store.grant(app_id, DEMO_AVATAR_ID)
    return LocalSetup(app_id, key_id, api_key)


def usage_text(base_url: str, setup: LocalSetup) -> str:
    """How to use a freshly provisioned server; printed once, because the key cannot be shown again."""
    return (
        f"Created a local app for you (shown once, keep the key secret):\n"
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
