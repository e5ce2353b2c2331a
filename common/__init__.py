"""The shared kernel every app may import: errors, API plumbing, the actor, the audit entry, geography."""
