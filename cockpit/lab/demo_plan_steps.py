"""The demo plan's steps, phase by phase, as templates the lab fills with the addresses, ports and durations it
uses (`demo_plan.render_demo_plan`). The comment above each step says why a careful operator runs it.

The order is the method's: pre-copy while mail still flows; park the MX and prove senders are refused; wait
out the caches and see the old store fall quiet; copy the delta and verify it; start the new MTA, let it
listen on the parking address too and prove, with a canary sent through the MX the nameservers serve, that
mail is delivered again (this ends the downtime); only then point the MX at the new MTA's own address, copy
what still reached old, verify again and restore the TTL.
"""

from __future__ import annotations

DELTA_SYNC = "delta-sync"
"""The sync pass in the downtime: its duration is the copy part of the downtime's floor."""
START_NEW_MTA = "start-new-mta"
OPEN_PARKING = "open-parking"
RECKLESS_SKIPS = frozenset(
    {"normal-ttl-wait", "old-ttl-wait", "old-quiet", "delta-verify", "stragglers-sync", "final-verify"}
)
"""Steps a reckless plan leaves out: no TTL waits (nor the quiet store that proves them), no stragglers pass, and
no verify (it would stop the hurried move at the delta, naming the mail that reached old too late)."""

Phase = tuple[str, tuple[tuple[str, str], ...]]

BEFORE: Phase = (
    "before",
    (
        (
            "lower-ttl",
            """\
      # Lower the MX TTL: once it is low, caches forget the MX within $low_ttl s after each change.
      - dns_update: {server: "$ns1", key: dnskey, mx: old, ttl: $low_ttl}
        id: lower-ttl
        title: Lower the MX TTL to $low_ttl s
        idempotent: true""",
        ),
        (
            "ttl-propagated",
            """\
      # Both nameservers must serve the low TTL (ns2 only after its lag).
      - wait_dns: {ttl_at_most: $low_ttl}
        id: ttl-propagated""",
        ),
        (
            "normal-ttl-wait",
            """\
      # A cache may still hold the MX with its former TTL: wait that out once, then every cache has the low one.
      - countdown: former_ttl
        id: normal-ttl-wait""",
        ),
        (
            "inventory-old",
            """\
      # What old holds, mailbox by mailbox, before anything is copied (reading changes nothing).
      - inventory: $old_store
        id: inventory-old""",
        ),
        (
            "pre-copy",
            """\
      # Pre-copy while mail still flows to old: every message new lacks, by identity (never a second copy),
      # so that the copy in the downtime is only a delta.
      - sync: {from: $old_store, to: $new_store}
        id: pre-copy
        title: Pre-copy the mail from old to new""",
        ),
        (
            "parking-refuses",
            """\
      # The parking address must refuse connections: senders then retry later instead of bouncing.
      - port: {address: $smtp_parking_address, port: $smtp_parking_port, expect: closed}
        id: parking-refuses""",
        ),
    ),
)

DURING: Phase = (
    "during",
    (
        (
            "mx-to-parking",
            """\
      # Point the MX at the parking address: from now on new deliveries are refused and queued by the senders.
      - dns_update: {server: "$ns1", key: dnskey, mx: parking}
        id: mx-to-parking
        idempotent: true""",
        ),
        (
            "parking-propagated",
            """\
      # Every nameserver must serve the parking MX before the wait starts.
      - wait_dns: {mx: parking}
        id: parking-propagated""",
        ),
        (
            "senders-refused",
            """\
      # As senders see it: every address of the MX now served refuses SMTP, so they keep the mail and retry.
      - canary: {expect: refused, port: $smtp_parking_port}
        id: senders-refused""",
        ),
        (
            "old-ttl-wait",
            """\
      # One old TTL after the last nameserver flipped, no cache still sends mail to the old MTA.
      - countdown: old_ttl
        id: old-ttl-wait""",
        ),
        (
            "old-quiet",
            """\
      # The evidence of that wait: nothing reached the old store for $quiet.
      - drain: {store: $old_store, quiet: $quiet}
        id: old-quiet""",
        ),
        (
            "delta-sync",
            """\
      # The delta: what reached old since the pre-copy (only what changed is read again).
      - sync: {from: $old_store, to: $new_store}
        id: delta-sync
        title: Copy the delta from old to new""",
        ),
        (
            "delta-verify",
            """\
      # Every message of old is on new, exactly as often, before any mail is let in there.
      - verify: {from: $old_store, to: $new_store}
        id: delta-verify""",
        ),
        (
            "start-new-mta",
            """\
      # Start the new MTA: the lab starts it when mta/enabled appears and writes mta/listening once it listens.
      - ssh:
          host: new
          run: >-
            mkdir -p mta && touch mta/enabled &&
            timeout 10 sh -c 'until [ -e mta/listening ]; do sleep 0.1; done' && cat mta/listening
          title: Start the MTA on new
        id: start-new-mta
        idempotent: true""",
        ),
        (
            "new-mta-listens",
            """\
      - port: {address: $smtp_new_address, port: $smtp_new_port, expect: open}
        id: new-mta-listens""",
        ),
        (
            "open-parking",
            """\
      # Open the parking address: the new MTA listens there too (the lab starts it when mta/parking appears),
      # so the senders, still sent to parking by the nameservers and the caches, deliver on their next try.
      - ssh:
          host: new
          run: >-
            mkdir -p mta && touch mta/parking &&
            timeout 10 sh -c 'until [ -e mta/parking-listening ]; do sleep 0.1; done' && cat mta/parking-listening
          title: Let the new MTA listen on the parking address
        id: open-parking
        idempotent: true""",
        ),
        (
            "parking-delivers",
            """\
      # The proof that ends the downtime: a message sent through the MX the nameservers serve now (parking)
      # lands in alice's mailbox on new.
      - canary: {expect: delivered, to: alice@$domain, store: $new_store, port: $smtp_parking_port, within: $within}
        id: parking-delivers""",
        ),
    ),
)

AFTER: Phase = (
    "after",
    (
        (
            "mx-to-new",
            """\
      # Mail flows again; now point the MX at the new MTA's own address.
      - dns_update: {server: "$ns1", key: dnskey, mx: new}
        id: mx-to-new
        idempotent: true""",
        ),
        (
            "new-propagated",
            """\
      - wait_dns: {mx: new}
        id: new-propagated""",
        ),
        (
            "stragglers-sync",
            """\
      # Stragglers: whatever still reached old after the delta (nothing, when the waits were kept).
      - sync: {from: $old_store, to: $new_store}
        id: stragglers-sync
        title: Copy the stragglers from old to new""",
        ),
        (
            "final-verify",
            """\
      # The last word: every message old ever received is on new, exactly as often.
      - verify: {from: $old_store, to: $new_store}
        id: final-verify""",
        ),
        (
            "restore-ttl",
            """\
      # The move is done: back to the normal MX TTL.
      - dns_update: {server: "$ns1", key: dnskey, mx: new, ttl: $normal_ttl}
        id: restore-ttl
        title: Restore the MX TTL to $normal_ttl s
        idempotent: true""",
        ),
    ),
)

PHASES: tuple[Phase, ...] = (BEFORE, DURING, AFTER)
