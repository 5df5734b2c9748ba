"""Stripe's refund events, applied to our refunds: registered with the payments app's webhook
dispatcher, which verifies each event's signature and applies each event once. Applying one
twice, or out of order, changes nothing anyway (`services.apply_provider_state` only moves a
refund's state forward)."""

from . import services


def handle(event) -> int:
    """Apply a Stripe event of one of `apps.REFUND_EVENT_TYPES` (a verified `stripe.Event`, or
    its JSON as a dict); returns the refunds it changed. Refunds not ours (made in Stripe's
    dashboard, say) are left to reconcile_payments."""
    if hasattr(event, "to_dict"):
        event = event.to_dict()
    obj = event.get("data", {}).get("object", {})
    if obj.get("object") == "charge":
        remotes = (obj.get("refunds") or {}).get("data") or []
    else:
        remotes = [obj]
    changed = 0
    for remote in remotes:
        ours = (remote.get("metadata") or {}).get("refund")
        refund_id = int(ours) if isinstance(ours, str) and ours.isdigit() else None
        if remote.get("id") and remote.get("status"):
            changed += services.apply_provider_state(refund_id, remote["id"], remote["status"])
    return changed
