"""The audit entry every app's trail is made of: who changed (or saw) what on one object, and when.

Written by services only, never edited (admin shows it read-only). Entries form tamper-evident hash
chains, one per subject (an SOS, an incident, ...): each stores its place in the chain (`chain_seq`), the
hash of the entry before it (`prev_hash`) and its own hash over its contents and those two
(`entry_hash`). `AuditChainHead` holds each chain's last hash and length, so that an edited, deleted or
inserted row, even the last one, no longer verifies (`verify_chain_model`, the `verify_audit_chain`
command).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

GENESIS_HASH = "0" * 64
# The contents every entry's hash covers. Not the actor's foreign key: deleting an account sets it to null,
# which must not look like tampering; the label, which is kept, is covered instead.
BASE_HASHED_FIELDS = ("action", "from_status", "to_status", "actor_label", "details", "created_at")


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def entry_content(obj, *, subject_field: str, extra_fields: tuple[str, ...]) -> dict:
    """What an entry's hash covers, from any object with the fields (a model or a migration's historical model)."""
    content = {name: _canonical(getattr(obj, name)) for name in (*BASE_HASHED_FIELDS, *extra_fields)}
    # A JSON round trip, so that the hash of an entry about to be saved equals that of the row read back.
    content["details"] = json.loads(json.dumps(content["details"] or {}, sort_keys=True, default=str))
    if subject_field:
        content[subject_field] = str(getattr(obj, f"{subject_field}_id"))
    return content


def chain_hash(*, chain: str, seq: int, prev_hash: str, content: dict) -> str:
    document = {"chain": chain, "seq": seq, "prev": prev_hash, "content": content}
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


class AuditChainHead(models.Model):
    """The end of one audit chain: its length and last hash; `base_*` where retention removed its oldest entries."""

    chain = models.CharField(max_length=160, unique=True)
    length = models.PositiveBigIntegerField(default=0, help_text="The seq of the last entry.")
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    base_seq = models.PositiveBigIntegerField(default=0, help_text="Entries up to this seq were purged.")
    base_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "common"
        ordering = ["chain"]

    def __str__(self):
        return f"{self.chain} ({self.length})"

    @classmethod
    def lock(cls, chain: str) -> AuditChainHead | None:
        """The chain's head under a row lock, or None for a chain not begun: appenders to one chain take turns here.

        Raw SQL because it runs with every audit entry, and building the ORM query cost more than the
        rest of the append (SQLite has no row locks: its writers already take turns for the whole transaction).
        """
        table = connection.ops.quote_name(cls._meta.db_table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, length, last_hash, base_seq, base_hash FROM {table} WHERE chain = %s{lock}",
                           [chain])
            row = cursor.fetchone()
        if row is None:
            return None
        pk, length, last_hash, base_seq, base_hash = row
        head = cls(pk=pk, chain=chain, length=length, last_hash=last_hash, base_seq=base_seq, base_hash=base_hash)
        head._state.adding, head._state.db = False, connection.alias
        return head

    def advance(self, *, length: int, last_hash: str) -> None:
        """Move the (locked) head to a new last entry."""
        self.length, self.last_hash = length, last_hash
        table = connection.ops.quote_name(self._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET length = %s, last_hash = %s, updated_at = %s WHERE id = %s",
                           [length, last_hash, timezone.now(), self.pk])

    @classmethod
    def begin(cls, chain: str, *, last_hash: str) -> bool:
        """Start a chain whose first entry hashes to `last_hash`; False if another writer started it first.

        One statement, no savepoint: on PostgreSQL a second writer's insert waits for the first's
        transaction and then does nothing, and the caller takes the head's lock instead.
        """
        table = connection.ops.quote_name(cls._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (chain, length, last_hash, base_seq, base_hash, updated_at) "
                "VALUES (%s, 1, %s, 0, %s, %s) ON CONFLICT (chain) DO NOTHING RETURNING id",
                [chain, last_hash, GENESIS_HASH, timezone.now()],
            )
            return cursor.fetchone() is not None


class AuditEntry(models.Model):
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150, help_text="Who acted, kept even if the account is deleted.")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    chain = models.CharField(max_length=160, editable=False, default="")
    chain_seq = models.PositiveBigIntegerField(null=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False, default="")
    entry_hash = models.CharField(max_length=64, editable=False, default="")

    # The field that points at the object whose trail this is ("sos_request", "incident").
    subject_field: str = ""
    # Fields of a subclass that its hash covers too.
    extra_hashed_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]
        constraints = [
            # Belt and braces for the head's lock: two entries can never take one place in a chain.
            models.UniqueConstraint(fields=["chain", "chain_seq"], name="%(app_label)s_%(class)s_chain_seq"),
        ]

    def chain_key(self) -> str:
        """The chain this entry belongs to: one per subject."""
        return f"{self._meta.label_lower}:{getattr(self, f'{self.subject_field}_id')}"

    def compute_hash(self) -> str:
        content = entry_content(self, subject_field=self.subject_field, extra_fields=self.extra_hashed_fields)
        return chain_hash(chain=self.chain, seq=self.chain_seq, prev_hash=self.prev_hash, content=content)

    @classmethod
    def append(cls, entry: AuditEntry) -> AuditEntry:
        """Add a prepared entry at the end of its chain, holding the chain's head so that no two writers fork it."""
        # No savepoint of its own: a failure here fails the caller's whole transaction, as it should.
        with transaction.atomic(savepoint=False):
            entry.chain = entry.chain_key()
            head = AuditChainHead.lock(entry.chain)
            if head is None:
                entry._place(seq=1, prev_hash=GENESIS_HASH)
                if AuditChainHead.begin(entry.chain, last_hash=entry.entry_hash):
                    entry.save(force_insert=True)
                    return entry
                head = AuditChainHead.lock(entry.chain)
            entry._place(seq=head.length + 1, prev_hash=head.last_hash)
            entry.save(force_insert=True)
            head.advance(length=entry.chain_seq, last_hash=entry.entry_hash)
        return entry

    def _place(self, *, seq: int, prev_hash: str) -> None:
        self.chain_seq, self.prev_hash = seq, prev_hash
        self.entry_hash = self.compute_hash()

    @classmethod
    def record(cls, subject, *, action: str, actor, from_status: str = "", details: dict | None = None):
        """Add an entry for `subject` (its current status is the entry's to_status); `actor` is a common.actors.Actor."""
        return cls.append(cls(
            **{cls.subject_field: subject},
            action=action,
            from_status=from_status,
            to_status=subject.status,
            actor=actor.db_user,
            actor_label=actor.label,
            details=details or {},
        ))


# Verification ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    chain: str
    entry_id: int | None
    seq: int | None
    problem: str

    def __str__(self):
        where = f"entry id {self.entry_id} (seq {self.seq})" if self.entry_id is not None else "its head"
        return f"{self.chain}: {where}: {self.problem}"


def _chain_breaks(chain: str, entries: list, head: AuditChainHead | None) -> Iterator[ChainBreak]:
    if head is None:
        first = entries[0]
        yield ChainBreak(chain, first.pk, first.chain_seq, "the chain has no head (head deleted, or rows inserted)")
        return
    expected_seq, expected_prev = head.base_seq + 1, head.base_hash
    for entry in entries:
        if entry.chain_key() != chain:
            yield ChainBreak(chain, entry.pk, entry.chain_seq, "the entry was moved to another subject (edited)")
            return
        if entry.chain_seq != expected_seq:
            problem = ("an entry before it is missing (deleted)" if entry.chain_seq > expected_seq
                       else "it is out of place (inserted)")
            yield ChainBreak(chain, entry.pk, entry.chain_seq, problem)
            return
        if entry.prev_hash != expected_prev:
            yield ChainBreak(chain, entry.pk, entry.chain_seq,
                             "its previous hash does not match the entry before it (an entry was replaced or inserted)")
            return
        if entry.compute_hash() != entry.entry_hash:
            yield ChainBreak(chain, entry.pk, entry.chain_seq, "its contents do not match its hash (edited)")
            return
        expected_seq, expected_prev = expected_seq + 1, entry.entry_hash
    if (head.length, head.last_hash) != (expected_seq - 1, expected_prev):
        last = entries[-1] if entries else None
        problem = ("entries after it are missing (deleted)" if head.length > expected_seq - 1
                   else "the head does not match the last entry (inserted or edited)")
        yield ChainBreak(chain, last.pk if last else None, last.chain_seq if last else None, problem)


def verify_chain_model(model: type[AuditEntry]) -> Iterator[ChainBreak]:
    """Every chain of `model`, checked link by link; yields the first break of each broken chain."""
    prefix = f"{model._meta.label_lower}:"
    heads = {head.chain: head for head in AuditChainHead.objects.filter(chain__startswith=prefix)}
    unchained = model.objects.filter(models.Q(chain_seq__isnull=True) | ~models.Q(chain__startswith=prefix))
    for entry in unchained.order_by("id")[:1]:
        yield ChainBreak(entry.chain or f"{prefix}?", entry.pk, entry.chain_seq, "the entry is in no chain (inserted)")
    current, entries = None, []
    rows = model.objects.filter(chain__startswith=prefix, chain_seq__isnull=False).order_by("chain", "chain_seq", "id")
    for entry in rows.iterator(chunk_size=2000):
        if entry.chain != current:
            if current is not None:
                yield from _chain_breaks(current, entries, heads.pop(current, None))
            current, entries = entry.chain, []
        entries.append(entry)
    if current is not None:
        yield from _chain_breaks(current, entries, heads.pop(current, None))
    for chain, head in heads.items():
        if head.length > head.base_seq:
            yield ChainBreak(chain, None, None, f"all {head.length - head.base_seq} entries are missing (deleted)")


def chain_heads_digest() -> str:
    """One SHA-256 over every chain's head: written down or published somewhere else, it lets a later
    check show that no chain was rewritten, head and all, since (each head's chain verifies up to it)."""
    digest = hashlib.sha256()
    for chain, length, last_hash, base_seq in AuditChainHead.objects.order_by("chain").values_list(
            "chain", "length", "last_hash", "base_seq").iterator(chunk_size=5000):
        digest.update(f"{chain}\t{length}\t{last_hash}\t{base_seq}\n".encode())
    return digest.hexdigest()


def backfill_chains(model, head_model, *, label: str, subject_field: str, extra_fields: tuple[str, ...] = (),
                    chain_of=None) -> None:
    """Chain the entries that existed before chains did, in the order they were written (for migrations)."""
    chain_of = chain_of or (lambda entry: f"{label}:{getattr(entry, f'{subject_field}_id')}")
    heads: dict[str, tuple[int, str]] = {}
    for entry in model.objects.order_by("created_at", "id").iterator(chunk_size=2000):
        chain = chain_of(entry)
        length, last_hash = heads.get(chain, (0, GENESIS_HASH))
        entry.chain, entry.chain_seq, entry.prev_hash = chain, length + 1, last_hash
        content = entry_content(entry, subject_field=subject_field, extra_fields=extra_fields)
        entry.entry_hash = chain_hash(chain=chain, seq=entry.chain_seq, prev_hash=last_hash, content=content)
        entry.save(update_fields=["chain", "chain_seq", "prev_hash", "entry_hash"])
        heads[chain] = (entry.chain_seq, entry.entry_hash)
    for chain, (length, last_hash) in heads.items():
        head_model.objects.update_or_create(chain=chain, defaults={"length": length, "last_hash": last_hash})
