"""Models of the shared kernel: the heads of the audit chains (common.audit)."""

from common.audit import AuditChainHead  # noqa: F401
